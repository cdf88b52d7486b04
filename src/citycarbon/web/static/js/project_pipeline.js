/* citycarbon project pipeline: approved and pending projects (stacked bars) beside the room before any project,
 * by district, as an ECharts bar chart. Drawn from <script type="application/json" id="project-pipeline-data">:
 * {categories: [district], approved: [10^4 tce], pending: [10^4 tce], room: [10^4 tce | null],
 *  labels: {approved, pending, room}} (no inline script, so CSP script-src 'self' holds). The table of the same
 * figures stays for readers without JavaScript. */
(function () {
  "use strict";
  if (window.citycarbonPipeline) { window.citycarbonPipeline.draw(); return; }
  var chart = null;

  function draw() {
    var el = document.getElementById("project-pipeline");
    var source = document.getElementById("project-pipeline-data");
    if (!el || !source || typeof echarts === "undefined" || el.getAttribute("data-drawn") === "1") { return; }
    var spec = JSON.parse(source.textContent);
    el.style.height = Math.max(280, 34 * spec.categories.length + 90) + "px";
    if (chart && !chart.isDisposed()) { chart.dispose(); }
    chart = echarts.init(el, null, { renderer: "canvas" });
    chart.setOption({
      animation: false,
      color: ["#0b3c6e", "#b9770e", "#1e8449"],
      textStyle: { fontFamily: "'Noto Sans CJK SC', 'Source Han Sans SC', 'Microsoft YaHei', sans-serif", fontSize: 14, color: "#111" },
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 12, right: 24, top: 40, bottom: 12, containLabel: true },
      xAxis: { type: "value", splitLine: { lineStyle: { color: "#ccc" } } },
      yAxis: { type: "category", data: spec.categories, inverse: true, axisLabel: { interval: 0 } },
      series: [
        { name: spec.labels.approved, type: "bar", stack: "projects", data: spec.approved },
        { name: spec.labels.pending, type: "bar", stack: "projects", data: spec.pending },
        { name: spec.labels.room, type: "bar", data: spec.room, itemStyle: { opacity: 0.55 } }
      ]
    });
    el.setAttribute("data-drawn", "1");
  }

  function resize() { if (chart && !chart.isDisposed() && document.body.contains(chart.getDom())) { chart.resize(); } }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () { draw(); resize(); });
  window.addEventListener("resize", resize);
  window.addEventListener("beforeprint", resize);
  window.citycarbonPipeline = { draw: draw };
})();
