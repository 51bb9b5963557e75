/**
 * The analysts' views of schemas/clickhouse/006 (docs/analyst-views.md) on the embedded ClickHouse
 * engine, each with known input and its known answer: rows made by the snapshotter's own
 * transforms (the rows its sinks insert), then every view read back. Edge cases: a seat active 29
 * days ago (not idle) against 31 days (idle) and never; a snapshot missing a row never counts; two
 * tenants with the same org name kept apart; events either side of a month (and a day) boundary;
 * a re-delivered event counted once (merges stopped, so only FINAL folds it). Also: every view of
 * migrations 001 to 006 is documented, every example query of the document runs, and the
 * migration applies again over itself.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { listMigrations, migrate, type ClickHouse } from "@aiaudit/clickhouse";
import type {
  CopilotSeat,
  CopilotSeatSnapshotRecord,
  OpenaiApiKey,
  OpenaiAuditEvent,
  OpenaiEntity,
  OpenaiSnapshotRecord,
  OpenaiSnapshotRow,
} from "@aiaudit/contracts";
import { testClickHouse } from "@aiaudit/testing";
import { auditEventRows, usageRecordRows } from "../../src/transforms/event-rows.ts";
import {
  OPENAI_SNAPSHOT_TABLES,
  openaiAuditEventRows,
  openaiSnapshotRows,
} from "../../src/transforms/openai-rows.ts";
import { SEAT_TABLES, seatRecordRows } from "../../src/transforms/seat-rows.ts";
import type { RowsResult, TableRows } from "../../src/transforms/table-rows.ts";
import { auditEvent, HOUR, usageRecord } from "../fixtures.ts";

const DAY = 24 * HOUR;
const now = Date.now();
/** The current UTC month's first millisecond: "this month" starts here. */
const monthStart = Date.UTC(new Date(now).getUTCFullYear(), new Date(now).getUTCMonth(), 1);
const at = (iso: string) => Date.parse(iso);
const DOC = new URL("../../../../docs/analyst-views.md", import.meta.url);

const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;
let inserts = 0;

/** Inserts the rows of `results` table by table in `order` (rows before markers), each insert its own. */
async function put(results: RowsResult[], order: readonly string[]): Promise<void> {
  const byTable: TableRows = {};
  for (const result of results) {
    assert.ok(result.ok, result.ok ? "" : result.reason);
    for (const [table, rows] of Object.entries(result.value)) (byTable[table] ??= []).push(...(rows ?? []));
  }
  for (const table of order) {
    const rows = byTable[table] ?? [];
    inserts += 1;
    await ch.insert(table, rows, `analyst-views/${inserts}`);
  }
}

function seat(id: string, overrides: Partial<CopilotSeat> = {}): CopilotSeat {
  return {
    seat_id: id,
    assignee_pseudonym: `${id}-pseudonym`,
    assignee_type: "User",
    organization: null,
    assigning_team: null,
    plan_type: "business",
    created_at: now - 200 * DAY,
    pending_cancellation_date: null,
    last_activity_at: now - DAY,
    last_activity_editor: "vscode/1.99",
    last_authenticated_at: now - DAY,
    updated_at: null,
    ...overrides,
  };
}

interface SeatSnapshot {
  tenant: string;
  org: string;
  id: string;
  takenAt: number;
  seats: CopilotSeat[];
  /** What END says; the number of seats unless set. */
  rowCount?: number;
}

/** A seat snapshot as the seat sink writes it: BEGIN, a ROW per seat, END with the row count. */
async function seatSnapshot(spec: SeatSnapshot): Promise<void> {
  const base: CopilotSeatSnapshotRecord = {
    kind: "BEGIN",
    tenant: spec.tenant,
    org: spec.org,
    scope: "ORGANIZATION",
    snapshot_id: spec.id,
    taken_at: spec.takenAt,
    row_count: null,
    total_seats: null,
    pseudonym_key_id: "k1",
    seat: null,
  };
  const rowCount = spec.rowCount ?? spec.seats.length;
  const records: CopilotSeatSnapshotRecord[] = [
    base,
    ...spec.seats.map((s): CopilotSeatSnapshotRecord => ({ ...base, kind: "ROW", seat: s })),
    { ...base, kind: "END", row_count: rowCount, total_seats: rowCount },
  ];
  await put(
    records.map((r, i) => seatRecordRows(r, { partition: 0, offset: String(i) }, now)),
    SEAT_TABLES,
  );
}

