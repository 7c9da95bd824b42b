// The survey results' charts (templates/surveys/_results.html): data from json_script, no inline script.
(function () {
  "use strict";
  function draw() {
    var source = document.getElementById("survey-chart-data");
    if (!source || !window.Chart) { return; }
    var data = JSON.parse(source.textContent);
    var trend = document.getElementById("survey-trend-chart");
    if (trend) {
      new Chart(trend, {
        type: "line",
        data: {labels: data.months, datasets: [
          {label: "NPS (−100…100)", data: data.nps, borderColor: "#0b5ed7", backgroundColor: "#0b5ed7", spanGaps: true, yAxisID: "y"},
          {label: "CSAT % satisfied", data: data.csat, borderColor: "#198754", backgroundColor: "#198754", spanGaps: true, yAxisID: "y"}
        ]},
        options: {maintainAspectRatio: false, scales: {y: {min: -100, max: 100}}}
      });
    }
    var spread = document.getElementById("survey-distribution-chart");
    if (spread) {
      var nps = data.distribution.nps, csat = data.distribution.csat;
      var useNps = nps.counts.some(function (n) { return n > 0; });
      var chosen = useNps ? nps : csat;
      var colours = chosen.labels.map(function (label) {
        var score = Number(label);
        if (useNps) { return score >= 9 ? "#198754" : score >= 7 ? "#6c757d" : "#dc3545"; }
        return score >= 4 ? "#198754" : score === 3 ? "#6c757d" : "#dc3545";
      });
      new Chart(spread, {
        type: "bar",
        data: {labels: chosen.labels, datasets: [{label: useNps ? "NPS answers" : "CSAT answers", data: chosen.counts, backgroundColor: colours}]},
        options: {maintainAspectRatio: false, plugins: {legend: {display: false}}, scales: {y: {beginAtZero: true, ticks: {precision: 0}}}}
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
