/**
 * The dashboard's pages as HTML, from data the routes (dashboard.ts) have already read: the layout
 * (header with the tenant and the two modules, main), the login page, an error page, and a module
 * page — key figures, day charts, the module's tables, its connections and connect form, its
 * evidence packs. Pure functions of their input, so the markup is tested without a server.
 *
 * Accessibility (WCAG 2.2 AA): landmarks (header, nav, main), a skip link, every input labelled,
 * tables with a caption and scoped headers, sort state in aria-sort, status messages in live
 * regions, and a word beside every red mark. Nothing points outside the console.
 */
import { permissionsNeeded } from "@aiaudit/github-connect";
import type { ConnectionView } from "../source/connections.ts";
import type { Kpi, Series } from "../source/kpis.ts";
import type { Module, Row, TablePage, TableSpec } from "../source/tables.ts";
import { barChart, number } from "./charts.ts";
import { href, html, type Html, type Value } from "./html.ts";

export const MODULES: Readonly<Record<Module, { title: string; vendor: string }>> = {
  copilot: { title: "Copilot Audit", vendor: "GitHub" },
  openai: { title: "OpenAI Audit", vendor: "OpenAI" },
};

/** Rows per page when the query does not say (pageQuery's default). */
export const PER_PAGE = 50;

export interface Viewer {
  tenant: string;
  /** The tenant's display name, when it has one. */
  tenantName: string | null;
}

export interface Notice {
  kind: "ok" | "error";
  text: string;
}

/** The connect form as it is shown again: what was typed, never the secret. */
export interface ConnectForm {
  values: Readonly<Record<string, string>>;
  error?: string | undefined;
}

export interface PackEntry {
  pack_id: string;
  sequence: number;
  period_start: string;
  period_end: string;
  file: string;
  bytes: number;
}

export type PackList = { ok: true; packs: PackEntry[] } | { ok: false; message: string };

export interface ModuleView {
  module: Module;
  viewer: Viewer;
  kpis: readonly Kpi[];
  series: readonly Series[];
  /** The charts' days, oldest first (dayRange). */
  days: readonly string[];
  tables: readonly { spec: TableSpec; page: TablePage }[];
  connections: readonly ConnectionView[];
  form: ConnectForm;
  notice?: Notice | undefined;
  packs: PackList;
  /** YYYY-MM: the month the pack button seals. */
  lastMonth: string;
}

export function layout(options: {
  title: string;
  viewer?: Viewer | undefined;
  active?: Module;
  body: Html;
}): Html {
  const { viewer, active } = options;
  const nav = viewer
    ? html`<span class="tenant"
          >Tenant: <strong>${viewer.tenantName ?? viewer.tenant}</strong>${
            viewer.tenantName ? html` (<code>${viewer.tenant}</code>)` : ""
          }</span
        >
        <nav aria-label="Modules">
          <ul>
            ${(Object.keys(MODULES) as Module[]).map(
              (m) =>
                html`<li>
                  <a href="/${m}" ${active === m ? html` aria-current="page"` : ""}>${MODULES[m].title}</a>
                </li>`,
            )}
          </ul>
        </nav>
        <form method="post" action="/logout"><button type="submit" class="secondary">Log out</button></form>`
    : "";
  return html`<!doctype html>
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>${options.title} · aiaudit console</title>
        <link rel="stylesheet" href="/dashboard.css" />
        <link rel="icon" href="data:," />
      </head>
      <body>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href="/">aiaudit console</a>
          ${nav}
        </header>
        <main id="main">${options.body}</main>
      </body>
    </html> `;
}

function noticeBox(notice: Notice | undefined): Html {
  if (notice === undefined) return html``;
  return notice.kind === "ok"
    ? html`<p class="notice ok" role="status">${notice.text}</p>`
    : html`<p class="notice error" role="alert">${notice.text}</p>`;
}

export function loginPage(error?: string): Html {
  return layout({
    title: "Sign in",
    body: html`<div class="login">
      <h1>Sign in</h1>
      <p>
        Sign in with an API token of your tenant: <code>aiaudit tokens create --tenant T</code> prints one.
      </p>
      ${noticeBox(error === undefined ? undefined : { kind: "error", text: `Not signed in: ${error}` })}
      <form method="post" action="/login" class="stack">
        <label for="token"
          >API token
          <input
            id="token"
            name="token"
            type="password"
            autocomplete="off"
            spellcheck="false"
            required
            placeholder="aat_…"
          />
        </label>
        <div><button type="submit">Sign in</button></div>
      </form>
    </div>`,
  });
}

