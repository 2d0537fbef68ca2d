/* The revenue dashboard's charts, drawn from the JSON the page carries in #revenue-data. */
(function () {
  "use strict";

  function draw(canvasId, part, type, series) {
    var colors = {topups: "#198754", charges: "#0d6efd", grants: "#fd7e14"};
    var canvas = document.getElementById(canvasId);
    if (!canvas) return;
    new window.Chart(canvas, {
      type: type,
      data: {
        labels: part.labels,
        datasets: ["topups", "charges", "grants"].map(function (key) {
          return {
            label: series[key],
            data: part[key].map(Number),
            backgroundColor: colors[key],
            borderColor: colors[key]
          };
        })
      },
      options: {responsive: true, interaction: {mode: "index", intersect: false}}
    });
  }

  function init() {
    var source = document.getElementById("revenue-data");
    if (!window.Chart || !source) return;
    var data = JSON.parse(source.textContent);
    draw("chart-daily", data.daily, "line", data.series);
    draw("chart-monthly", data.monthly, "bar", data.series);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
