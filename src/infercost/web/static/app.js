// infercost web app: draws the plotly figures the server embedded in each page.
// Each <div class="chart" data-figure="ID"> has its figure as JSON in <script id="ID">.
(function () {
  "use strict";
  function draw() {
    document.querySelectorAll("div.chart[data-figure]").forEach(function (el) {
      var src = document.getElementById(el.dataset.figure);
      if (!src || typeof Plotly === "undefined") { return; }
      var fig = JSON.parse(src.textContent);
      var layout = Object.assign({}, fig.layout || {}, { autosize: true });
      Plotly.newPlot(el, fig.data || [], layout, { responsive: true, displaylogo: false })
        .then(function () { el.dataset.drawn = "1"; });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
