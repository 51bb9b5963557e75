/**
 * The web dashboard without a server: the HTML template's escaping, the SVG charts, the session
 * cookie and cross-site checks, and the page parts (red rows with a word, the idle-seat hint, key
 * figures, the login form). The routes run against the real broker, ClickHouse engine and GitHub
 * simulator in test/integration/web-routes.test.ts.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { tableSpec, type TablePage } from "../../src/source/tables.ts";
import { barChart, dayRange, niceMax, summary } from "../../src/web/charts.ts";
import { escape, href, html, raw } from "../../src/web/html.ts";
import { cell, IDLE_HINT, kpiStrip, loginPage, tableSection } from "../../src/web/pages.ts";
import {
  endedSessionCookie,
  lastMonthOf,
  readCookie,
  sameOrigin,
  sessionCookie,
} from "../../src/web/session.ts";

const EVIL = `<script>alert("x")</script>&'`;

/** Markup without the templates' indentation, for matching: no white space around < and >. */
const squash = (text: string): string => text.replace(/\s+/g, " ").replace(/\s*([<>])\s*/g, "$1");

describe("html", () => {
  it("escapes the five characters that matter in content and quoted attributes", () => {
    assert.equal(escape(`<a href="x">'&'</a>`), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
  });

  it("escapes every interpolated value, keeps nested markup, flattens lists, drops null, undefined and false", () => {
    const inner = html`<b>${EVIL}</b>`;
    const out = html`<p title="${EVIL}">${inner}${[html`<i>1</i>`, "<2>"]}${null}${undefined}${false}${3}</p>`
      .text;
    assert.equal(
      out,
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;"><b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&amp;&#39;</b><i>1</i>&lt;2&gt;3</p>',
    );
    assert.ok(!out.includes("<script>"));
  });

  it("raw() is inserted as is; href() URL-encodes and leaves out undefined values", () => {
    assert.equal(html`${raw("<br>")}`.text, "<br>");
    assert.equal(
      href("/copilot", { table: "seats", sort: "a b&c", page: undefined }),
      "/copilot?table=seats&sort=a+b%26c",
    );
    assert.equal(href("/copilot"), "/copilot");
  });
});

describe("charts", () => {
  const days = dayRange(Date.parse("2026-03-02T15:00:00Z"), 5);
  const series = {
    name: "seats",
    label: `Seats ${EVIL}`,
    points: [
      { day: "2026-02-26", value: 10 },
      { day: "2026-02-28", value: 40 },
      { day: "2026-03-02", value: 25 },
    ],
  };

  it("dayRange gives the UTC days up to today, oldest first, across a month end", () => {
    assert.deepEqual(days, ["2026-02-26", "2026-02-27", "2026-02-28", "2026-03-01", "2026-03-02"]);
  });

  it("niceMax rounds up to 1, 2, 2.5 or 5 times a power of ten", () => {
    assert.deepEqual(
      [0, 1, 3, 7, 10, 11, 24, 26, 137, 5000, 5001].map(niceMax),
      [1, 1, 5, 10, 10, 20, 25, 50, 200, 5000, 10000],
    );
  });

  it("draws one bar per day with data, a gap for the others, each bar titled with its day and value", () => {
    const svg = squash(barChart(series, days, "chart-seats").text);
    assert.equal(svg.match(/<rect class="bar"/g)?.length, 3);
    assert.match(svg, /<title>2026-02-28: 40<\/title>/);
    assert.ok(!svg.includes("2026-02-27:"), "a day without data has no bar");
    // Heights in proportion to the top line, niceMax(40) = 50, over the plot's 150 units.
    const heights = [...svg.matchAll(/<rect class="bar"[^>]* height="([\d.]+)"/g)].map((m) => Number(m[1]));
    assert.deepEqual(
      heights,
      [(10 / 50) * 150, (40 / 50) * 150, (25 / 50) * 150].map((h) => Number(h.toFixed(1))),
    );
  });

  it("is an image labelled by its title and a summary, with the numbers in a table, and escapes the label", () => {
    const svg = squash(barChart(series, days, "chart-seats").text);
    assert.match(svg, /<svg [^>]*role="img" aria-labelledby="chart-seats-title chart-seats-desc"/);
    assert.match(svg, /<desc id="chart-seats-desc">[^<]*latest 25 on 2026-03-02; highest 40 on 2026-02-28/);
    assert.match(svg, /<caption>Seats &lt;script&gt;/);
    assert.ok(!svg.includes("<script>"));
    assert.equal(svg.match(/<tr><td>/g)?.length, 3);
  });

  it("says so when there is no data in the window", () => {
    const empty = { name: "events", label: "Events", points: [{ day: "2025-01-01", value: 9 }] };
    assert.equal(summary(empty, days), "Events: no data from 2026-02-26 to 2026-03-02.");
    const svg = squash(barChart(empty, days, "chart-events").text);
    assert.ok(!svg.includes('class="bar"'));
    assert.match(svg, /No data yet/);
  });
});

describe("session", () => {
  it("reads one cookie among several", () => {
    assert.equal(readCookie("a=1; aiaudit_session=aat_x_y; b=2", "aiaudit_session"), "aat_x_y");
    assert.equal(readCookie("aiaudit_session_old=1", "aiaudit_session"), undefined);
    assert.equal(readCookie(undefined, "aiaudit_session"), undefined);
    assert.equal(readCookie("aiaudit_session=", "aiaudit_session"), undefined);
  });

  it("sets HttpOnly, SameSite=Strict, Path=/ and Secure only when asked; ending expires it", () => {
    assert.equal(sessionCookie("aat_t", false), "aiaudit_session=aat_t; HttpOnly; SameSite=Strict; Path=/");
    assert.equal(
      sessionCookie("aat_t", true),
      "aiaudit_session=aat_t; HttpOnly; SameSite=Strict; Path=/; Secure",
    );
    assert.match(endedSessionCookie(false), /^aiaudit_session=; Max-Age=0; HttpOnly/);
  });

  it("accepts a post from this host (or the proxy's), or without Origin and Referer; refuses others", () => {
    assert.ok(sameOrigin({ host: "console:8468", origin: "http://console:8468" }));
    assert.ok(sameOrigin({ host: "console:8468", referer: "http://console:8468/copilot?x=1" }));
    assert.ok(
      sameOrigin({
        host: "10.0.0.5:8468",
        "x-forwarded-host": "audit.example",
        origin: "https://audit.example",
      }),
    );
    assert.ok(sameOrigin({ host: "console:8468" }));
    assert.ok(!sameOrigin({ host: "console:8468", origin: "https://evil.example" }));
    assert.ok(sameOrigin({ host: "audit.example:443", origin: "https://audit.example" }));
    assert.ok(!sameOrigin({ host: "console:8468", origin: "null" }));
    assert.ok(!sameOrigin({ host: "console:8468", referer: "http://console:8469/" }));
  });

  it("last month is the calendar month before, December in January", () => {
    assert.equal(lastMonthOf(Date.parse("2026-01-01T00:00:00Z")), "2025-12");
    assert.equal(lastMonthOf(Date.parse("2026-12-31T23:59:59Z")), "2026-11");
  });
});

const seatsSpec = tableSpec("copilot", "seats");
if (seatsSpec === undefined) throw new Error("no seats table");

function seatsPage(rows: TablePage["rows"]): TablePage {
  return {
    table: "seats",
    module: "copilot",
    columns: seatsSpec?.columns.map((c) => ({ name: c.name, label: c.label, kind: c.kind ?? null })) ?? [],
    alert: "idle",
    rows,
    page: 1,
    per_page: 50,
    total: rows.length,
    sort: "last_activity_at",
    order: "asc",
  };
}

const seatRow = (team: string, idle: boolean) => ({
  org: "acme",
  assignee: "0123456789ab",
  plan: "business",
  team,
  created_at: "2026-01-05T09:00:00.000Z",
  last_authenticated_at: null,
  last_activity_at: idle ? null : "2026-11-20T16:32:10.000Z",
  last_activity_editor: null,
  pending_cancellation_date: null,
  idle,
  idle_reason: idle ? "never used" : null,
});

describe("pages", () => {
  it("marks an idle seat red and with the word, not by colour alone; escapes data in cells", () => {
    const out = squash(
      tableSection(seatsSpec, seatsPage([seatRow(EVIL, true), seatRow("ok-team", false)])).text,
    );
    const rows = out.split("<tr").filter((r) => r.includes("<td"));
    assert.equal(rows.length, 2);
    assert.match(rows[0] ?? "", /^ class="alert">/);
    assert.match(rows[0] ?? "", /<span class="badge alert">idle<\/span>/);
    assert.ok(!(rows[1] ?? "").includes('class="alert"'));
    assert.ok(out.includes("&lt;script&gt;alert(&quot;x&quot;)"));
    assert.ok(!out.includes("<script>"));
    assert.match(out, /1 idle on this page \(marked red\)/);
  });

  it("shows the last_activity_at hint beside the seats, sortable headers and a CSV link", () => {
    const out = squash(tableSection(seatsSpec, seatsPage([])).text);
    assert.ok(out.includes(escape(IDLE_HINT)));
    assert.match(
      out,
      /aria-sort="ascending"><a href="\/copilot\?table=seats&amp;sort=last_activity_at&amp;order=desc#table-seats"/,
    );
    assert.match(out, /href="\/copilot\/tables\/seats\.csv\?sort=last_activity_at&amp;order=asc"/);
    assert.match(out, /<th scope="col"/);
    assert.match(out, /No rows yet/);
  });

  it("cells: times, flags, lists, numbers, nothing", () => {
    const flag = { label: "Stale", alert: true };
    assert.equal(
      cell("2026-04-30T23:59:59.500Z", "time", flag).text,
      '<time datetime="2026-04-30T23:59:59.500Z">2026-04-30 23:59</time>',
    );
    assert.equal(cell(true, "bool", flag).text, '<span class="badge alert">stale</span>');
    assert.equal(cell(false, "bool", flag).text, "no");
    assert.equal(cell(["a", "<b>"], "list", flag).text, "a, &lt;b&gt;");
    assert.equal(cell(1234567, "number", flag).text, "1,234,567");
    assert.match(cell(null, null, flag).text, /—/);
  });

  it("KPI strip: an alert figure above 0 is red with a word; at 0 it is not", () => {
    const out = squash(
      kpiStrip([
        { name: "idle_seats", label: "Idle seats", value: 3, alert: true },
        { name: "never_used_seats", label: "Never used", value: 0, alert: true },
        { name: "seats", label: "Seats", value: 1200, alert: false },
      ]).text,
    );
    assert.match(
      out,
      /<li class="kpi alert" data-kpi="idle_seats"><span class="value">3<\/span>.*needs action/,
    );
    assert.match(out, /<li class="kpi" data-kpi="never_used_seats">/);
    assert.match(out, /<span class="value">1,200<\/span>/);
  });

  it("the login form takes the token in a password field without autocomplete, and loads nothing from elsewhere", () => {
    const out = squash(loginPage().text);
    assert.match(out, /<input id="token" name="token" type="password" autocomplete="off"/);
    assert.match(out, /<label for="token">/);
    assert.match(out, /<main id="main">/);
    assert.ok(!/(src|href)="(https?:)?\/\//.test(out));
  });
});