export function errorPage(status: number, message: string, viewer?: Viewer): Html {
  const heading = status === 404 ? "Not found" : status < 500 ? "That did not work" : "Something went wrong";
  return layout({
    title: heading,
    viewer,
    body: html`<h1>${heading}</h1>
      <p class="notice error" role="alert">${message}</p>
      <p><a href="/">Back to the dashboard</a></p>`,
  });
}

/** 2026-04-30T23:59:59.500Z → 2026-04-30 23:59 (the page says times are UTC). */
export function shortTime(iso: string): string {
  const match = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(iso);
  return match ? `${match[1] ?? ""} ${match[2] ?? ""}` : iso;
}

const time = (iso: string | null): Html =>
  iso === null ? html`<span class="muted">—</span>` : html`<time datetime="${iso}">${shortTime(iso)}</time>`;

/** One table cell's content, by the column's kind; a true flag is a word in a badge, red for the table's alert. */
export function cell(
  value: Row[string],
  kind: TablePage["columns"][number]["kind"],
  flag: { label: string; alert: boolean },
): Html {
  if (value === null || value === "") return html`<span class="muted">—</span>`;
  if (kind === "bool" || typeof value === "boolean") {
    return value === true
      ? html`<span class="badge${flag.alert ? " alert" : ""}">${flag.label.toLowerCase()}</span>`
      : html`no`;
  }
  if (Array.isArray(value)) return html`${value.join(", ")}`;
  if (kind === "time" && typeof value === "string") return time(value);
  if (typeof value === "number") return html`${number(value)}`;
  return html`${value}`;
}

const tableId = (spec: TableSpec): string => `table-${spec.name}`;

function tableLink(
  spec: TableSpec,
  page: TablePage,
  query: { page?: number; sort?: string; order?: string },
): string {
  return `${href(`/${spec.module}`, {
    table: spec.name,
    page: query.page,
    per_page: page.per_page === PER_PAGE ? undefined : page.per_page,
    sort: query.sort ?? page.sort,
    order: query.order ?? page.order,
  })}#${tableId(spec)}`;
}

function header(spec: TableSpec, page: TablePage, column: TablePage["columns"][number]): Html {
  const current = page.sort === column.name;
  const next = current && page.order === "asc" ? "desc" : "asc";
  const sorted = current ? (page.order === "asc" ? "ascending" : "descending") : undefined;
  const arrow = current ? (page.order === "asc" ? " ▲" : " ▼") : "";
  return html`<th
    scope="col"
    ${sorted ? html` aria-sort="${sorted}"` : ""}${column.kind === "number" ? html` class="num"` : ""}
  >
    <a href="${tableLink(spec, page, { sort: column.name, order: next })}"
      >${column.label}<span aria-hidden="true">${arrow}</span
      ><span class="sr-only">, sort ${next === "asc" ? "ascending" : "descending"}</span></a
    >
  </th>`;
}

function pager(spec: TableSpec, page: TablePage): Html {
  const pages = Math.max(1, Math.ceil(page.total / page.per_page));
  const rows = `${number(page.total)} row${page.total === 1 ? "" : "s"}`;
  return html`<nav class="pager" aria-label="${spec.title}: pages">
    ${page.page > 1 ? html`<a href="${tableLink(spec, page, { page: page.page - 1 })}" rel="prev">Previous page</a>` : ""}
    <span>Page ${page.page} of ${pages} (${rows})</span>
    ${page.page < pages ? html`<a href="${tableLink(spec, page, { page: page.page + 1 })}" rel="next">Next page</a>` : ""}
    <a
      href="${href(`/${spec.module}/tables/${spec.name}.csv`, { sort: page.sort, order: page.order })}"
      download
      >Download CSV<span class="sr-only"> of ${spec.title}</span></a
    >
  </nav>`;
}

/** Beside the idle seats: what `last_activity_at` is and is not. */
export const IDLE_HINT =
  "Idle means no activity in GitHub's last_activity_at for 30 days. That timestamp comes from IDE and editor telemetry, " +
  "and lags up to a day: a seat used only in an editor with telemetry turned off, or only on github.com, may look idle. " +
  "Check with the user before removing a seat.";

