/* The KPI pages' script: draws the charts and submits the period chooser.

   Strict CSP (script-src 'self'): no inline script. A chart is a
     <canvas data-kpi-chart="ID" [data-kpi-chart-type="line|bar"] [data-kpi-chart-max="100"]>
   whose data sits in <script type="application/json" id="ID"> written by Django's
   json_script: {"labels": [...], "datasets": [{"label", "data", "hidden"}]}.
   The numbers are always also in a table under the chart, so the page says everything
   without this script (and without Chart.js). */
(function () {
  "use strict";

  // Colour-blind-safe palette (Okabe–Ito), brand blue first.
  var COLOURS = ["#0b4f6c", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00", "#f0e442"];

  function readData(id) {
    var source = document.getElementById(id);
    if (!source) {
      return null;
    }
    try {
      return JSON.parse(source.textContent);
    } catch (error) {
      return null;
    }
  }

  function drawChart(canvas) {
    if (typeof window.Chart === "undefined") {
      return;
    }
    var data = readData(canvas.getAttribute("data-kpi-chart"));
    if (!data || !data.labels || !data.labels.length) {
      return;
    }
    var type = canvas.getAttribute("data-kpi-chart-type") || "line";
    var max = canvas.getAttribute("data-kpi-chart-max");
    var datasets = data.datasets.map(function (dataset, index) {
      var colour = COLOURS[index % COLOURS.length];
      return {
        label: dataset.label,
        data: dataset.data,
        hidden: Boolean(dataset.hidden),
        borderColor: colour,
        backgroundColor: colour,
        borderWidth: 2,
        pointRadius: 3,
        spanGaps: true,
        // Straight segments: a curve would overshoot and show values nobody had.
        tension: 0
      };
    });
    var scale = {beginAtZero: max !== null || type === "bar"};
    if (max !== null) {
      scale.max = Number(max);
    }
    // eslint-disable-next-line no-new
    new window.Chart(canvas, {
      type: type,
      data: {labels: data.labels, datasets: datasets},
      options: {
        responsive: true,
        // Taller on phones, where the chart is narrow.
        aspectRatio: window.innerWidth < 576 ? 1.3 : 2.6,
        animation: false,
        interaction: {mode: "index", intersect: false},
        plugins: {legend: {position: "bottom"}},
        scales: {y: scale}
      }
    });
  }

  function init() {
    var canvases = document.querySelectorAll("canvas[data-kpi-chart]");
    for (var i = 0; i < canvases.length; i++) {
      drawChart(canvases[i]);
    }
  }

  // The period chooser (and any select marked data-autosubmit) submits on change:
  // one tap less on a phone. The form's button stays for keyboards and no-JS.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target instanceof HTMLSelectElement && target.hasAttribute("data-autosubmit") && target.form) {
      if (typeof target.form.requestSubmit === "function") {
        target.form.requestSubmit();
      } else {
        target.form.submit();
      }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