const EMPTY_ROW: OpenaiSnapshotRow = { user: null, project: null, service_account: null, api_key: null };

interface OpenaiSnapshot {
  tenant: string;
  org: string;
  entity: OpenaiEntity;
  id: string;
  rows: Partial<OpenaiSnapshotRow>[];
  /** What END says; the number of rows unless set. */
  rowCount?: number;
}

async function openaiSnapshot(spec: OpenaiSnapshot): Promise<void> {
  const base: OpenaiSnapshotRecord = {
    ...EMPTY_ROW,
    kind: "BEGIN",
    entity: spec.entity,
    tenant: spec.tenant,
    org: spec.org,
    snapshot_id: spec.id,
    taken_at: now - HOUR,
    row_count: null,
    pseudonym_key_id: "k1",
  };
  const records: OpenaiSnapshotRecord[] = [
    base,
    ...spec.rows.map((row): OpenaiSnapshotRecord => ({ ...base, kind: "ROW", ...row })),
    { ...base, kind: "END", row_count: spec.rowCount ?? spec.rows.length },
  ];
  await put(
    records.map((r, i) => openaiSnapshotRows(r, { partition: 0, offset: String(i) }, now)),
    OPENAI_SNAPSHOT_TABLES,
  );
}

const user = (id: string, domain: string | null, serviceAccount = false): Partial<OpenaiSnapshotRow> => ({
  user: {
    user_id: id,
    email_pseudonym: `${id}-pseudonym`,
    email_domain: domain,
    email_display: domain === null ? null : `us…@${domain}`,
    role: "reader",
    added_at: now - 30 * DAY,
    is_service_account: serviceAccount,
    is_scim_managed: null,
    api_key_last_used_at: null,
  },
});

const project = (id: string, status: "active" | "archived"): Partial<OpenaiSnapshotRow> => ({
  project: {
    project_id: id,
    name: id,
    status,
    created_at: now - 60 * DAY,
    archived_at: status === "archived" ? now - 5 * DAY : null,
    residency: null,
  },
});

const apiKey = (id: string, overrides: Partial<OpenaiApiKey> = {}): Partial<OpenaiSnapshotRow> => ({
  api_key: {
    key_id: id,
    key_type: "PROJECT",
    project_id: "proj_live",
    name: id,
    redacted_value: `sk-${id}...xyz`,
    owner_type: "user",
    owner_id: "user-1",
    owner_pseudonym: null,
    owner_role: "owner",
    owner_project_access: "active",
    created_at: now - 200 * DAY,
    last_used_at: now - DAY,
    expires_at: null,
    ...overrides,
  },
});

function openaiEvent(id: string, tenant: string, effectiveAt: number, ingestedAt = now): OpenaiAuditEvent {
  return {
    event_id: id,
    tenant,
    org: "org-1",
    type: "api_key.created",
    effective_at: effectiveAt,
    project_id: null,
    project_name: null,
    actor_type: "session",
    actor_pseudonym: null,
    actor_user_id: null,
    actor_api_key_id: null,
    actor_service_account_id: null,
    actor_ip_pseudonym: null,
    resource_id: null,
    raw_json: "{}",
    pseudonym_key_id: "k1",
    ingested_at: ingestedAt,
  };
}

/** Copilot audit events, one insert each (a re-delivery is an insert of its own). */
async function copilotEvents(...events: Parameters<typeof auditEvent>[]): Promise<void> {
  for (const [id, overrides] of events) {
    await put([auditEventRows(auditEvent(id, overrides), now)], ["copilot_audit_events"]);
  }
}

const agent = (tenant: string, createdAt: string, session: string, person: string) => ({
  tenant,
  action: "pull_request.create",
  created_at: at(createdAt),
  actor_pseudonym: null,
  actor_agent: "Copilot",
  actor_is_agent: true,
  agent_session_id: session,
  user_pseudonym: person,
});