export function tableSection(spec: TableSpec, page: TablePage): Html {
  const id = tableId(spec);
  const alerts = page.alert === null ? 0 : page.rows.filter((r) => r[page.alert ?? ""] === true).length;
  const rows = page.rows.map((row) => {
    const alert = page.alert !== null && row[page.alert] === true;
    return html`<tr${alert ? html` class="alert"` : ""}>${page.columns.map(
      (c) =>
        html`<td${c.kind === "number" ? html` class="num"` : ""}>${cell(row[c.name] ?? null, c.kind, {
          label: c.label,
          alert: c.name === page.alert,
        })}</td>`,
    )}</tr>`;
  });
  return html`<section id="${id}" aria-labelledby="${id}-h">
<h3 id="${id}-h">${spec.title}</h3>
<p class="about">${spec.about}</p>
${spec.alert === "idle" ? html`<p class="hint" id="${id}-hint"><strong>About idle seats:</strong> ${IDLE_HINT}</p>` : ""}
<div class="scroll" role="region" aria-labelledby="${id}-h" tabindex="0">
<table${spec.alert === "idle" ? html` aria-describedby="${id}-hint"` : ""}>
<caption>${spec.title}: ${number(page.total)} in all${
    page.alert === null ? "" : `, ${alerts} ${page.alert} on this page (marked red)`
  }, sorted by ${page.columns.find((c) => c.name === page.sort)?.label ?? page.sort}, ${page.order === "asc" ? "ascending" : "descending"}</caption>
<thead><tr>${page.columns.map((c) => header(spec, page, c))}</tr></thead>
<tbody>${
    rows.length === 0
      ? html`<tr>
          <td colspan="${page.columns.length}" class="muted">
            No rows yet: connect an organization and wait for its first pull.
          </td>
        </tr>`
      : rows
  }</tbody>
</table>
</div>
${pager(spec, page)}
</section>`;
}

export function kpiStrip(kpis: readonly Kpi[]): Html {
  return html`<section aria-labelledby="kpis-h">
    <h2 id="kpis-h" class="sr-only">Key figures</h2>
    <ul class="kpis">
      ${kpis.map((k) => {
        const alert = k.alert && k.value !== null && k.value > 0;
        return html`<li class="kpi${alert ? " alert" : ""}" data-kpi="${k.name}">
          <span class="value">${k.value === null ? "not set" : number(k.value)}</span
          ><span class="label"
            >${k.label}${
              alert
                ? html` <span class="badge alert">act</span><span class="sr-only">: needs action</span>`
                : ""
            }</span
          >
        </li>`;
      })}
    </ul>
  </section>`;
}

function connectionRows(module: Module, connections: readonly ConnectionView[]): Html {
  if (connections.length === 0) {
    return html`<p class="muted">
      No ${MODULES[module].vendor} organization is connected yet: connect one with the form below.
    </p>`;
  }
  return html`<div class="scroll" role="region" aria-labelledby="connections-h" tabindex="0">
    <table>
      <caption>
        ${MODULES[module].vendor} connections of this tenant (times in UTC)
      </caption>
      <thead>
        <tr>
          <th scope="col">Name</th>
          <th scope="col">Kind</th>
          <th scope="col">State</th>
          <th scope="col">Connected</th>
          <th scope="col">Last pull</th>
          <th scope="col">Next pull</th>
          <th scope="col">Message</th>
          <th scope="col"><span class="sr-only">Actions</span></th>
        </tr>
      </thead>
      <tbody>
        ${connections.map(
          (
            c,
          ) => html`<tr${c.state === "BROKEN" ? html` class="alert"` : ""} data-connection="${c.connection_id}">
<td>${c.display_name ?? c.slug}${c.display_name ? html` <code>${c.slug}</code>` : ""}</td>
<td>${c.kind}</td>
<td>${c.state === "ACTIVE" ? html`<span class="badge ok">connected</span>` : html`<span class="badge alert">broken</span>`}</td>
<td>${time(c.connected_at)}</td>
<td>${c.last_pull_at === null ? html`<span class="muted">not yet</span>` : time(c.last_pull_at)}</td>
<td>${c.next_pull_at === null ? html`<span class="muted">now</span>` : time(c.next_pull_at)}</td>
<td>${c.message ?? ""}</td>
<td><form method="post" action="/${module}/disconnect" class="inline"><input type="hidden" name="connection_id" value="${c.connection_id}"><button type="submit" class="danger">Disconnect<span class="sr-only"> ${c.display_name ?? c.slug}</span></button></form></td>
</tr>`,
        )}
      </tbody>
    </table>
  </div>`;
}

