/**
 * The OpenAI topics end to end: snapshot transactions (BEGIN, ROWs, END) and audit events written
 * to the real broker as ingest-openai writes them, sunk by the running snapshotter (`runOnce`) into
 * embedded ClickHouse, and read back through the views analysts use: current state per entity,
 * stale keys, orphan keys, external users. Also: a re-delivered batch inserts nothing twice, and a
 * snapshot whose rows are not all in never replaces the current one.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { ClickHouse } from "@aiaudit/clickhouse";
import {
  codecs,
  DlqHeaders,
  recordKey,
  topicNames,
  topicSpecs,
  type DeadLetter,
  type OpenaiApiKey,
  type OpenaiAuditEvent,
  type OpenaiEntity,
  type OpenaiSnapshotRecord,
  type OpenaiSnapshotRow,
  type OpenaiUser,
} from "@aiaudit/contracts";
import type { IncomingBatch, OutgoingRecord } from "@aiaudit/kafka";
import { createService, type SnapshotterService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import { captureLogger, testClickHouse, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";
import { createOpenaiSnapshotSink } from "../../src/sinks/clickhouse-openai.ts";
import { telemetry } from "../../src/telemetry.ts";
import { HOUR } from "../fixtures.ts";

const prefix = uniquePrefix("openai");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger("openai");
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

const DAY = 24 * HOUR;
const now = Date.now();

const config = (group: string) =>
  loadConfig({
    KAFKA_BROKERS: TEST_BROKERS.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    SNAPSHOTTER_GROUP_ID: group,
  });

const ENTITY_TOPICS: Record<OpenaiEntity, string> = {
  USERS: topics.openaiUsers,
  PROJECTS: topics.openaiProjects,
  SERVICE_ACCOUNTS: topics.openaiServiceAccounts,
  PROJECT_API_KEYS: topics.openaiApiKeys,
  ADMIN_API_KEYS: topics.openaiApiKeys,
};

interface SnapshotSpec {
  entity: OpenaiEntity;
  id: string;
  takenAt: number;
  rows: Partial<OpenaiSnapshotRow>[];
  tenant?: string;
  org?: string;
  /** What END says; the number of rows unless set. */
  rowCount?: number;
}

const EMPTY_ROW: OpenaiSnapshotRow = { user: null, project: null, service_account: null, api_key: null };

function entityId(row: OpenaiSnapshotRow): string {
  return (
    row.user?.user_id ??
    row.project?.project_id ??
    row.service_account?.service_account_id ??
    row.api_key?.key_id ??
    "?"
  );
}

/** The decoded records of one snapshot: BEGIN, a ROW per entity, END with the row count. */
function snapshotRecords(spec: SnapshotSpec): OpenaiSnapshotRecord[] {
  const base: OpenaiSnapshotRecord = {
    ...EMPTY_ROW,
    kind: "BEGIN",
    entity: spec.entity,
    tenant: spec.tenant ?? "tenant-a",
    org: spec.org ?? "org-1",
    snapshot_id: spec.id,
    taken_at: spec.takenAt,
    row_count: null,
    pseudonym_key_id: "k1",
  };
  const rows = spec.rows.map((row): OpenaiSnapshotRecord => ({ ...base, kind: "ROW", ...row }));
  const end: OpenaiSnapshotRecord = { ...base, kind: "END", row_count: spec.rowCount ?? rows.length };
  return [base, ...rows, end];
}

/** One snapshot as ingest-openai writes it: rows keyed by entity id (spread over partitions). */
function snapshot(spec: SnapshotSpec): OutgoingRecord[] {
  return snapshotRecords(spec).map((r) => ({
    topic: ENTITY_TOPICS[r.entity],
    key:
      r.kind === "ROW"
        ? recordKey(r.tenant, r.org, entityId(r))
        : recordKey(r.tenant, r.org, `snapshot/${r.snapshot_id}`),
    value: codecs.openaiSnapshot.encode(r),
  }));
}

/** Writes `records` in one Kafka transaction, as ingest does for a snapshot. */
async function publish(records: OutgoingRecord[]): Promise<void> {
  const producer = await kafka.transactionalProducer(`${prefix}.ingest-openai`);
  try {
    await producer.transaction((tx) => tx.send(records));
  } finally {
    await producer.disconnect();
  }
}

function user(id: string, domain: string | null): { user: OpenaiUser } {
  return {
    user: {
      user_id: id,
      email_pseudonym: `${id}-pseudonym`,
      email_domain: domain,
      email_display: domain ? `us…@${domain}` : null,
      role: "reader",
      added_at: now - 30 * DAY,
      is_service_account: false,
      is_scim_managed: null,
      api_key_last_used_at: null,
    },
  };
}

