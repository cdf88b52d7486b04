/* Render the accounting page's Sankey spec with the vendored ECharts on the server (SVG, no browser):
 * node sankey_ssr.js ECHARTS_JS SPEC_JSON → one JSON line (svg length, paths, labels found). ECharts throws
 * on a cyclic graph ("Sankey is a DAG"), so a zero exit also says the flow is acyclic. */
const echarts = require(process.argv[2]);
const spec = JSON.parse(require("fs").readFileSync(process.argv[3], "utf8"));
const labels = {};
spec.nodes.forEach(function (n) { labels[n.name] = n.label; });
const chart = echarts.init(null, null, { renderer: "svg", ssr: true, width: 1400, height: 640 });
chart.setOption({ animation: false, series: [{ type: "sankey", data: spec.nodes.map(function (n) { return { name: n.name }; }),
  links: spec.links, label: { formatter: function (p) { return labels[p.name]; } } }] });
const svg = chart.renderToSVGString();
console.log(JSON.stringify({ length: svg.length, paths: (svg.match(/<path/g) || []).length,
  labelled: spec.nodes.filter(function (n) { return svg.indexOf(n.label) >= 0; }).length }));
chart.dispose();
process.exit(0);