/** `SELECT <columns> FROM <view> ORDER BY <orderBy>`, each row as its values in column order. */
async function read(view: string, columns: string, orderBy: string): Promise<unknown[][]> {
  const rows = await ch.rows<Record<string, unknown>>(
    `SELECT ${columns} FROM ${ch.table(view)} ORDER BY ${orderBy}`,
  );
  // UInt64 comes as a number from the embedded engine, as a string from a server.
  return rows.map((row) =>
    Object.values(row).map((v) => (typeof v === "string" && /^\d+$/.test(v) ? Number(v) : v)),
  );
}

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  // Merges would fold re-delivered rows on their own: keep every part, so only FINAL folds them.
  for (const table of [
    "copilot_seat_snapshots",
    "copilot_seat_snapshot_markers",
    "copilot_audit_events",
    "copilot_usage_records",
    "openai_audit_events",
  ]) {
    await ch.command(`SYSTEM STOP MERGES ${ch.table(table)}`);
  }

  // tenant-a, org acme: an older complete snapshot, the current one, and a newer one missing a row.
  await seatSnapshot({
    tenant: "tenant-a",
    org: "acme",
    id: "acme-1",
    takenAt: now - 3 * DAY,
    seats: [
      seat("old-never", { last_activity_at: null }),
      seat("old-leaving", { pending_cancellation_date: "2027-01-01" }),
    ],
  });
  await seatSnapshot({
    tenant: "tenant-a",
    org: "acme",
    id: "acme-2",
    takenAt: now - 2 * HOUR,
    seats: [
      seat("active"),
      seat("active-29", { last_activity_at: now - 29 * DAY }),
      seat("idle-31", { last_activity_at: now - 31 * DAY }),
      seat("never", { last_activity_at: null, last_activity_editor: null, last_authenticated_at: null }),
      seat("leaving", { pending_cancellation_date: "2027-01-01" }),
      seat("leaving-idle", { last_activity_at: now - 40 * DAY, pending_cancellation_date: "2027-01-01" }),
    ],
  });
  await seatSnapshot({
    tenant: "tenant-a",
    org: "acme",
    id: "acme-3-incomplete",
    takenAt: now - HOUR,
    seats: [seat("ghost", { last_activity_at: null }), seat("active")],
    rowCount: 3,
  });
  await seatSnapshot({
    tenant: "tenant-a",
    org: "acme-labs",
    id: "labs-1",
    takenAt: now - HOUR,
    seats: [seat("labs-never", { last_activity_at: null })],
  });
  // tenant-b has an org of the same name.
  await seatSnapshot({
    tenant: "tenant-b",
    org: "acme",
    id: "b-acme-1",
    takenAt: now - HOUR,
    seats: [seat("b-active"), seat("b-idle", { last_activity_at: now - 31 * DAY })],
  });
  // tenant-c: only a snapshot whose rows are not all in.
  await seatSnapshot({
    tenant: "tenant-c",
    org: "solo",
    id: "solo-1",
    takenAt: now - HOUR,
    seats: [seat("c-never", { last_activity_at: null })],
    rowCount: 2,
  });

  // Seat changes either side of the January/February 2025 boundary, one event re-delivered.
  await copilotEvents(
    ["added-jan", { action: "copilot.cfb_seat_added", created_at: at("2025-01-10T10:00:00.000Z") }],
    ["added-last-ms", { action: "copilot.cfb_seat_added", created_at: at("2025-01-31T23:59:59.999Z") }],
    [
      "added-last-ms",
      { action: "copilot.cfb_seat_added", created_at: at("2025-01-31T23:59:59.999Z"), ingested_at: now + 1 },
    ],
    [
      "assigned-jan",
      { action: "copilot.cfb_seat_assignment_created", created_at: at("2025-01-10T10:00:00.000Z") },
    ],
    [
      "cancelled-first-ms",
      { action: "copilot.cfb_seat_cancelled", created_at: at("2025-02-01T00:00:00.000Z") },
    ],
    [
      "unassigned-feb",
      { action: "copilot.cfb_seat_assignment_unassigned", created_at: at("2025-02-03T10:00:00.000Z") },
    ],
    [
      "staff-feb",
      { action: "copilot.cfb_seat_cancelled_by_staff", created_at: at("2025-02-04T10:00:00.000Z") },
    ],
    [
      "refreshed-feb",
      { action: "copilot.cfb_seat_assignment_refreshed", created_at: at("2025-02-05T10:00:00.000Z") },
    ],
    [
      "reused-feb",
      { action: "copilot.cfb_seat_assignment_reused", created_at: at("2025-02-06T10:00:00.000Z") },
    ],
    ["policy-mar", { action: "copilot.policy_updated", created_at: at("2025-03-01T10:00:00.000Z") }],
    // The same event id in another tenant is another event.
    [
      "added-jan",
      { tenant: "tenant-b", action: "copilot.cfb_seat_added", created_at: at("2025-01-15T10:00:00.000Z") },
    ],
  );
  // Agent events either side of a UTC midnight, one re-delivered; a human event the same day.
  await copilotEvents(
    ["agent-1", agent("tenant-a", "2025-03-10T08:00:00.000Z", "session-1", "person-1")],
    ["agent-2", agent("tenant-a", "2025-03-10T09:00:00.000Z", "session-1", "person-1")],
    ["agent-3", agent("tenant-a", "2025-03-10T23:59:59.999Z", "session-2", "person-2")],
    [
      "agent-3",
      { ...agent("tenant-a", "2025-03-10T23:59:59.999Z", "session-2", "person-2"), ingested_at: now + 1 },
    ],
    ["agent-4", agent("tenant-a", "2025-03-11T00:00:00.000Z", "session-2", "person-2")],
    ["human-1", { action: "copilot.policy_updated", created_at: at("2025-03-10T12:00:00.000Z") }],
    ["agent-1", agent("tenant-b", "2025-03-10T08:00:00.000Z", "session-9", "person-9")],
  );
  // This month's events: at its first millisecond, now, and one a millisecond before it starts.
  await copilotEvents(
    ["month-first-ms", { action: "copilot.policy_updated", created_at: monthStart }],
    ["month-first-ms", { action: "copilot.policy_updated", created_at: monthStart, ingested_at: now + 1 }],
    ["month-now", { action: "copilot.policy_updated", created_at: now }],
    ["last-month", { action: "copilot.policy_updated", created_at: monthStart - 1 }],
  );

  // Agent usage records of tenant-a's enterprise over two days, one re-delivered; tenant-b's one.
  const usage: Parameters<typeof usageRecord>[] = [
    ["r1", { created_at: at("2025-03-10T08:00:00.000Z"), user_pseudonym: "person-1" }],
    ["r1", { created_at: at("2025-03-10T08:00:00.000Z"), user_pseudonym: "person-1", ingested_at: now + 1 }],
    ["r2", { type: "response", created_at: at("2025-03-10T08:00:01.000Z"), user_pseudonym: "person-1" }],
    ["r3", { created_at: at("2025-03-10T23:59:59.999Z"), user_pseudonym: "person-2", truncated: true }],
    ["r4", { created_at: at("2025-03-11T00:00:00.000Z"), user_pseudonym: "person-1" }],
    ["r1", { tenant: "tenant-b", created_at: at("2025-03-10T08:00:00.000Z") }],
  ];
  for (const [id, overrides] of usage) {
    await put([usageRecordRows(usageRecord(id, overrides), now)], ["copilot_usage_records"]);
  }

  // OpenAI: tenant-a's org-1 with users, projects and keys; tenant-b's org with one user.
  await openaiSnapshot({
    tenant: "tenant-a",
    org: "org-1",
    entity: "USERS",
    id: "users-1",
    rows: [
      user("user-1", "acme.com"),
      user("user-2", "gmail.com"),
      user("user-3", null),
      // A service account listed among the users: not a person, not counted as a user.
      user("user-svc", null, true),
    ],
  });
  await openaiSnapshot({
    tenant: "tenant-a",
    org: "org-1",
    entity: "USERS",
    id: "users-2-incomplete",
    rows: [user("user-1", "acme.com")],
    rowCount: 4,
  });
  await openaiSnapshot({
    tenant: "tenant-a",
    org: "org-1",
    entity: "PROJECTS",
    id: "projects-1",
    rows: [project("proj_live", "active"), project("proj_two", "active"), project("proj_old", "archived")],
  });
  await openaiSnapshot({
    tenant: "tenant-a",
    org: "org-1",
    entity: "PROJECT_API_KEYS",
    id: "keys-1",
    rows: [
      apiKey("key_ok"),
      apiKey("key_stale", { last_used_at: now - 91 * DAY }),
      apiKey("key_edge", { last_used_at: now - 89 * DAY }),
      apiKey("key_gone", { owner_id: "user-9" }),
      apiKey("key_archived", { project_id: "proj_old" }),
    ],
  });
  await openaiSnapshot({
    tenant: "tenant-a",
    org: "org-1",
    entity: "ADMIN_API_KEYS",
    id: "admin-1",
    rows: [
      apiKey("admin_never", {
        key_type: "ADMIN",
        project_id: null,
        owner_project_access: null,
        last_used_at: null,
      }),
    ],
  });
  await openaiSnapshot({
    tenant: "tenant-b",
    org: "org-b",
    entity: "USERS",
    id: "users-b-1",
    rows: [user("user-b1", "gmail.com")],
  });
  await ch.insert("tenant_domains", [{ tenant: "tenant-a", domain: "acme.com" }], "analyst-views/domains");
  for (const event of [
    openaiEvent("oe-month", "tenant-a", monthStart),
    openaiEvent("oe-month", "tenant-a", monthStart, now + 1),
    openaiEvent("oe-last-month", "tenant-a", monthStart - 1),
  ]) {
    await put([openaiAuditEventRows(event, now + 1)], ["openai_audit_events"]);
  }
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("copilot_idle_seats", () => {
  it("current seats idle for over 30 days or never used, with the reason; 29 days is not idle", async () => {
    assert.deepEqual(
      await read("copilot_idle_seats", "tenant, org, seat_id, reason, snapshot_id", "tenant, org, seat_id"),
      [
        ["tenant-a", "acme", "idle-31", "idle", "acme-2"],
        ["tenant-a", "acme", "leaving-idle", "idle", "acme-2"],
        ["tenant-a", "acme", "never", "never used", "acme-2"],
        ["tenant-a", "acme-labs", "labs-never", "never used", "labs-1"],
        ["tenant-b", "acme", "b-idle", "idle", "b-acme-1"],
      ],
    );
  });
});

