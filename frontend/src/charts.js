// The charts bundle (frontend/dist/charts.js, built apart from aviary.js so that pages
// without a chart never download Chart.js). Loaded by templates/executions/_daily_chart.html.
//
// window.aviary.charts = Map(element id -> Chart)

import { charts, mountDailyCharts } from "./charts/daily.js";

window.aviary = Object.assign(window.aviary || {}, { charts });

document.addEventListener("htmx:load", (event) => mountDailyCharts(event.detail && event.detail.elt));

if (document.readyState === "loading") {
  document.addEventListener("DOMContentLoaded", () => mountDailyCharts(document));
} else {
  mountDailyCharts(document);
}