function project(id: string, status: "active" | "archived"): Partial<OpenaiSnapshotRow> {
  return {
    project: {
      project_id: id,
      name: id,
      status,
      created_at: now - 60 * DAY,
      archived_at: status === "archived" ? now - 5 * DAY : null,
      residency: null,
    },
  };
}

function serviceAccount(id: string, projectId: string): Partial<OpenaiSnapshotRow> {
  return {
    service_account: {
      service_account_id: id,
      project_id: projectId,
      name: id,
      role: "member",
      created_at: now - 20 * DAY,
    },
  };
}

function apiKey(id: string, overrides: Partial<OpenaiApiKey>): { api_key: OpenaiApiKey } {
  return {
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
  };
}

function auditEvent(id: string): OpenaiAuditEvent {
  return {
    event_id: id,
    tenant: "tenant-a",
    org: "org-1",
    type: "api_key.created",
    effective_at: now - HOUR,
    project_id: "proj_live",
    project_name: "proj_live",
    actor_type: "session",
    actor_pseudonym: "a".repeat(64),
    actor_user_id: "user-1",
    actor_api_key_id: null,
    actor_service_account_id: null,
    actor_ip_pseudonym: null,
    resource_id: "key_ok",
    raw_json: JSON.stringify({ id, type: "api_key.created" }),
    pseudonym_key_id: "k1",
    ingested_at: now,
  };
}

const auditRecord = (id: string): OutgoingRecord => ({
  topic: topics.openaiAuditEvents,
  key: recordKey("tenant-a", "org-1", id),
  value: codecs.openaiAuditEvent.encode(auditEvent(id)),
});

async function count(table: string, where = "1", final = false): Promise<number> {
  const [row] = await ch.rows<{ n: string | number }>(
    `SELECT count() AS n FROM ${ch.table(table)}${final ? " FINAL" : ""} WHERE ${where}`,
  );
  return Number(row?.n);
}