describe("copilot_pending_cancellations", () => {
  it("current seats with a pending cancellation date, and no seat of an older snapshot", async () => {
    assert.deepEqual(
      await read(
        "copilot_pending_cancellations",
        "tenant, org, seat_id, toString(pending_cancellation_date) AS until, snapshot_id",
        "tenant, org, seat_id",
      ),
      [
        ["tenant-a", "acme", "leaving", "2027-01-01", "acme-2"],
        ["tenant-a", "acme", "leaving-idle", "2027-01-01", "acme-2"],
      ],
    );
  });
});

describe("copilot_seat_changes_monthly", () => {
  it("grants and removals per tenant, org and UTC month, each event id once", async () => {
    const columns = `tenant, org, toString(month) AS m, seats_granted, seats_removed, assignments_created,
      assignments_unassigned, cancellations_revoked`;
    assert.deepEqual(await read("copilot_seat_changes_monthly", columns, "tenant, org, m"), [
      ["tenant-a", "acme", "2025-01-01", 2, 0, 1, 0, 0],
      ["tenant-a", "acme", "2025-02-01", 0, 2, 0, 1, 1],
      ["tenant-b", "acme", "2025-01-01", 1, 0, 0, 0, 0],
    ]);
    // The re-delivered event is stored twice: only FINAL made it count once.
    const [stored] = await ch.rows<{ n: number | string }>(
      `SELECT count() AS n FROM ${ch.table("copilot_audit_events")} WHERE event_id = 'added-last-ms'`,
    );
    assert.equal(Number(stored?.n), 2);
  });
});

