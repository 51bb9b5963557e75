/**
 * The tables the console shows, each a query over the analyst views (docs/analyst-views.md) of
 * one tenant: a page of rows sorted by a column (JSON), or every row in that order (CSV).
 *
 * A table's columns are listed once here; the sort column is taken only from that list, so a
 * request can never put text of its own into SQL. People appear as the first 12 characters of
 * their pseudonym (enough to tell them apart on a page, the full keyed hash stays in ClickHouse
 * and the evidence pack); emails only as the masked display the ingest keeps; API keys only as
 * their redacted value. Usage records show metadata, never a prompt or response.
 */
import type { ClickHouse } from "@aiaudit/clickhouse";

export type Module = "copilot" | "openai";

export interface Column {
  /** The JSON field and CSV header. */
  name: string;
  /** The dashboard's column heading. */
  label: string;
  /** The SQL expression (over the table's FROM). */
  sql: string;
  kind?: "time" | "date" | "bool" | "number" | "list";
}

export interface TableSpec {
  name: string;
  module: Module;
  title: string;
  /** FROM … WHERE tenant = {tenant:String}, over `t(name)` for the tenant's database. */
  from(t: (name: string) => string): string;
  columns: readonly Column[];
  sort: string;
  order: "asc" | "desc";
  /** A boolean column that marks a row to act on (shown in red): idle seat, stale key. */
  alert?: string;
  /** What the table is, in one sentence (dashboard and OpenAPI). */
  about: string;
}

const prefix = (column: string): string => `substring(${column}, 1, 12)`;