const field = (
  form: ConnectForm,
  name: string,
  label: string,
  options: { type?: string; help?: Value; required?: boolean; fallback?: string; secret?: boolean } = {},
): Html => {
  const id = `connect-${name}`;
  // A secret is never written back into a page, not even after a failed attempt.
  const value = options.secret ? "" : (form.values[name] ?? options.fallback ?? "");
  // The help text is outside the label: it describes the field (aria-describedby), it is not its name.
  return html`<div class="field">
    <label for="${id}">${label}</label>
    <input
      id="${id}"
      name="${name}"
      type="${options.type ?? "text"}"
      value="${value}"
      ${options.required ? html` required` : ""}${
        options.secret ? html` autocomplete="off" spellcheck="false"` : ""
      }${options.help ? html` aria-describedby="${id}-help"` : ""}
    />
    ${options.help ? html`<span class="help" id="${id}-help">${options.help}</span>` : ""}
  </div>`;
};

function copilotForm(form: ConnectForm): Html {
  const kind = form.values.kind === "enterprise" ? "enterprise" : "organization";
  const needs = (title: string, list: { what: string; needs: string }[]) =>
    html`<h4>${title}</h4>
      <dl>
        ${list.map(
          (p) =>
            html`<dt>${p.what}</dt>
              <dd>${p.needs}</dd>`,
        )}
      </dl>`;
  return html`<form method="post" action="/copilot/connect" class="stack" aria-labelledby="connect-h">
      <div class="field">
        <label for="connect-kind">Kind</label>
        <select id="connect-kind" name="kind">
          <option value="organization" ${kind === "organization" ? html` selected` : ""}>Organization</option>
          <option value="enterprise" ${kind === "enterprise" ? html` selected` : ""}>Enterprise</option>
        </select>
      </div>
      ${field(form, "slug", "Organization or enterprise name", { required: true, help: "As in github.com/NAME: letters, digits and dashes." })}
      ${field(form, "token", "Token", { type: "password", required: true, secret: true, help: "A fine-grained or classic personal access token, or an app token, with the permissions listed beside this form. It is sealed and never shown again." })}
      ${field(form, "base_url", "API base URL", { type: "url", fallback: "https://api.github.com", help: "github.com: https://api.github.com; GitHub Enterprise Server: https://HOST/api/v3." })}
      <label class="check" for="connect-keep"
        ><input
          id="connect-keep"
          name="keep_usage_content"
          type="checkbox"
          value="on"
          ${form.values.keep_usage_content === "on" ? html` checked` : ""}
        />
        <span
          >Keep prompts and responses of agent usage records (off: only keyed hashes and lengths are
          kept)</span
        ></label
      >
      <div><button type="submit">Connect</button></div>
    </form>
    <aside class="needs" aria-labelledby="needs-h">
      <h3 id="needs-h">Permissions the token needs</h3>
      ${needs("For an organization", permissionsNeeded("ORGANIZATION"))}
      ${needs("For an enterprise", permissionsNeeded("ENTERPRISE"))}
      <p class="help">
        The console checks each of these before it stores the token, and says which one is missing.
      </p>
    </aside>`;
}

