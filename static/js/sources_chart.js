// Draws the sources page's new clients per source and month as stacked bars, from the numbers the
// page embeds (json_script); the table below holds the same numbers, so nothing depends on this.
(function () {
  "use strict";
  const source = document.getElementById("sources-chart-data");
  const canvas = document.getElementById("chart-sources");
  if (!source || !canvas || typeof Chart === "undefined") return;
  const data = JSON.parse(source.textContent);
  const colours = ["#0d6efd", "#198754", "#fd7e14", "#6f42c1", "#20c997", "#d63384", "#6c757d", "#adb5bd"];
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: data.series.map(function (series, index) {
        return { label: series.label, data: series.values, backgroundColor: colours[index % colours.length] };
      }),
    },
    options: { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } } } },
  });
})();