const TABLES: readonly TableSpec[] = [
  {
    name: "seats",
    module: "copilot",
    title: "Seats",
    about:
      "Current Copilot seats (the newest complete snapshot of each org), with GitHub's seat-report columns; idle seats are flagged.",
    from: (t) => `${t("copilot_current_seats")} AS s
      LEFT JOIN (SELECT tenant, org, seat_id, reason FROM ${t("copilot_idle_seats")} WHERE tenant = {tenant:String}) AS i
        ON i.tenant = s.tenant AND i.org = s.org AND i.seat_id = s.seat_id
      WHERE s.tenant = {tenant:String}`,
    columns: [
      { name: "org", label: "Org", sql: "s.org" },
      { name: "assignee", label: "Assignee (pseudonym)", sql: prefix("s.assignee_pseudonym") },
      { name: "plan", label: "Plan", sql: "s.plan_type" },
      { name: "team", label: "Team", sql: "s.assigning_team" },
      { name: "created_at", label: "Seat since", sql: "s.created_at", kind: "time" },
      {
        name: "last_authenticated_at",
        label: "Last authenticated",
        sql: "s.last_authenticated_at",
        kind: "time",
      },
      { name: "last_activity_at", label: "Last activity", sql: "s.last_activity_at", kind: "time" },
      { name: "last_activity_editor", label: "Last editor", sql: "s.last_activity_editor" },
      {
        name: "pending_cancellation_date",
        label: "Cancels on",
        sql: "s.pending_cancellation_date",
        kind: "date",
      },
      { name: "idle", label: "Idle", sql: "i.reason != ''", kind: "bool" },
      { name: "idle_reason", label: "Why idle", sql: "nullIf(i.reason, '')" },
    ],
    sort: "last_activity_at",
    order: "asc",
    alert: "idle",
  },
  {
    name: "audit-events",
    module: "copilot",
    title: "Audit events",
    about: "Copilot events of the GitHub audit log: who changed seats and policies.",
    from: (t) => `${t("copilot_audit_events")} FINAL WHERE tenant = {tenant:String}`,
    columns: [
      { name: "created_at", label: "Time", sql: "created_at", kind: "time" },
      { name: "org", label: "Org", sql: "org" },
      { name: "action", label: "Action", sql: "action" },
      { name: "actor", label: "Actor (pseudonym)", sql: prefix("actor_pseudonym") },
      { name: "actor_agent", label: "Agent", sql: "actor_agent" },
      { name: "user", label: "User (pseudonym)", sql: prefix("user_pseudonym") },
      { name: "country", label: "Country", sql: "actor_country_code" },
      { name: "event_id", label: "Event id", sql: "event_id" },
    ],
    sort: "created_at",
    order: "desc",
  },
  {
    name: "agent-events",
    module: "copilot",
    title: "Agent events",
    about: "What AI agents did: audit events whose actor is an agent (e.g. the Copilot coding agent).",
    from: (t) => `${t("copilot_audit_events")} FINAL WHERE tenant = {tenant:String} AND actor_is_agent`,
    columns: [
      { name: "created_at", label: "Time", sql: "created_at", kind: "time" },
      { name: "org", label: "Org", sql: "org" },
      { name: "agent", label: "Agent", sql: "actor_agent" },
      { name: "action", label: "Action", sql: "action" },
      { name: "session", label: "Session", sql: "agent_session_id" },
      { name: "on_behalf_of", label: "On behalf of (pseudonym)", sql: prefix("user_pseudonym") },
      { name: "event_id", label: "Event id", sql: "event_id" },
    ],
    sort: "created_at",
    order: "desc",
  },
  {
    name: "usage-records",
    module: "copilot",
    title: "Agent usage records",
    about: "Copilot usage records (metadata only: type, model, tools, size; never the prompt or response).",
    from: (t) => `${t("copilot_usage_records")} FINAL WHERE tenant = {tenant:String}`,
    columns: [
      { name: "created_at", label: "Time", sql: "created_at", kind: "time" },
      { name: "enterprise", label: "Enterprise", sql: "enterprise" },
      { name: "type", label: "Type", sql: "type" },
      { name: "user", label: "User (pseudonym)", sql: prefix("user_pseudonym") },
      { name: "model", label: "Model", sql: "model" },
      { name: "endpoint", label: "Endpoint", sql: "endpoint" },
      { name: "tools", label: "Tools", sql: "tool_names", kind: "list" },
      { name: "body_length", label: "Bytes", sql: "body_length", kind: "number" },
      { name: "truncated", label: "Truncated", sql: "truncated", kind: "bool" },
    ],
    sort: "created_at",
    order: "desc",
  },
  {
    name: "users",
    module: "openai",
    title: "Users",
    about: "Members of the OpenAI organizations (current snapshot); emails masked, external domains flagged.",
    from: (t) => `${t("openai_current_users")} AS u
      LEFT JOIN (SELECT tenant, org, user_id, 1 AS external FROM ${t("openai_external_users")} WHERE tenant = {tenant:String}) AS x
        ON x.tenant = u.tenant AND x.org = u.org AND x.user_id = u.user_id
      WHERE u.tenant = {tenant:String} AND NOT u.is_service_account`,
    columns: [
      { name: "org", label: "Org", sql: "u.org" },
      { name: "email", label: "Email (masked)", sql: "u.email_display" },
      { name: "domain", label: "Domain", sql: "u.email_domain" },
      { name: "role", label: "Role", sql: "u.role" },
      { name: "added_at", label: "Added", sql: "u.added_at", kind: "time" },
      { name: "external", label: "External", sql: "x.external = 1", kind: "bool" },
      { name: "user_id", label: "User id", sql: "u.user_id" },
    ],
    sort: "added_at",
    order: "desc",
  },
  {
    name: "projects",
    module: "openai",
    title: "Projects",
    about: "Projects of the OpenAI organizations (current snapshot).",
    from: (t) => `${t("openai_current_projects")} WHERE tenant = {tenant:String}`,
    columns: [
      { name: "org", label: "Org", sql: "org" },
      { name: "name", label: "Name", sql: "name" },
      { name: "status", label: "Status", sql: "status" },
      { name: "created_at", label: "Created", sql: "created_at", kind: "time" },
      { name: "archived_at", label: "Archived", sql: "archived_at", kind: "time" },
      { name: "project_id", label: "Project id", sql: "project_id" },
    ],
    sort: "created_at",
    order: "desc",
  },
  {
    name: "api-keys",
    module: "openai",
    title: "API keys",
    about:
      "Project and admin keys (current snapshot), redacted; stale keys (unused 90 days or never) and orphan keys (owner gone) are flagged.",
    from: (t) => `${t("openai_current_api_keys")} AS k
      LEFT JOIN (SELECT tenant, org, key_type, key_id, any(reason) AS reason FROM ${t("openai_stale_keys")}
                 WHERE tenant = {tenant:String} GROUP BY tenant, org, key_type, key_id) AS st
        ON st.tenant = k.tenant AND st.org = k.org AND st.key_type = k.key_type AND st.key_id = k.key_id
      LEFT JOIN (SELECT tenant, org, key_id, any(reason) AS reason FROM ${t("openai_orphan_keys")}
                 WHERE tenant = {tenant:String} GROUP BY tenant, org, key_id) AS o
        ON o.tenant = k.tenant AND o.org = k.org AND o.key_id = k.key_id AND k.key_type = 'PROJECT'
      WHERE k.tenant = {tenant:String}`,
    columns: [
      { name: "org", label: "Org", sql: "k.org" },
      { name: "type", label: "Type", sql: "k.key_type" },
      { name: "name", label: "Name", sql: "k.name" },
      { name: "redacted_value", label: "Key (redacted)", sql: "k.redacted_value" },
      { name: "owner_type", label: "Owner type", sql: "k.owner_type" },
      { name: "owner", label: "Owner (pseudonym)", sql: prefix("k.owner_pseudonym") },
      { name: "created_at", label: "Created", sql: "k.created_at", kind: "time" },
      { name: "last_used_at", label: "Last used", sql: "k.last_used_at", kind: "time" },
      { name: "stale", label: "Stale", sql: "st.reason != ''", kind: "bool" },
      { name: "stale_reason", label: "Why stale", sql: "nullIf(st.reason, '')" },
      { name: "orphan", label: "Orphan", sql: "o.reason != ''", kind: "bool" },
      { name: "orphan_reason", label: "Why orphan", sql: "nullIf(o.reason, '')" },
      { name: "key_id", label: "Key id", sql: "k.key_id" },
    ],
    sort: "last_used_at",
    order: "asc",
    alert: "stale",
  },
  {
    name: "audit-events",
    module: "openai",
    title: "Audit events",
    about: "Events of the OpenAI audit log: logins, key and project changes, invitations.",
    from: (t) => `${t("openai_audit_events")} FINAL WHERE tenant = {tenant:String}`,
    columns: [
      { name: "effective_at", label: "Time", sql: "effective_at", kind: "time" },
      { name: "org", label: "Org", sql: "org" },
      { name: "type", label: "Type", sql: "type" },
      { name: "project", label: "Project", sql: "project_name" },
      { name: "actor_type", label: "Actor type", sql: "actor_type" },
      { name: "actor", label: "Actor (pseudonym)", sql: prefix("actor_pseudonym") },
      { name: "resource_id", label: "Resource", sql: "resource_id" },
      { name: "event_id", label: "Event id", sql: "event_id" },
    ],
    sort: "effective_at",
    order: "desc",
  },
];

