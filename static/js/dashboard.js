/* Charts of the dashboards and the public statistics (Chart.js, vendored).
   Every <canvas data-chart="ID"> is drawn from the JSON in <script type="application/json"
   id="ID"> (Django's json_script): data, not code, so the Content-Security-Policy
   (script-src 'self') allows it. The table under each chart holds the same numbers. */
(function () {
  "use strict";

  if (typeof window.Chart === "undefined") {
    return;
  }
  var PALETTE = ["#0b4f6c", "#20a39e", "#d1495b", "#edae49", "#66a182", "#8d6a9f", "#00798c", "#30638e"];
  var HORIZONTAL_ROW_PX = 26;

  function color(index) {
    return PALETTE[index % PALETTE.length];
  }

  function datasetsOf(spec) {
    return (spec.datasets || []).map(function (source, index) {
      var dataset = { label: source.label, data: source.data };
      if (spec.type === "doughnut") {
        dataset.backgroundColor = spec.labels.map(function (_label, j) { return color(j); });
      } else if (spec.type === "line") {
        dataset.borderColor = color(index);
        dataset.backgroundColor = color(index);
        dataset.tension = 0.2;
        dataset.fill = false;
      } else {
        dataset.backgroundColor = color(index);
      }
      return dataset;
    });
  }

  function aspectRatio(canvas, spec, horizontal) {
    if (spec.type === "doughnut") {
      return 1.6;
    }
    if (!horizontal) {
      return spec.type === "line" ? 3 : 2.2;
    }
    // A horizontal bar chart grows with its number of rows, so every label stays readable.
    var width = (canvas.parentElement && canvas.parentElement.clientWidth) || 600;
    var height = 60 + HORIZONTAL_ROW_PX * Math.max(1, spec.labels.length) * Math.max(1, (spec.datasets || []).length * 0.6);
    return Math.max(0.3, width / height);
  }

  function draw(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var spec;
    try {
      spec = JSON.parse(source.textContent);
    } catch (error) {
      return;
    }
    var options = spec.options || {};
    var horizontal = options.indexAxis === "y";
    var datasets = datasetsOf(spec);
    var scales = {};
    if (spec.type !== "doughnut") {
      scales = {
        x: { beginAtZero: true, ticks: { precision: 0 } },
        y: { beginAtZero: true, ticks: { precision: 0 } }
      };
    }
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true,
        maintainAspectRatio: true,
        aspectRatio: aspectRatio(canvas, spec, horizontal),
        indexAxis: horizontal ? "y" : "x",
        animation: false,
        plugins: { legend: { display: datasets.length > 1 || spec.type === "doughnut" } },
        scales: scales
      }
    });
    canvas.setAttribute("data-chart-ready", "true");
    return chart;
  }

  var canvases = document.querySelectorAll("canvas[data-chart]");
  for (var i = 0; i < canvases.length; i++) {
    draw(canvases[i]);
  }
})();
