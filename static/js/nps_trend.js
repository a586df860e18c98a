// Draws the answers page's NPS line from the numbers the page embeds (json_script); the table
// beside it holds the same numbers, so nothing depends on this script.
(function () {
  "use strict";
  const source = document.getElementById("nps-trend-data");
  const canvas = document.getElementById("chart-nps-trend");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "line",
    data: {
      labels: data.labels,
      datasets: [{ label: "NPS", data: data.scores, borderColor: "#0d6efd", backgroundColor: "#0d6efd", tension: 0.2, spanGaps: true }],
    },
    options: { plugins: { legend: { display: false } }, scales: { y: { min: -100, max: 100 } } },
  });
})();