export const tablesOf = (module: Module): readonly TableSpec[] => TABLES.filter((t) => t.module === module);

export function tableSpec(module: Module, name: string): TableSpec | undefined {
  return TABLES.find((t) => t.module === module && t.name === name);
}

export interface PageRequest {
  /** 1-based. */
  page: number;
  perPage: number;
  /** A column name of the table; the table's default when absent. */
  sort?: string | undefined;
  order?: "asc" | "desc" | undefined;
}

export type Row = Record<string, string | number | boolean | string[] | null>;

export interface TablePage {
  table: string;
  module: Module;
  columns: { name: string; label: string; kind: Column["kind"] | null }[];
  alert: string | null;
  rows: Row[];
  page: number;
  per_page: number;
  total: number;
  sort: string;
  order: "asc" | "desc";
}

/** Thrown for a sort column the table does not have (the API answers 400 with it). */
export class UnknownColumnError extends Error {}

function ordering(spec: TableSpec, sort: string | undefined, order: "asc" | "desc" | undefined) {
  const name = sort ?? spec.sort;
  const column = spec.columns.find((c) => c.name === name);
  if (column === undefined) {
    throw new UnknownColumnError(
      `sort: ${JSON.stringify(name)} is not a column of ${spec.name}; one of ${spec.columns.map((c) => c.name).join(", ")}`,
    );
  }
  const direction = order ?? spec.order;
  // The other columns after it (every table has its row's id among them) keep pages stable.
  const tiebreak = spec.columns.map((c) => c.name).filter((c) => c !== name);
  const nulls = direction === "asc" ? "FIRST" : "LAST";
  const sql = [`${name} ${direction.toUpperCase()} NULLS ${nulls}`, ...tiebreak.map((c) => `${c} ASC`)].join(
    ", ",
  );
  return { name, direction, sql };
}

