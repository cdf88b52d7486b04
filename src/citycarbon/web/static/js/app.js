/* citycarbon cockpit: small page behaviours without inline script (CSP script-src 'self'). */
(function () {
  "use strict";
  /* [data-print] buttons open the browser's print dialog ("Save as PDF"); print.css lays the page out. */
  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target.closest("[data-print]") : null;
    if (target) {
      event.preventDefault();
      if (window.citycarbonCharts) { window.citycarbonCharts.resize(); }
      window.print();
    }
  });
})();