describe("copilot_agent_activity_daily", () => {
  it("agent events, sessions and people per tenant, org, UTC day and agent; humans left out", async () => {
    const columns = "tenant, org, toString(day) AS d, agent, events, sessions, users";
    assert.deepEqual(await read("copilot_agent_activity_daily", columns, "tenant, org, d, agent"), [
      ["tenant-a", "acme", "2025-03-10", "Copilot", 3, 2, 2],
      ["tenant-a", "acme", "2025-03-11", "Copilot", 1, 1, 1],
      ["tenant-b", "acme", "2025-03-10", "Copilot", 1, 1, 1],
    ]);
  });
});

describe("copilot_agent_usage_daily", () => {
  it("usage records per tenant, enterprise and UTC day, each record id once", async () => {
    const columns =
      "tenant, enterprise, toString(day) AS d, records, requests, responses, users, truncated_records";
    assert.deepEqual(await read("copilot_agent_usage_daily", columns, "tenant, enterprise, d"), [
      ["tenant-a", "acme-ent", "2025-03-10", 3, 2, 1, 2, 1],
      ["tenant-a", "acme-ent", "2025-03-11", 1, 1, 0, 1, 0],
      ["tenant-b", "acme-ent", "2025-03-10", 1, 1, 0, 1, 0],
    ]);
  });
});

describe("the OpenAI views the KPI summary counts", () => {
  it("stale, orphan and external: exactly the expected ids", async () => {
    assert.deepEqual(await read("openai_stale_keys", "tenant, key_id", "tenant, key_id"), [
      ["tenant-a", "admin_never"],
      ["tenant-a", "key_stale"],
    ]);
    assert.deepEqual(await read("openai_orphan_keys", "tenant, key_id", "tenant, key_id"), [
      ["tenant-a", "key_archived"],
      ["tenant-a", "key_gone"],
    ]);
    assert.deepEqual(await read("openai_external_users", "tenant, user_id", "tenant, user_id"), [
      ["tenant-a", "user-2"],
    ]);
  });
});

