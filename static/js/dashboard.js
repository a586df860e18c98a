// Draws the dashboard's charts from the numbers the page embeds (json_script); each chart has a
// table of the same numbers next to it, so nothing depends on this script.
(function () {
  "use strict";
  const source = document.getElementById("dashboard-data");
  if (!source || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const palette = ["#6c757d", "#0d6efd", "#198754", "#ffc107", "#dc3545", "#6610f2", "#20c997"];
  const draw = (id, config) => {
    const canvas = document.getElementById(id);
    if (canvas) new Chart(canvas, config);
  };
  draw("chart-statuses", {
    type: "doughnut",
    data: { labels: data.statuses.labels, datasets: [{ data: data.statuses.clients, backgroundColor: palette }] },
    options: { plugins: { legend: { position: "bottom" } } },
  });
  draw("chart-trend", {
    type: "line",
    data: {
      labels: data.trend.labels,
      datasets: data.trend.series.map((serie, index) => ({
        label: serie.label, data: serie.values, borderColor: palette[index], backgroundColor: palette[index], tension: 0.2,
      })),
    },
    options: { plugins: { legend: { position: "bottom" } }, scales: { y: { beginAtZero: true } } },
  });
  draw("chart-people", {
    type: "bar",
    data: {
      labels: data.people.labels,
      datasets: data.people.series.map((serie, index) => ({ label: serie.label, data: serie.values, backgroundColor: palette[index] })),
    },
    options: { indexAxis: "y", plugins: { legend: { position: "bottom" } }, scales: { x: { stacked: true }, y: { stacked: true } } },
  });
})();
