// The executions-per-day chart: a stacked bar per UTC day, one colour per state, on every
// [data-daily-chart] element (templates/executions/_daily_chart.html), e.g.
//
//   <section data-daily-chart data-api-url="/api/v1/acme/stats/executions/daily"
//            data-list-url="/ui/acme/executions/" data-days="30">
//     <button data-chart-days="7" aria-pressed="false">7 days</button> ...
//     <canvas></canvas>  <p data-chart-caption></p>  <p data-chart-empty hidden></p>
//     <script type="application/json">[{"startDate": "2026-11-01",
//                                        "executionCounts": {"SUCCESS": 3, ...}}, ...]</script>
//   </section>
//
// The first range comes with the page (no request); another range is fetched from the stats
// API with the session cookie. Clicking a bar opens the list filtered to that day (and to
// the state under the pointer).

import { BarController, BarElement, CategoryScale, Chart, Legend, LinearScale, Tooltip } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, Legend, Tooltip);

// Stacking order, bottom up: ended states first, then the ones still moving.
const STATES = [
  ["SUCCESS", "#03a16c"],
  ["WARNING", "#f0a020"],
  ["FAILED", "#d92d3a"],
  ["KILLED", "#8b8d9c"],
  ["CANCELLED", "#b5b6c4"],
  ["SKIPPED", "#d4d5de"],
  ["RETRIED", "#e58a3a"],
  ["RETRYING", "#b45300"],
  ["PAUSED", "#6941c6"],
  ["RUNNING", "#2f6fdb"],
  ["KILLING", "#5b8de4"],
  ["RESTARTED", "#7aa5ee"],
  ["CREATED", "#9dbdf3"],
  ["QUEUED", "#c2d6f8"],
];
const DAY_MS = 86_400_000;

/** Chart instances by element id (for scripts and tests): window.aviary.charts. */
export const charts = new Map();
let counter = 0;

function countOf(day, state) {
  return (day.executionCounts && day.executionCounts[state]) || 0;
}

function datasets(days) {
  return STATES.filter(([state]) => days.some((day) => countOf(day, state) > 0)).map(([state, color]) => ({
    label: state,
    data: days.map((day) => countOf(day, state)),
    backgroundColor: color,
    stack: "states",
    borderRadius: 2,
    maxBarThickness: 28,
  }));
}

function summary(days) {
  const totals = new Map();
  for (const [state] of STATES) {
    const count = days.reduce((sum, day) => sum + countOf(day, state), 0);
    if (count) totals.set(state, count);
  }
  const total = [...totals.values()].reduce((sum, count) => sum + count, 0);
  const parts = [...totals].map(([state, count]) => `${count} ${state}`);
  const noun = total === 1 ? "execution" : "executions";
  return { total, text: parts.length ? `${total} ${noun}: ${parts.join(", ")}` : "no execution" };
}

function label(isoDay) {
  const date = new Date(`${isoDay}T00:00:00Z`);
  return date.toLocaleDateString(undefined, { month: "short", day: "numeric", timeZone: "UTC" });
}

function withParams(url, params) {
  const query = new URLSearchParams(params).toString();
  return url + (url.includes("?") ? "&" : "?") + query;
}

function utcDay(time) {
  return new Date(time).toISOString().slice(0, 10);
}

class DailyChart {
  constructor(root) {
    this.root = root;
    this.canvas = root.querySelector("canvas");
    this.caption = root.querySelector("[data-chart-caption]");
    this.empty = root.querySelector("[data-chart-empty]");
    this.cache = new Map();
    this.days = Number(root.dataset.days) || 30;
    const initial = root.querySelector('script[type="application/json"]');
    this.cache.set(this.days, JSON.parse(initial ? initial.textContent : "[]"));
    this.chart = new Chart(this.canvas, {
      type: "bar",
      data: { labels: [], datasets: [] },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: { duration: 200 },
        interaction: { mode: "index", intersect: false },
        scales: {
          x: { stacked: true, grid: { display: false }, ticks: { maxRotation: 0, autoSkipPadding: 12 } },
          y: { stacked: true, beginAtZero: true, ticks: { precision: 0 } },
        },
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12, boxHeight: 12 } },
          tooltip: {
            filter: (item) => item.raw > 0,
            callbacks: {
              title: (items) => (items.length ? `${this.current[items[0].dataIndex].startDate} (UTC)` : ""),
              footer: (items) => {
                const total = items.reduce((sum, item) => sum + item.raw, 0);
                return `${total} in total`;
              },
            },
          },
        },
        onClick: (event) => this.open(event),
        onHover: (event, elements) => {
          this.canvas.style.cursor = elements.length ? "pointer" : "default";
        },
      },
    });
    root.addEventListener("click", (event) => {
      const button = event.target instanceof Element ? event.target.closest("[data-chart-days]") : null;
      if (button && root.contains(button)) this.show(Number(button.dataset.chartDays));
    });
    this.draw(this.days, this.cache.get(this.days));
  }

  get current() {
    return this.cache.get(this.days) || [];
  }

  draw(days, data) {
    this.days = days;
    this.chart.data.labels = data.map((day) => label(day.startDate));
    this.chart.data.datasets = datasets(data);
    this.chart.update();
    const { total, text } = summary(data);
    const range = `last ${days} days`;
    this.canvas.setAttribute("aria-label", `Executions per day, ${range}: ${text}`);
    if (this.caption) {
      this.caption.textContent =
        `${total} ${total === 1 ? "execution" : "executions"} in the ${range}, ` +
        "counted on the UTC day each one started. Click a bar to list that day's executions.";
    }
    if (this.empty) this.empty.hidden = total > 0;
    for (const button of this.root.querySelectorAll("[data-chart-days]")) {
      button.setAttribute("aria-pressed", String(Number(button.dataset.chartDays) === days));
    }
    this.root.dataset.chartReady = String(days);
  }

  async show(days) {
    if (!days || days === this.days) return;
    let data = this.cache.get(days);
    if (!data) {
      const now = Date.now();
      const url = withParams(this.root.dataset.apiUrl, {
        startDate: utcDay(now - (days - 1) * DAY_MS),
        endDate: utcDay(now),
      });
      this.root.setAttribute("aria-busy", "true");
      try {
        const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        data = await response.json();
        this.cache.set(days, data);
      } catch (error) {
        if (this.caption) this.caption.textContent = `Could not load the last ${days} days (${error.message}).`;
        return;
      } finally {
        this.root.removeAttribute("aria-busy");
      }
    }
    this.draw(days, data);
  }

  open(event) {
    const elements = this.chart.getElementsAtEventForMode(event, "nearest", { intersect: true }, false);
    const fallback = this.chart.getElementsAtEventForMode(event, "index", { intersect: false }, false);
    const hit = elements[0] || fallback[0];
    const listUrl = this.root.dataset.listUrl;
    if (!hit || !listUrl) return;
    const day = this.current[hit.index];
    if (!day) return;
    const params = { day: day.startDate };
    if (elements[0]) params.state = this.chart.data.datasets[hit.datasetIndex].label;
    window.location.assign(withParams(listUrl, params));
  }
}

/** Mounts a chart on every [data-daily-chart] under `root` that has none yet. */
export function mountDailyCharts(root) {
  const scope = root && root.querySelectorAll ? root : document;
  const found = scope.matches && scope.matches("[data-daily-chart]") ? [scope] : [];
  for (const element of [...found, ...scope.querySelectorAll("[data-daily-chart]")]) {
    if (!element.id) element.id = `daily-chart-${++counter}`;
    if (charts.has(element.id)) continue;
    charts.set(element.id, new DailyChart(element).chart);
  }
}