describe("kpi_summary", () => {
  const FIGURES = [
    "connected_orgs",
    "events_this_month",
    "seats",
    "idle_seats",
    "never_used_seats",
    "pending_cancellation_seats",
    "users",
    "active_projects",
    "keys",
    "stale_keys",
    "orphan_keys",
    "external_users",
  ];
  const copilotOnly = {
    users: null,
    active_projects: null,
    keys: null,
    stale_keys: null,
    orphan_keys: null,
    external_users: null,
  };
  const openaiOnly = {
    seats: null,
    idle_seats: null,
    never_used_seats: null,
    pending_cancellation_seats: null,
  };

  it("one row per tenant and module with data, every figure known, null where it does not apply", async () => {
    const rows = await read("kpi_summary", `tenant, module, ${FIGURES.join(", ")}`, "tenant, module");
    const byKey = Object.fromEntries(
      rows.map(([tenant, module, ...figures]) => [
        `${String(tenant)}/${String(module)}`,
        Object.fromEntries(FIGURES.map((f, i) => [f, figures[i]])),
      ]),
    );
    assert.deepEqual(byKey, {
      // acme's current snapshot acme-2 (6 seats) and acme-labs (1 seat): the incomplete acme-3 and
      // the older acme-1 count for nothing.
      "tenant-a/copilot": {
        connected_orgs: 2,
        events_this_month: 2,
        seats: 7,
        idle_seats: 2,
        never_used_seats: 2,
        pending_cancellation_seats: 2,
        ...copilotOnly,
      },
      "tenant-a/openai_admin": {
        connected_orgs: 1,
        events_this_month: 1,
        users: 3,
        active_projects: 2,
        keys: 6,
        stale_keys: 2,
        orphan_keys: 2,
        external_users: 1,
        ...openaiOnly,
      },
      "tenant-b/copilot": {
        connected_orgs: 1,
        events_this_month: 0,
        seats: 2,
        idle_seats: 1,
        never_used_seats: 0,
        pending_cancellation_seats: 0,
        ...copilotOnly,
      },
      // No tenant_domains for tenant-b: whether its users are external is unknown (null), not 0.
      "tenant-b/openai_admin": {
        connected_orgs: 1,
        events_this_month: 0,
        users: 1,
        active_projects: 0,
        keys: 0,
        stale_keys: 0,
        orphan_keys: 0,
        external_users: null,
        ...openaiOnly,
      },
      // tenant-c has only an incomplete snapshot and no event this month: no row.
    });
  });
});

describe("documentation and migration", () => {
  const doc = readFileSync(DOC, "utf8");
  const views = listMigrations().flatMap((m) =>
    [...m.sql.matchAll(/CREATE VIEW IF NOT EXISTS \{db\}\.(\w+)/g)].map((match) => match[1] ?? ""),
  );

  it("every view of every migration has its section and an example query in docs/analyst-views.md", () => {
    assert.ok(views.includes("kpi_summary") && views.includes("copilot_current_seats"));
    const undocumented = views.filter(
      (v) => !doc.includes(`### \`${v}\``) || !new RegExp(`FROM aiaudit\\.${v}\\b`).test(doc),
    );
    assert.deepEqual(undocumented, []);
  });

  it("every example query of the document runs against the migrated schema", async () => {
    const examples = [...doc.matchAll(/```sql\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
    assert.ok(examples.length >= views.length, `${examples.length} examples for ${views.length} views`);
    for (const sql of examples) {
      const query = sql.replaceAll("aiaudit.", `\`${ch.database}\`.`).trim().replace(/;$/, "");
      await assert.doesNotReject(ch.rows(query), `example failed:\n${sql}`);
    }
  });

  it("applies once, and again over its own views when its record is gone (IF NOT EXISTS)", async () => {
    const again = await migrate(ch);
    assert.deepEqual(again.applied, []);
    assert.ok(again.skipped.includes("006_analyst_views"));
    await ch.command(`ALTER TABLE ${ch.table("schema_migrations")} DELETE WHERE version = 6`, {
      mutations_sync: "2",
    });
    assert.deepEqual((await migrate(ch)).applied, ["006_analyst_views"]);
    assert.equal((await read("kpi_summary", "tenant", "tenant")).length, 4);
  });
});
