/* citycarbon cockpit charts: every element with data-chart="ID" is drawn from the JSON spec in
 * <script type="application/json" id="chart-ID"> (no inline script, so CSP script-src 'self' holds).
 * Spec: {type: line|bar|stacked|pie|spark|waterfall|macc, categories: [...], series: [{name, data, dashed}],
 *        unit, horizontal, target}. Large fonts and high contrast for projectors; no animation (print/PDF). */
(function () {
  "use strict";
  var PALETTE = ["#0b3c6e", "#c0392b", "#1e8449", "#b9770e", "#6c3483", "#117a65", "#566573", "#a04000",
                 "#1a5276", "#7d6608", "#943126", "#0e6251", "#4a235a", "#784212", "#212f3d", "#186a3b"];
  var charts = [];

  function fontSize(el) { return el.classList.contains("spark") ? 12 : 16; }

  function baseOption(spec, el) {
    var fs = fontSize(el);
    return {
      animation: false,
      color: PALETTE,
      textStyle: { fontFamily: "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif", fontSize: fs, color: "#111" },
      tooltip: { trigger: spec.type === "pie" ? "item" : "axis", textStyle: { fontSize: fs } },
      grid: { left: 12, right: 24, top: spec.series.length > 1 || spec.type === "stacked" ? 48 : 20, bottom: 12, containLabel: true }
    };
  }

  function legend(spec, el) {
    return { show: spec.series.length > 1, top: 0, textStyle: { fontSize: fontSize(el) } };
  }

  function axisCommon(el) {
    return { axisLabel: { fontSize: fontSize(el), color: "#111" }, axisLine: { lineStyle: { color: "#333" } } };
  }

  function lineOrBar(spec, el) {
    var option = baseOption(spec, el);
    var category = Object.assign({ type: "category", data: spec.categories }, axisCommon(el));
    var value = Object.assign({ type: "value", name: spec.unit || "", nameTextStyle: { fontSize: fontSize(el) },
      scale: spec.type === "line", splitLine: { lineStyle: { color: "#ccc" } } }, axisCommon(el));
    if (spec.horizontal) { option.xAxis = value; option.yAxis = category; value.name = ""; category.axisLabel.interval = 0; }
    else { option.xAxis = category; option.yAxis = value; }
    option.legend = legend(spec, el);
    option.series = spec.series.map(function (s) {
      var kind = spec.type === "line" ? "line" : "bar";
      var out = { name: s.name, type: kind, data: s.data, connectNulls: !!s.connect, symbolSize: 8,
                  lineStyle: { width: 3, type: s.dashed ? "dashed" : "solid" } };
      if (spec.type === "stacked") { out.stack = "total"; }
      return out;
    });
    return option;
  }

  function spark(spec, el) {
    var option = baseOption(spec, el);
    option.grid = { left: 4, right: 8, top: 8, bottom: 4, containLabel: true };
    option.xAxis = { type: "category", data: spec.categories, axisLabel: { fontSize: 11, color: "#333" }, axisTick: { show: false } };
    option.yAxis = { type: "value", scale: true, axisLabel: { fontSize: 11, color: "#333" }, splitNumber: 2,
                     splitLine: { lineStyle: { color: "#ddd" } } };
    option.series = spec.series.map(function (s, i) {
      var out = { name: s.name, type: "line", data: s.data, showSymbol: i > 0, symbolSize: 6, connectNulls: !!s.connect,
                  lineStyle: { width: 3, type: s.dashed ? "dashed" : "solid" } };
      if (i === 0 && spec.target !== undefined && spec.target !== null) {
        out.markLine = { symbol: "none", silent: true, label: { show: true, formatter: "{c}", fontSize: 11 },
                         lineStyle: { color: "#c0392b", type: "dotted", width: 2 }, data: [{ yAxis: spec.target }] };
      }
      return out;
    });
    return option;
  }

  function pie(spec, el) {
    var option = baseOption(spec, el);
    var data = spec.categories.map(function (c, i) { return { name: c, value: spec.series[0].data[i] }; });
    option.legend = { show: false };
    option.series = [{ type: "pie", radius: ["30%", "65%"], data: data,
      label: { fontSize: fontSize(el) - 2, formatter: "{b}\n{d}%" } }];
    return option;
  }

  function waterfall(spec, el) {
    var option = baseOption(spec, el);
    var values = spec.series[0].data, n = values.length, helper = [], bars = [], total = values[0];
    for (var i = 0; i < n; i++) {
      var v = values[i];
      if (i === 0 || i === n - 1) { helper.push(0); bars.push({ value: v, itemStyle: { color: "#0b3c6e" } }); continue; }
      helper.push(v >= 0 ? total : total + v);
      bars.push({ value: Math.abs(v), itemStyle: { color: v >= 0 ? "#c0392b" : "#1e8449" }, real: v });
      total += v;
    }
    option.xAxis = Object.assign({ type: "category", data: spec.categories }, axisCommon(el));
    option.yAxis = Object.assign({ type: "value", name: spec.unit || "", scale: false }, axisCommon(el));
    option.tooltip = { trigger: "item", textStyle: { fontSize: fontSize(el) } };
    option.series = [
      { type: "bar", stack: "w", data: helper, itemStyle: { color: "transparent" }, emphasis: { disabled: true }, tooltip: { show: false } },
      { type: "bar", stack: "w", data: bars, label: { show: true, position: "top", fontSize: fontSize(el) - 2,
        formatter: function (p) { var r = p.data.real; return (r === undefined ? p.value : r).toLocaleString(undefined, { maximumFractionDigits: 1 }); } } }
    ];
    return option;
  }

  /* issue 17: the marginal abatement cost curve — one rectangle per measure, as wide as its abatement
   * (spec.bars[i].start → end on the x axis, spec.x_unit) and as high as its cost per tonne (spec.unit);
   * negative costs hang below the axis. Tooltips: the measure's name and spec.labels in the page's language. */
  function macc(spec, el) {
    var option = baseOption(spec, el);
    var fs = fontSize(el);
    var labels = spec.labels || {};
    var number = function (v, d) { return Number(v).toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: d }); };
    var data = spec.bars.map(function (b, i) {
      /* issue 17 (webunc): dims 4, 5: the ensemble's p5 and p95 of the cost per tonne (the whisker; the bar's
       * height when the ensemble gives none), so the y axis spans the whiskers too */
      var low = b.mac_p5 === null || b.mac_p5 === undefined ? b.mac : b.mac_p5;
      var high = b.mac_p95 === null || b.mac_p95 === undefined ? b.mac : b.mac_p95;
      return { value: [b.start, b.end, b.mac, i, low, high], name: b.name,
               itemStyle: { color: b.mac < 0 ? "#1e8449" : PALETTE[i % PALETTE.length], borderColor: "#fff", borderWidth: 1 } };
    });
    option.legend = { show: false };
    option.grid = { left: 12, right: 24, top: 40, bottom: 36, containLabel: true };
    option.xAxis = Object.assign({ type: "value", name: spec.x_unit || "", nameLocation: "middle", nameGap: 34,
      min: 0, nameTextStyle: { fontSize: fs }, splitLine: { show: false } }, axisCommon(el));
    option.yAxis = Object.assign({ type: "value", name: spec.unit || "", nameTextStyle: { fontSize: fs },
      splitLine: { lineStyle: { color: "#ccc" } } }, axisCommon(el));
    /* issue 17 (webunc): the axis of the substantial bars (spec.y_min/y_max); thin bars and whiskers beyond it are clipped */
    if (spec.y_min !== undefined && spec.y_max !== undefined) { option.yAxis.min = spec.y_min; option.yAxis.max = spec.y_max; }
    option.tooltip = { trigger: "item", textStyle: { fontSize: fs }, formatter: function (p) {
      var b = spec.bars[p.value[3]];
      return "<strong>" + echarts.format.encodeHTML(b.name) + "</strong><br>" +
        echarts.format.encodeHTML(labels.abatement || "") + ": " + number(b.abatement, 1) + " " + echarts.format.encodeHTML(spec.x_unit || "") + "<br>" +
        echarts.format.encodeHTML(labels.mac || "") + ": " + number(b.mac, 0) + " " + echarts.format.encodeHTML(spec.unit || "") + "<br>" +
        echarts.format.encodeHTML(labels.cost || "") + ": " + number(b.cost, 1) + " " + echarts.format.encodeHTML(labels.cost_unit || "") +
        (b.mac_p5 === null || b.mac_p5 === undefined ? "" : "<br>" + echarts.format.encodeHTML(labels.range || "") + ": " +
          echarts.format.encodeHTML(labels.mac || "") + " " + number(b.mac_p5, 0) + " – " + number(b.mac_p95, 0) + " " + echarts.format.encodeHTML(spec.unit || "") + "; " +
          echarts.format.encodeHTML(labels.abatement || "") + " " + number(b.abatement_p5, 1) + " – " + number(b.abatement_p95, 1) + " " + echarts.format.encodeHTML(spec.x_unit || ""));
    } };
    option.series = [{
      type: "custom", data: data, encode: { x: [0, 1], y: [2, 4, 5] }, clip: true,
      renderItem: function (params, api) {
        var left = api.coord([api.value(0), 0]);
        var right = api.coord([api.value(1), api.value(2)]);
        var top = Math.min(left[1], right[1]);
        var bar = { type: "rect", shape: { x: left[0], y: top, width: Math.max(right[0] - left[0], 1),
                    height: Math.max(Math.abs(right[1] - left[1]), 1) }, style: api.style() };
        /* issue 17 (webunc): the p5–p95 whisker at the bar's middle, with caps */
        var mid = (left[0] + right[0]) / 2, cap = Math.min(6, Math.max((right[0] - left[0]) / 3, 2));
        var lo = api.coord([api.value(0), api.value(4)])[1], hi = api.coord([api.value(0), api.value(5)])[1];
        if (lo === hi) { return bar; }
        var ink = { stroke: "#111", lineWidth: 1.5 };
        return { type: "group", children: [bar,
          { type: "line", shape: { x1: mid, y1: lo, x2: mid, y2: hi }, style: ink, silent: true },
          { type: "line", shape: { x1: mid - cap, y1: lo, x2: mid + cap, y2: lo }, style: ink, silent: true },
          { type: "line", shape: { x1: mid - cap, y1: hi, x2: mid + cap, y2: hi }, style: ink, silent: true }] };
      }
    }];
    return option;
  }

  function optionFor(spec, el) {
    switch (spec.type) {
      case "macc": return macc(spec, el);
      case "spark": return spark(spec, el);
      case "pie": return pie(spec, el);
      case "waterfall": return waterfall(spec, el);
      default: return lineOrBar(spec, el);
    }
  }

  function draw(root) {
    if (typeof echarts === "undefined") { return; }
    var nodes = (root || document).querySelectorAll("[data-chart]");
    Array.prototype.forEach.call(nodes, function (el) {
      if (el.getAttribute("data-drawn") === "1") { return; }
      var source = document.getElementById("chart-" + el.getAttribute("data-chart"));
      if (!source) { return; }
      var spec = JSON.parse(source.textContent);
      if (!spec.series || !spec.series.length || !spec.categories || !spec.categories.length) {
        el.classList.add("chart-empty");
        el.textContent = el.getAttribute("data-empty") || "–";
        return;
      }
      if (spec.horizontal && spec.categories.length > 8 && !el.classList.contains("spark")) {
        el.style.height = (spec.categories.length * 30 + 60) + "px";  /* one readable row per category */
      }
      var chart = echarts.init(el, null, { renderer: "canvas" });
      chart.setOption(optionFor(spec, el));
      el.setAttribute("data-drawn", "1");
      charts.push(chart);
    });
  }

  function resizeAll() {
    charts = charts.filter(function (c) { return !c.isDisposed() && document.body.contains(c.getDom()); });
    charts.forEach(function (c) { c.resize(); });
  }

  document.addEventListener("DOMContentLoaded", function () { draw(document); });
  /* after an HTMX swap: the swapped element may be detached (outerHTML), so look at the whole page */
  document.addEventListener("htmx:load", function () { draw(document); });
  document.addEventListener("htmx:afterSettle", function () { draw(document); resizeAll(); });
  window.addEventListener("resize", resizeAll);
  window.addEventListener("beforeprint", resizeAll);
  window.addEventListener("afterprint", resizeAll);
  if (window.matchMedia) {
    var mq = window.matchMedia("print");
    if (mq.addEventListener) { mq.addEventListener("change", resizeAll); }
  }
  window.citycarbonCharts = { draw: draw, resize: resizeAll };
})();