const select = (spec: TableSpec, t: (name: string) => string): string =>
  `SELECT ${spec.columns.map((c) => `${c.sql} AS ${c.name}`).join(", ")} FROM ${spec.from(t)}`;

/** DateTime64 as ClickHouse writes it in JSON ("2026-04-30 23:59:59.500") → RFC 3339. */
function normalize(spec: TableSpec, raw: Record<string, unknown>): Row {
  const row: Row = {};
  for (const c of spec.columns) {
    const value = raw[c.name] ?? null;
    if (value !== null && c.kind === "time" && typeof value === "string") {
      row[c.name] = `${value.replace(" ", "T")}Z`;
    } else if (value !== null && c.kind === "bool") {
      row[c.name] = value === true || value === 1 || value === "1" || value === "true";
    } else if (value !== null && c.kind === "number") {
      row[c.name] = Number(value);
    } else {
      row[c.name] = value as Row[string];
    }
  }
  return row;
}

/** One page of a table, sorted. */
export async function tablePage(
  ch: ClickHouse,
  tenant: string,
  spec: TableSpec,
  request: PageRequest,
): Promise<TablePage> {
  const { name, direction, sql } = ordering(spec, request.sort, request.order);
  const t = (table: string): string => ch.table(table);
  const params = { tenant, limit: request.perPage, offset: (request.page - 1) * request.perPage };
  // The total comes with the page (one read of the table); a page past the end has no row to
  // carry it, and only then is it counted apart.
  const rows = await ch.rows<Record<string, unknown>>(
    `SELECT *, count() OVER () AS __total FROM (${select(spec, t)})
     ORDER BY ${sql} LIMIT {limit:UInt32} OFFSET {offset:UInt64}`,
    params,
  );
  const total =
    rows[0] !== undefined
      ? Number(rows[0].__total)
      : Number(
          (await ch.rows<{ n: string }>(`SELECT toString(count()) AS n FROM (${select(spec, t)})`, params))[0]
            ?.n ?? 0,
        );
  return {
    table: spec.name,
    module: spec.module,
    columns: spec.columns.map((c) => ({ name: c.name, label: c.label, kind: c.kind ?? null })),
    alert: spec.alert ?? null,
    rows: rows.map((r) => normalize(spec, r)),
    page: request.page,
    per_page: request.perPage,
    total,
    sort: name,
    order: direction,
  };
}

/**
 * A CSV cell (RFC 4180): quoted when needed; a cell that a spreadsheet would run as a formula
 * (starting with = + - @, tab or CR) gets a leading apostrophe, so a crafted team or project name
 * cannot execute in the auditor's spreadsheet (OWASP "CSV injection").
 */
export function csvCell(value: Row[string]): string {
  if (value === null) return "";
  let text = Array.isArray(value) ? value.join(";") : String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\n\r]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Every row of the table in the requested order, as CSV lines (header first), streamed. */
export async function* tableCsv(
  ch: ClickHouse,
  tenant: string,
  spec: TableSpec,
  request: Pick<PageRequest, "sort" | "order">,
): AsyncGenerator<string> {
  const { sql } = ordering(spec, request.sort, request.order);
  yield `${spec.columns.map((c) => c.name).join(",")}\r\n`;
  const query = `SELECT * FROM (${select(spec, (t) => ch.table(t))}) ORDER BY ${sql}`;
  let lines: string[] = [];
  for await (const raw of ch.stream<Record<string, unknown>>(query, { tenant })) {
    const row = normalize(spec, raw);
    lines.push(`${spec.columns.map((c) => csvCell(row[c.name] ?? null)).join(",")}\r\n`);
    if (lines.length >= 500) {
      yield lines.join("");
      lines = [];
    }
  }
  if (lines.length > 0) yield lines.join("");
}