async function ids(view: string, column: string, where = "1"): Promise<string[]> {
  const rows = await ch.rows<Record<string, string>>(
    `SELECT ${column} AS id FROM ${ch.table(view)} WHERE ${where} ORDER BY id`,
  );
  return rows.map((r) => String(r.id));
}

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  await kafka.ensureTopics(topicSpecs(prefix));
  // Merges would fold duplicates away and hide a second insert: keep every inserted part.
  for (const table of ["openai_users", "openai_api_keys", "openai_snapshot_markers", "openai_audit_events"]) {
    await ch.command(`SYSTEM STOP MERGES ${ch.table(table)}`);
  }
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("OpenAI topics through the running snapshotter", () => {
  let service: SnapshotterService;

  before(() => {
    service = createService(config(`${prefix}-main`), { logger, kafka, clickhouse: ch });
  });

  after(() => service.stop());

  it("sinks every snapshot and audit event once, also when the pass runs again", async () => {
    await publish(
      snapshot({
        entity: "USERS",
        id: "users-1",
        takenAt: now - 3 * HOUR,
        rows: [user("user-1", "acme.com"), user("user-2", "contractor.io"), user("user-3", "acme.com")],
      }),
    );
    await publish(
      snapshot({
        entity: "PROJECTS",
        id: "projects-1",
        takenAt: now - 3 * HOUR,
        rows: [project("proj_live", "active"), project("proj_old", "archived")],
      }),
    );
    await publish(
      snapshot({
        entity: "SERVICE_ACCOUNTS",
        id: "sa-1",
        takenAt: now - 3 * HOUR,
        rows: [serviceAccount("svc_live", "proj_live")],
      }),
    );
    await publish(
      snapshot({
        entity: "PROJECT_API_KEYS",
        id: "keys-1",
        takenAt: now - 3 * HOUR,
        rows: [
          // Fine: a current user's key, used 89 days ago, in an active project.
          apiKey("key_ok", { last_used_at: now - 89 * DAY }),
          apiKey("key_gone_user", { owner_id: "user-9" }),
          apiKey("key_no_access", { owner_id: "user-2", owner_project_access: "inactive" }),
          apiKey("key_archived", { project_id: "proj_old", last_used_at: now - 100 * DAY }),
          // Fine as an owner; never used.
          apiKey("key_svc_ok", { owner_type: "service_account", owner_id: "svc_live", last_used_at: null }),
          apiKey("key_svc_gone", { owner_type: "service_account", owner_id: "svc_deleted" }),
          // Service accounts are listed for active projects only: archived is the reason here.
          apiKey("key_svc_archived", {
            owner_type: "service_account",
            owner_id: "svc_old",
            project_id: "proj_old",
          }),
          apiKey("key_all_three", {
            owner_id: "user-9",
            owner_project_access: "inactive",
            project_id: "proj_old",
          }),
        ],
      }),
    );
    await publish(
      snapshot({
        entity: "ADMIN_API_KEYS",
        id: "admin-1",
        takenAt: now - 3 * HOUR,
        rows: [
          apiKey("admin_recent", { key_type: "ADMIN", project_id: null, owner_project_access: null }),
          apiKey("admin_never", {
            key_type: "ADMIN",
            project_id: null,
            owner_project_access: null,
            last_used_at: null,
            expires_at: now + 365 * DAY,
          }),
        ],
      }),
    );
    await publish(["ev-1", "ev-2", "ev-3"].map(auditRecord));
    await publish([auditRecord("ev-2")]); // ingest wrote ev-2 again (a re-read overlap)

    assert.equal(await service.runOnce(), true);
    const landed = async () => ({
      users: await count("openai_users"),
      projects: await count("openai_projects"),
      serviceAccounts: await count("openai_service_accounts"),
      keys: await count("openai_api_keys"),
      markers: await count("openai_snapshot_markers"),
    });
    const expected = { users: 3, projects: 2, serviceAccounts: 1, keys: 10, markers: 5 };
    assert.deepEqual(await landed(), expected);
    assert.equal(await count("openai_audit_events", "1", true), 3);

    assert.equal(await service.runOnce(), true); // nothing new: nothing inserted again
    assert.deepEqual(await landed(), expected);
    assert.ok(
      lines.some((l) => l.includes('"event":"snapshot_end_sunk"') && l.includes('"entity":"ADMIN_API_KEYS"')),
      "the END marker's log line names the entity",
    );
  });

  it("audit events: one row per event id", async () => {
    const rows = await ch.rows<{ event_id: string; n: string | number }>(
      `SELECT event_id, count() AS n FROM ${ch.table("openai_audit_events")} FINAL GROUP BY event_id ORDER BY event_id`,
    );
    assert.deepEqual(
      rows.map((r) => [r.event_id, Number(r.n)]),
      [
        ["ev-1", 1],
        ["ev-2", 1],
        ["ev-3", 1],
      ],
    );
    const [event] = await ch.rows<{ type: string; effective_at: string; resource_id: string }>(
      `SELECT type, toUnixTimestamp64Milli(effective_at) AS effective_at, resource_id
       FROM ${ch.table("openai_audit_events")} FINAL WHERE event_id = 'ev-1'`,
    );
    assert.deepEqual(
      { ...event, effective_at: Number(event?.effective_at) },
      { type: "api_key.created", effective_at: now - HOUR, resource_id: "key_ok" },
    );
  });

  it("current views: the newest complete snapshot of each entity, project and admin keys apart", async () => {
    await publish(
      snapshot({
        entity: "USERS",
        id: "users-2",
        takenAt: now - 2 * HOUR,
        rows: [user("user-1", "acme.com"), user("user-2", "contractor.io")],
      }),
    );
    // A newer admin-key snapshot replaces the admin keys only, never the project keys.
    await publish(
      snapshot({
        entity: "ADMIN_API_KEYS",
        id: "admin-2",
        takenAt: now - 2 * HOUR,
        rows: [
          apiKey("admin_never", {
            key_type: "ADMIN",
            project_id: null,
            owner_project_access: null,
            last_used_at: null,
          }),
          apiKey("admin_new", { key_type: "ADMIN", project_id: null, owner_project_access: null }),
        ],
      }),
    );
    assert.equal(await service.runOnce(), true);
    assert.deepEqual(await ids("openai_current_users", "user_id"), ["user-1", "user-2"]);
    assert.deepEqual(await ids("openai_current_projects", "project_id"), ["proj_live", "proj_old"]);
    assert.deepEqual(await ids("openai_current_service_accounts", "service_account_id"), ["svc_live"]);
    assert.deepEqual(await ids("openai_current_api_keys", "key_id", "key_type = 'ADMIN'"), [
      "admin_never",
      "admin_new",
    ]);
    assert.equal((await ids("openai_current_api_keys", "key_id", "key_type = 'PROJECT'")).length, 8);
    assert.deepEqual(await ids("openai_current_api_keys", "DISTINCT snapshot_id"), ["admin-2", "keys-1"]);
  });

  it("a snapshot with fewer rows in than its END says never replaces the current one", async () => {
    await publish(
      snapshot({
        entity: "USERS",
        id: "users-3",
        takenAt: now - HOUR,
        rows: [user("user-1", "acme.com")],
        rowCount: 2, // one row went missing
      }),
    );
    assert.equal(await service.runOnce(), true);
    assert.equal(await count("openai_snapshot_markers", "snapshot_id = 'users-3'"), 1);
    assert.equal(await count("openai_users", "snapshot_id = 'users-3'"), 1);
    assert.deepEqual(await ids("openai_complete_snapshots", "snapshot_id", "entity = 'USERS'"), [
      "users-1",
      "users-2",
    ]);
    assert.deepEqual(await ids("openai_current_users", "DISTINCT snapshot_id"), ["users-2"]);
    assert.deepEqual(await ids("openai_current_users", "user_id"), ["user-1", "user-2"]);
  });

  it("an empty snapshot (row_count 0) is complete: the org's current service accounts are none", async () => {
    await publish(
      snapshot({
        entity: "SERVICE_ACCOUNTS",
        id: "sa-org2-1",
        org: "org-2",
        takenAt: now - 2 * HOUR,
        rows: [serviceAccount("svc_x", "proj_x")],
      }),
    );
    await publish(
      snapshot({ entity: "SERVICE_ACCOUNTS", id: "sa-org2-2", org: "org-2", takenAt: now - HOUR, rows: [] }),
    );
    assert.equal(await service.runOnce(), true);
    assert.deepEqual(await ids("openai_complete_snapshots", "snapshot_id", "org = 'org-2'"), [
      "sa-org2-1",
      "sa-org2-2",
    ]);
    assert.deepEqual(await ids("openai_current_service_accounts", "service_account_id", "org = 'org-2'"), []);
    // org-1's service accounts are untouched.
    assert.deepEqual(await ids("openai_current_service_accounts", "service_account_id"), ["svc_live"]);
  });

  it("stale keys: exactly the current keys never used or unused for over 90 days", async () => {
    const rows = await ch.rows<{ key_id: string; key_type: string; reason: string }>(
      `SELECT key_id, key_type, reason FROM ${ch.table("openai_stale_keys")} ORDER BY key_id`,
    );
    assert.deepEqual(
      rows.map((r) => [r.key_id, r.key_type, r.reason]),
      [
        ["admin_never", "ADMIN", "never used"],
        ["key_archived", "PROJECT", "unused for over 90 days"],
        ["key_svc_ok", "PROJECT", "never used"],
      ],
    );
  });

  it("orphan keys: owner gone, owner without access, project archived, and nothing else", async () => {
    const rows = await ch.rows<{ key_id: string; reason: string; reasons: string[] }>(
      `SELECT key_id, reason, reasons FROM ${ch.table("openai_orphan_keys")} ORDER BY key_id`,
    );
    assert.deepEqual(
      rows.map((r) => [r.key_id, r.reason, r.reasons]),
      [
        [
          "key_all_three",
          "owner not in the organization",
          ["owner not in the organization", "owner has no access to the project", "project archived"],
        ],
        ["key_archived", "project archived", ["project archived"]],
        ["key_gone_user", "owner not in the organization", ["owner not in the organization"]],
        ["key_no_access", "owner has no access to the project", ["owner has no access to the project"]],
        ["key_svc_archived", "project archived", ["project archived"]],
        ["key_svc_gone", "owner not in the organization", ["owner not in the organization"]],
      ],
    );
  });

  it("orphan keys: an owner is judged only against a current snapshot of the owners", async () => {
    // org-3 has keys but no users snapshot yet: its user-owned key is not called an orphan.
    await publish(
      snapshot({
        entity: "PROJECT_API_KEYS",
        id: "keys-org3",
        org: "org-3",
        takenAt: now - HOUR,
        rows: [apiKey("key_org3", { owner_id: "user-1" })],
      }),
    );
    assert.equal(await service.runOnce(), true);
    assert.deepEqual(await ids("openai_current_api_keys", "key_id", "org = 'org-3'"), ["key_org3"]);
    assert.deepEqual(await ids("openai_orphan_keys", "key_id", "org = 'org-3'"), []);
  });

  it("external users: domains outside the tenant's own; a tenant without domains is left out", async () => {
    await publish(
      snapshot({
        entity: "USERS",
        id: "users-b-1",
        tenant: "tenant-b",
        takenAt: now - HOUR,
        rows: [user("user-b1", "gmail.com"), user("user-b2", null)],
      }),
    );
    assert.equal(await service.runOnce(), true);
    assert.deepEqual(await ids("openai_external_users", "user_id"), []); // no tenant has domains yet
    // Explicit tokens: on the embedded engine a token-less insert inherits the last insert's token.
    await ch.insert(
      "tenant_domains",
      [
        { tenant: "tenant-a", domain: "acme.com" },
        { tenant: "tenant-a", domain: "acme.io" },
      ],
      `${prefix}/tenant_domains/tenant-a`,
    );
    assert.deepEqual(await ids("openai_external_users", "user_id"), ["user-2"]);
    assert.deepEqual(await ids("openai_external_users", "user_id", "tenant = 'tenant-b'"), []);
    assert.equal((await ids("openai_current_users", "user_id", "tenant = 'tenant-b'")).length, 2);
    await ch.insert(
      "tenant_domains",
      [{ tenant: "tenant-b", domain: "EXAMPLE.org" }], // compared in lower case
      `${prefix}/tenant_domains/tenant-b`,
    );
    // user-b2 has no email domain: unknown, not external.
    assert.deepEqual(await ids("openai_external_users", "user_id", "tenant = 'tenant-b'"), ["user-b1"]);
  });

  it("a second consumer group reading everything again changes no view", async () => {
    const again = createService(config(`${prefix}-again`), { logger, kafka, clickhouse: ch });
    try {
      assert.equal(await again.runOnce(), true);
    } finally {
      await again.stop();
    }
    assert.deepEqual(await ids("openai_current_users", "user_id", "tenant = 'tenant-a'"), [
      "user-1",
      "user-2",
    ]);
    assert.equal(await count("openai_users", "1", true), 3 + 2 + 1 + 2);
    assert.equal(await count("openai_api_keys", "1", true), 10 + 2 + 1);
    assert.equal(await count("openai_audit_events", "1", true), 3);
    assert.equal((await ids("openai_orphan_keys", "key_id")).length, 6);
  });
});

