/* citycarbon accounting page: the year's energy flow (能流图) as an ECharts Sankey.
 * Drawn from <script type="application/json" id="sankey-energy-flow">: {unit, method, nodes: [{name (code),
 * label, kind}], links: [{source, target, value}]} (no inline script, so CSP script-src 'self' holds).
 * Node names are the translated labels; the tooltip gives the value with its unit. The table of the same
 * flows stays for readers without JavaScript (closed once the chart is drawn). */
(function () {
  "use strict";
  if (window.citycarbonFlows) { window.citycarbonFlows.draw(); return; }  /* loaded again by an HTMX swap */
  var COLOURS = { source: "#0b3c6e", carrier: "#1a5276", transformation: "#b9770e", use: "#1e8449",
                  loss: "#c0392b", sink: "#566573" };
  var chart = null;

  function fmt(value) {
    return Number(value).toLocaleString(document.documentElement.lang || undefined, { maximumFractionDigits: 2 });
  }

  function draw() {
    var el = document.getElementById("energy-flow");
    var source = document.getElementById("sankey-energy-flow");
    if (!el || !source || typeof echarts === "undefined" || el.getAttribute("data-drawn") === "1") { return; }
    var spec = JSON.parse(source.textContent);
    var labels = {};
    spec.nodes.forEach(function (n) { labels[n.name] = n.label; });
    if (chart && !chart.isDisposed()) { chart.dispose(); }
    chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      textStyle: { fontFamily: "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif", fontSize: 14, color: "#111" },
      tooltip: {
        trigger: "item",
        formatter: function (p) {
          if (p.dataType === "edge") {
            return labels[p.data.source] + " → " + labels[p.data.target] + "<br>" + fmt(p.data.value) + " " + spec.unit;
          }
          return labels[p.name] + "<br>" + fmt(p.value) + " " + spec.unit;
        }
      },
      series: [{
        type: "sankey", left: 8, right: 150, top: 8, bottom: 8, nodeGap: 10, draggable: false,
        emphasis: { focus: "adjacency" },
        label: { fontSize: 13, formatter: function (p) { return labels[p.name]; } },
        lineStyle: { color: "gradient", opacity: 0.45 },
        data: spec.nodes.map(function (n) { return { name: n.name, itemStyle: { color: COLOURS[n.kind] || "#333" } }; }),
        links: spec.links
      }]
    });
    el.setAttribute("data-drawn", "1");
    el.setAttribute("data-link-count", String(spec.links.length));
    var table = document.querySelector("details.flow-table");
    if (table) { table.removeAttribute("open"); }
  }

  function resize() { if (chart && !chart.isDisposed() && document.body.contains(chart.getDom())) { chart.resize(); } }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () { draw(); resize(); });
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.citycarbonFlows = { draw: draw };
})();
