/* citycarbon pathways page (/pathways): slider read-outs, scenario picker, stale markers, two-column layout.
 * The redraw itself is HTMX (the lever form posts to /pathways/results with a 150 ms debounce) and charts.js
 * draws the swapped-in chart specs. No inline script (CSP script-src 'self'); layout styles are set through
 * the CSSOM, which style-src 'self' allows, and dropped for printing (the levers do not print). */
(function () {
  "use strict";

  function formatValue(input) {
    var v = parseFloat(input.value);
    if (isNaN(v)) { return "–"; }
    var unit = input.getAttribute("data-unit");
    var label = input.getAttribute("data-unit-label") || "";
    var lang = document.documentElement.lang || "zh-CN";
    if (unit === "dimensionless") {
      return (v * 100).toLocaleString(lang, { maximumFractionDigits: 1 }) + "%";
    }
    var digits = Math.abs(v) >= 100 ? 0 : (Math.abs(v) >= 10 ? 1 : 3);
    return v.toLocaleString(lang, { maximumFractionDigits: digits }) + " " + label;
  }

  function markStale(stale) {
    Array.prototype.forEach.call(document.querySelectorAll(".pathways-stale"), function (el) {
      el.hidden = !stale;
    });
  }

  function layout() {
    var grid = document.querySelector(".pathways-layout");
    var levers = document.querySelector(".pathways-levers");
    if (!grid || !levers) { return; }
    var wide = window.matchMedia && window.matchMedia("(min-width: 1100px)").matches;
    var printing = window.matchMedia && window.matchMedia("print").matches;
    if (wide && !printing) {
      grid.style.display = "grid";
      grid.style.gridTemplateColumns = "minmax(300px, 25rem) minmax(0, 1fr)";
      grid.style.gap = "1.5rem";
      grid.style.alignItems = "start";
      levers.style.position = "sticky";
      levers.style.top = "0.5rem";
      levers.style.maxHeight = "calc(100vh - 1rem)";
      levers.style.overflowY = "auto";
    } else {
      ["display", "gridTemplateColumns", "gap", "alignItems"].forEach(function (k) { grid.style[k] = ""; });
      ["position", "top", "maxHeight", "overflowY"].forEach(function (k) { levers.style[k] = ""; });
    }
    Array.prototype.forEach.call(document.querySelectorAll(".lever input[type=range]"), function (el) {
      el.style.width = "100%";
    });
    Array.prototype.forEach.call(document.querySelectorAll(".pathways-levers .lever"), function (el) {
      el.style.marginBottom = "0.9rem";
    });
  }

  document.addEventListener("input", function (event) {
    var el = event.target;
    if (el instanceof HTMLInputElement && el.type === "range" && el.closest("#pathways-form")) {
      var out = document.getElementById("out-" + el.name);
      if (out) { out.textContent = formatValue(el); }
      markStale(true);
    }
  });

  document.addEventListener("change", function (event) {
    var el = event.target;
    /* issue 17: the basis switch; the scenario picker keeps the chosen basis */
    if (el instanceof HTMLInputElement && el.type === "radio" && el.name === "basis") {
      var kept = document.getElementById("pathways-picker-basis");
      if (kept) { kept.value = el.value; }
    }
    if (el instanceof HTMLSelectElement && el.hasAttribute("data-autosubmit") && el.form) {
      el.form.submit();
    }
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    var target = event.detail && event.detail.target;
    if (target && target.id === "pathways-macc") {  /* issue 17: the MACC's year buttons show the year drawn */
      var body = target.querySelector("[data-macc-year]");
      var year = body ? body.getAttribute("data-macc-year") : "";
      Array.prototype.forEach.call(document.querySelectorAll("button[data-macc-year]"), function (b) {
        b.setAttribute("aria-pressed", b.getAttribute("data-macc-year") === year ? "true" : "false");
      });
    }
    if (target && (target.id === "pathways-wedges" || target.id === "pathways-ensemble" || target.id === "pathways-costs")) {
      var section = target.closest("section");
      var note = section ? section.querySelector(".pathways-stale") : null;
      if (note) { note.hidden = true; }
    }
  });

  /* printing: one column (the levers do not print), then the charts are redrawn for the new width */
  function relayout(printing) {
    var grid = document.querySelector(".pathways-layout");
    if (printing && grid) { grid.style.display = ""; grid.style.gridTemplateColumns = ""; }
    else { layout(); }
    if (window.citycarbonCharts) { window.citycarbonCharts.resize(); }
  }

  document.addEventListener("DOMContentLoaded", layout);
  window.addEventListener("resize", layout);
  window.addEventListener("beforeprint", function () { relayout(true); });
  window.addEventListener("afterprint", function () { relayout(false); });
  if (window.matchMedia) {
    var printQuery = window.matchMedia("print");
    if (printQuery.addEventListener) {
      printQuery.addEventListener("change", function (event) { relayout(event.matches); });
    }
  }
  if (document.readyState !== "loading") { layout(); }
})();