describe("the snapshot sink handed a batch directly", () => {
  const letters: DeadLetter[] = [];

  const sink = () =>
    createOpenaiSnapshotSink({
      ch,
      topics,
      telemetry: telemetry(logger, new Registry()),
      deadLetters: (batch) => {
        letters.push(...batch);
        return Promise.resolve();
      },
    });

  const batchOf = (records: OpenaiSnapshotRecord[]): IncomingBatch => ({
    topic: topics.openaiUsers,
    partition: 0,
    firstOffset: "500",
    lastOffset: String(499 + records.length),
    records: records.map((r, i) => ({
      topic: topics.openaiUsers,
      partition: 0,
      offset: String(500 + i),
      key: `${r.tenant}/${r.org}/${i}`,
      value: codecs.openaiSnapshot.encode(r),
      headers: {},
      timestamp: "0",
    })),
  });

  it("a re-delivered batch (a crash before the commit) inserts nothing twice", async () => {
    const batch = batchOf(
      snapshotRecords({
        entity: "USERS",
        id: "users-replay",
        org: "org-replay",
        takenAt: now - HOUR,
        rows: [user("user-r1", "acme.com"), user("user-r2", "acme.com")],
      }),
    );
    const sinkBatch = sink();
    await sinkBatch(batch);
    await sinkBatch(batch);
    assert.equal(await count("openai_users", "org = 'org-replay'"), 2);
    assert.equal(await count("openai_snapshot_markers", "org = 'org-replay'"), 1);
    assert.deepEqual(await ids("openai_current_users", "user_id", "org = 'org-replay'"), [
      "user-r1",
      "user-r2",
    ]);
  });

  it("a poisoned row goes to the dead-letter topic and leaves its snapshot incomplete", async () => {
    letters.length = 0;
    const records = snapshotRecords({
      entity: "USERS",
      id: "users-poisoned",
      org: "org-replay",
      takenAt: now - HOUR / 2,
      rows: [user("user-r1", "acme.com"), user("user-r3", "acme.com")],
    });
    const poisoned = records.map((r) =>
      r.user?.user_id === "user-r3" ? { ...r, user: { ...r.user, added_at: now * 1000 } } : r,
    );
    await sink()(batchOf(poisoned));
    assert.equal(letters.length, 1);
    assert.match(letters[0]?.headers[DlqHeaders.reason] ?? "", /^user\.added_at /);
    assert.equal(await count("openai_users", "snapshot_id = 'users-poisoned'"), 1);
    assert.deepEqual(await ids("openai_current_users", "DISTINCT snapshot_id", "org = 'org-replay'"), [
      "users-replay",
    ]);
  });
});
