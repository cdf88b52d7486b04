/* citycarbon governance board: the tasks × units heat map as an ECharts heatmap.
 * Drawn from <script type="application/json" id="gov-heatmap-data">: {tasks: [label], units: [label],
 * levels: [label, best first], colours: [colour per level], data: [[task index, unit index, level index]]}
 * (no inline script, so CSP script-src 'self' holds). The table of the same cells stays for readers without
 * JavaScript. */
(function () {
  "use strict";
  if (window.citycarbonGovBoard) { window.citycarbonGovBoard.draw(); return; }  /* loaded again by an HTMX swap */
  var chart = null;

  function draw() {
    var el = document.getElementById("gov-heatmap");
    var source = document.getElementById("gov-heatmap-data");
    if (!el || !source || typeof echarts === "undefined" || el.getAttribute("data-drawn") === "1") { return; }
    var spec = JSON.parse(source.textContent);
    el.style.height = Math.max(240, 22 * spec.units.length + 90) + "px";
    if (chart && !chart.isDisposed()) { chart.dispose(); }
    chart = echarts.init(el, null, { renderer: "canvas" });
    var pieces = spec.levels.map(function (label, i) { return { value: i, label: label, color: spec.colours[i] }; });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif", fontSize: 12, color: "#111" },
      grid: { left: 150, right: 16, top: 8, bottom: 70 },
      tooltip: {
        formatter: function (p) {
          return spec.units[p.data[1]] + " · " + spec.tasks[p.data[0]] + "<br>" + spec.levels[p.data[2]];
        }
      },
      xAxis: { type: "category", data: spec.tasks, splitArea: { show: true }, axisLabel: { rotate: 60, interval: 0 } },
      yAxis: { type: "category", data: spec.units, inverse: true, splitArea: { show: true }, axisLabel: { interval: 0 } },
      visualMap: { type: "piecewise", pieces: pieces, orient: "horizontal", left: "center", bottom: 0, dimension: 2 },
      series: [{ type: "heatmap", data: spec.data, itemStyle: { borderColor: "#fff", borderWidth: 1 } }]
    });
    el.setAttribute("data-drawn", "1");
  }

  function resize() { if (chart && !chart.isDisposed() && document.body.contains(chart.getDom())) { chart.resize(); } }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () { draw(); resize(); });
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.citycarbonGovBoard = { draw: draw };
})();
