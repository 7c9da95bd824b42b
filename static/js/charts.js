// Charts from data in the page: <canvas data-chart="KIND" data-source="ID"> reads the JSON of
// <script type="application/json" id="ID"> (Django's json_script). Every chart's numbers are also
// in a table on the page; no inline script (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  const COLORS = {healthy: "#198754", watch: "#ffc107", at_risk: "#dc3545", unknown: "#adb5bd"};
  const PALETTE = ["#0d6efd", "#6610f2", "#6f42c1", "#d63384", "#dc3545", "#fd7e14", "#ffc107",
                   "#198754", "#20c997", "#0dcaf0", "#6c757d", "#343a40"];

  function coverageColor(value) {  // the table's thresholds: red under 70 %, amber under 90 %
    return value < 70 ? "#dc3545" : value < 90 ? "#ffc107" : "#198754";
  }

  const BUILDERS = {
    bands: (data) => ({
      type: "line",
      data: {labels: data.labels, datasets: ["healthy", "watch", "at_risk", "unknown"].map((band, i) => ({
        label: {healthy: "Healthy", watch: "Watch", at_risk: "At risk", unknown: "Unknown"}[band],
        data: data[band], borderColor: COLORS[band], backgroundColor: COLORS[band] + "99",
        fill: i === 0 ? "origin" : "-1", tension: 0.2, pointRadius: data.labels.length > 40 ? 0 : 2,
      }))},
      options: {maintainAspectRatio: false, scales: {y: {stacked: true, beginAtZero: true}},
                interaction: {mode: "index", intersect: false}},
    }),
    coverage: (data) => ({
      type: "bar",
      data: {labels: data.labels, datasets: [{label: "Coverage %", data: data.coverage,
        backgroundColor: data.coverage.map(coverageColor)}]},
      options: {indexAxis: "y", maintainAspectRatio: false, scales: {x: {min: 0, max: 100}},
                plugins: {legend: {display: false}}},
    }),
    cohorts: (data) => ({
      type: "line",
      data: {labels: data.labels, datasets: data.series.map((series, i) => ({
        label: series.label, data: series.data, borderColor: PALETTE[i % PALETTE.length],
        backgroundColor: PALETTE[i % PALETTE.length], spanGaps: false, tension: 0.1,
      }))},
      options: {maintainAspectRatio: false, scales: {y: {min: 0, max: 100}}},
    }),
    history: (data) => {
      const start = new Date(data.start + "T00:00:00");
      // Days as the pages write them (retention/formats): "27 Oct 2026" (a browser's own "short"
      // month differs: "Sept" in some).
      const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];
      const day = (x) => {
        const date = new Date(start.getTime() + x * 86400000);
        return `${date.getDate()} ${MONTHS[date.getMonth()]} ${date.getFullYear()}`;
      };
      return {
        type: "line",
        data: {datasets: [{label: "Health score", data: data.points, stepped: true,
          borderColor: "#0d6efd", backgroundColor: "#0d6efd33", fill: true, pointRadius: 2}]},
        options: {maintainAspectRatio: false, parsing: false,
          scales: {y: {min: 0, max: 100},
                   x: {type: "linear", ticks: {maxTicksLimit: 5, callback: (value) => day(value)}}},
          plugins: {legend: {display: false},
                    tooltip: {callbacks: {title: (items) => "From " + day(items[0].parsed.x)}}}},
      };
    },
  };

  function draw() {
    if (!window.Chart) return;
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const source = document.getElementById(canvas.dataset.source);
      const build = BUILDERS[canvas.dataset.chart];
      if (!source || !build || window.Chart.getChart(canvas)) return;
      new window.Chart(canvas, build(JSON.parse(source.textContent)));
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