function openaiForm(form: ConnectForm): Html {
  return html`<form method="post" action="/openai/connect" class="stack" aria-labelledby="connect-h">
      ${field(form, "org_id", "Organization id", { required: true, help: "org-…: platform.openai.com → Settings → Organization → General." })}
      ${field(form, "name", "Display name (optional)", { help: "Shown instead of the id." })}
      ${field(form, "admin_key", "Admin key", { type: "password", required: true, secret: true, help: "sk-admin-…: sealed and never shown again." })}
      ${field(form, "base_url", "API base URL", { type: "url", fallback: "https://api.openai.com/v1", help: "With its /v1: https://api.openai.com/v1, or your proxy." })}
      <div><button type="submit">Connect</button></div>
    </form>
    <aside class="needs" aria-labelledby="needs-h">
      <h3 id="needs-h">The key this needs</h3>
      <dl>
        <dt>An Organization Admin Key</dt>
        <dd>
          It starts with <code>sk-admin-</code>. Project keys (<code>sk-proj-</code>), service account keys
          and user keys cannot read the admin endpoints.
        </dd>
        <dt>Created by an Organization Owner</dt>
        <dd>
          At platform.openai.com → Settings → Organization → Admin keys
          (<code>platform.openai.com/settings/organization/admin-keys</code>).
        </dd>
        <dt>Audit logging turned on</dt>
        <dd>
          Settings → Organization → Data controls: without it the audit log stays empty (the connection then
          shows a warning).
        </dd>
      </dl>
      <p class="help">The console tries the key against the organization before it stores it.</p>
    </aside>`;
}

function packsSection(module: Module, packs: PackList, lastMonth: string): Html {
  const list = !packs.ok
    ? html`<p class="notice error" role="alert">The evidence packs cannot be listed: ${packs.message}</p>`
    : packs.packs.length === 0
      ? html`<p class="muted">No evidence pack of this module yet.</p>`
      : html`<div class="scroll" role="region" aria-labelledby="packs-h" tabindex="0">
          <table>
            <caption>
              Sealed evidence packs, oldest first: each links to the one before it
            </caption>
            <thead>
              <tr>
                <th scope="col" class="num">Sequence</th>
                <th scope="col">Period (UTC)</th>
                <th scope="col">File</th>
                <th scope="col" class="num">Size</th>
                <th scope="col"><span class="sr-only">Download</span></th>
              </tr>
            </thead>
            <tbody>
              ${packs.packs.map(
                (p) =>
                  html`<tr data-pack="${p.pack_id}">
                    <td class="num">${p.sequence}</td>
                    <td>${shortTime(p.period_start)} – ${shortTime(p.period_end)}</td>
                    <td><code>${p.file}</code></td>
                    <td class="num">${number(p.bytes)} bytes</td>
                    <td>
                      <a href="/${module}/packs/${encodeURIComponent(p.pack_id)}/download" download
                        >Download<span class="sr-only"> pack ${p.sequence}</span></a
                      >
                    </td>
                  </tr>`,
              )}
            </tbody>
          </table>
        </div>`;
  return html`<section id="packs" aria-labelledby="packs-h">
    <h2 id="packs-h">Evidence packs</h2>
    <p class="about">
      Signed, hash-chained archives of a period's records for auditors; verify one with
      <code>tools/evidence-pack-verify.py</code>.
    </p>
    ${list}
    <form method="post" action="/${module}/packs" class="stack">
      <div><button type="submit">Generate last month's pack (${lastMonth})</button></div>
    </form>
  </section>`;
}

export function modulePage(view: ModuleView): Html {
  const { module } = view;
  const title = MODULES[module].title;
  const body = html`<h1>${title}</h1>
    ${noticeBox(view.notice)} ${kpiStrip(view.kpis)}
    <section aria-labelledby="charts-h">
      <h2 id="charts-h">Last ${view.days.length} days</h2>
      <div class="charts">${view.series.map((s) => barChart(s, view.days, `chart-${s.name}`))}</div>
    </section>
    <section aria-labelledby="tables-h">
      <h2 id="tables-h">Tables</h2>
      <p class="muted">Times are UTC. People appear as the first 12 characters of their pseudonym.</p>
      ${view.tables.map((t) => tableSection(t.spec, t.page))}
    </section>
    <section id="connections" aria-labelledby="connections-h">
      <h2 id="connections-h">Connections</h2>
      ${connectionRows(module, view.connections)}
      <h3 id="connect-h">
        Connect ${module === "copilot" ? "a GitHub organization or enterprise" : "an OpenAI organization"}
      </h3>
      ${view.form.error === undefined ? "" : html`<p class="notice error" role="alert" id="connect-error">${view.form.error}</p>`}
      <div class="connect">${module === "copilot" ? copilotForm(view.form) : openaiForm(view.form)}</div>
    </section>
    ${packsSection(module, view.packs, view.lastMonth)}`;
  return layout({ title, viewer: view.viewer, active: module, body });
}
