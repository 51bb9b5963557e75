/**
 * The dashboard's day charts as inline SVG: no chart library, no script, nothing fetched, so a page
 * renders the same on a network without internet. One bar per UTC day of the series' window; a day
 * without data has no bar (a gap, not a zero). Each chart is an image with a title and a one-line
 * summary for screen readers (WAI "Complex images": a short description plus the data), and its
 * numbers in a table under "Show the numbers".
 */
import type { Series } from "../source/kpis.ts";
import { html, raw, type Html } from "./html.ts";

const DAY_MS = 86_400_000;

/** The `count` UTC days up to the day of `nowMs`, oldest first, as YYYY-MM-DD. */
export function dayRange(nowMs: number, count: number): string[] {
  const today = Math.floor(nowMs / DAY_MS) * DAY_MS;
  return Array.from({ length: count }, (_, i) =>
    new Date(today - (count - 1 - i) * DAY_MS).toISOString().slice(0, 10),
  );
}

/** The smallest of 1, 2, 2.5, 5 × 10^n at or above `value` (at least 1): the chart's top line. */
export function niceMax(value: number): number {
  if (!(value > 1)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  const step = [1, 2, 2.5, 5, 10].find((s) => s * power >= value) ?? 10;
  return step * power;
}

/** 1234567 → "1,234,567"; 2.5 → "2.5". */
export const number = (value: number): string => value.toLocaleString("en-US", { maximumFractionDigits: 2 });

/** The chart's text alternative: the window, how many days have data, the latest and the highest. */
export function summary(series: Series, days: readonly string[]): string {
  const first = days[0] ?? "";
  const last = days.at(-1) ?? "";
  const points = series.points.filter((p) => days.includes(p.day));
  const latest = points.at(-1);
  if (latest === undefined) return `${series.label}: no data from ${first} to ${last}.`;
  const highest = points.reduce((a, b) => (b.value > a.value ? b : a));
  return (
    `${series.label} from ${first} to ${last}: data on ${points.length} of ${days.length} days; ` +
    `latest ${number(latest.value)} on ${latest.day}; highest ${number(highest.value)} on ${highest.day}.`
  );
}

const WIDTH = 640;
const HEIGHT = 200;
const PAD = { left: 60, right: 10, top: 14, bottom: 36 };

/** A bar chart of `series` over `days` (from `dayRange`), as a figure; `id` makes its element ids unique. */
export function barChart(series: Series, days: readonly string[], id: string): Html {
  const byDay = new Map(series.points.map((p) => [p.day, p.value]));
  const top = niceMax(Math.max(0, ...days.map((d) => byDay.get(d) ?? 0)));
  const plotWidth = WIDTH - PAD.left - PAD.right;
  const plotHeight = HEIGHT - PAD.top - PAD.bottom;
  const slot = plotWidth / Math.max(1, days.length);
  const y = (value: number): number => PAD.top + plotHeight - (value / top) * plotHeight;
  const fixed = (n: number): string => n.toFixed(1);

  const grid = [0, top / 2, top].map(
    (value) =>
      html`<line
          class="grid"
          x1="${PAD.left}"
          x2="${WIDTH - PAD.right}"
          y1="${fixed(y(value))}"
          y2="${fixed(y(value))}"
        />
        <text class="axis" x="${PAD.left - 8}" y="${fixed(y(value) + 7)}" text-anchor="end"
          >${number(value)}</text
        >`,
  );
  const bars = days.map((day, i) => {
    const value = byDay.get(day);
    if (value === undefined) return html``;
    const height = Math.max(value > 0 ? 1 : 0, (value / top) * plotHeight);
    return html`<rect
      class="bar"
      x="${fixed(PAD.left + i * slot + slot * 0.15)}"
      y="${fixed(PAD.top + plotHeight - height)}"
      width="${fixed(slot * 0.7)}"
      height="${fixed(height)}"
      ><title>${day}: ${number(value)}</title></rect
    >`;
  });
  const label = (i: number, anchor: string) => {
    const day = days[i];
    return day === undefined
      ? html``
      : html`<text
          class="axis"
          x="${fixed(PAD.left + (i + 0.5) * slot)}"
          y="${HEIGHT - 6}"
          text-anchor="${anchor}"
          >${day.slice(5)}</text
        >`;
  };
  const withData = days.filter((d) => byDay.has(d));
  return html`<figure class="chart">
    <figcaption id="${id}-title">${series.label}</figcaption>
    <svg
      viewBox="0 0 ${WIDTH} ${HEIGHT}"
      role="img"
      aria-labelledby="${id}-title ${id}-desc"
      focusable="false"
    >
      <desc id="${id}-desc">${summary(series, days)}</desc>
      ${grid} ${bars} ${label(0, "start")}${label(days.length - 1, "end")}
      ${withData.length === 0 ? html`<text class="empty" x="${WIDTH / 2}" y="${HEIGHT / 2}" text-anchor="middle">No data yet</text>` : raw("")}
    </svg>
    <details>
      <summary>Show the numbers</summary>
      ${
        withData.length === 0
          ? html`<p>No data from ${days[0] ?? ""} to ${days.at(-1) ?? ""}.</p>`
          : html`<table class="numbers">
              <caption>
                ${series.label}
              </caption>
              <thead>
                <tr>
                  <th scope="col">Day</th>
                  <th scope="col">Value</th>
                </tr>
              </thead>
              <tbody>
                ${withData.map(
                  (d) =>
                    html`<tr>
                      <td>${d}</td>
                      <td class="num">${number(byDay.get(d) ?? 0)}</td>
                    </tr>`,
                )}
              </tbody>
            </table>`
      }
    </details>
  </figure>`;
}
