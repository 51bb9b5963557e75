/**
 * The OpenAI transforms: each snapshot entity to its table with ISO times and its Kafka position,
 * END to a marker, BEGIN to nothing, audit events to one row; and every way a record is poison
 * (times out of range, a ROW without its entity, a key of the other kind, an END without a count).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { OpenaiApiKey, OpenaiAuditEvent, OpenaiSnapshotRecord } from "@aiaudit/contracts";
import {
  OPENAI_ENTITY_TABLES,
  OPENAI_SNAPSHOT_TABLES,
  openaiAuditEventRows,
  openaiSnapshotRows,
} from "../../src/transforms/openai-rows.ts";
import type { RowsResult } from "../../src/transforms/table-rows.ts";
import { HOUR } from "../fixtures.ts";

const now = Date.UTC(2026, 5, 1);
const at = { partition: 2, offset: "41" };
const DAY = 24 * HOUR;

const base: OpenaiSnapshotRecord = {
  kind: "BEGIN",
  entity: "USERS",
  tenant: "t",
  org: "org-1",
  snapshot_id: "s1",
  taken_at: now - HOUR,
  row_count: null,
  pseudonym_key_id: "k1",
  user: null,
  project: null,
  service_account: null,
  api_key: null,
};

const key: OpenaiApiKey = {
  key_id: "key_1",
  key_type: "PROJECT",
  project_id: "proj_1",
  name: "ci",
  redacted_value: "sk-abc...def",
  owner_type: "user",
  owner_id: "user-1",
  owner_pseudonym: "p".repeat(64),
  owner_role: "owner",
  owner_project_access: "active",
  created_at: now - 100 * DAY,
  last_used_at: null,
  expires_at: null,
};

function auditEvent(overrides: Partial<OpenaiAuditEvent> = {}): OpenaiAuditEvent {
  return {
    event_id: "audit_log-1",
    tenant: "t",
    org: "org-1",
    type: "api_key.created",
    effective_at: now - HOUR,
    project_id: "proj_1",
    project_name: "Main",
    actor_type: "session",
    actor_pseudonym: "a".repeat(64),
    actor_user_id: "user-1",
    actor_api_key_id: null,
    actor_service_account_id: null,
    actor_ip_pseudonym: "i".repeat(64),
    resource_id: "key_1",
    raw_json: "{}",
    pseudonym_key_id: "k1",
    ingested_at: now,
    ...overrides,
  };
}

/** The single row of a successful result, with the table it is in. */
function single(result: RowsResult): { table: string; row: Record<string, unknown> } {
  assert.ok(result.ok, result.ok ? "" : result.reason);
  const tables = Object.entries(result.value);
  assert.equal(tables.length, 1);
  const [table = "", rows = []] = tables[0] ?? [];
  assert.equal(rows.length, 1);
  return { table, row: rows[0] as Record<string, unknown> };
}

function reasonOf(result: RowsResult): string {
  assert.ok(!result.ok, "expected poison");
  return result.reason;
}

describe("OpenAI snapshot records", () => {
  it("a USERS ROW is one openai_users row with the snapshot's keys, ISO times and the Kafka position", () => {
    const record: OpenaiSnapshotRecord = {
      ...base,
      kind: "ROW",
      user: {
        user_id: "user-1",
        email_pseudonym: "e".repeat(64),
        email_domain: "acme.com",
        email_display: "jo…@acme.com",
        role: "owner",
        added_at: now - 10 * DAY,
        is_service_account: false,
        is_scim_managed: null,
        api_key_last_used_at: now - 2 * HOUR,
      },
    };
    assert.deepEqual(single(openaiSnapshotRows(record, at, now)), {
      table: "openai_users",
      row: {
        tenant: "t",
        org: "org-1",
        snapshot_id: "s1",
        taken_at: new Date(now - HOUR).toISOString(),
        pseudonym_key_id: "k1",
        user_id: "user-1",
        email_pseudonym: "e".repeat(64),
        email_domain: "acme.com",
        email_display: "jo…@acme.com",
        role: "owner",
        added_at: new Date(now - 10 * DAY).toISOString(),
        is_service_account: false,
        is_scim_managed: null,
        api_key_last_used_at: new Date(now - 2 * HOUR).toISOString(),
        kafka_partition: 2,
        kafka_offset: "41",
      },
    });
  });

  it("PROJECTS and SERVICE_ACCOUNTS ROWs go to their tables, times as ISO strings", () => {
    const project = single(
      openaiSnapshotRows(
        {
          ...base,
          kind: "ROW",
          entity: "PROJECTS",
          project: {
            project_id: "proj_1",
            name: "Main",
            status: "archived",
            created_at: now - 30 * DAY,
            archived_at: now - DAY,
            residency: null,
          },
        },
        at,
        now,
      ),
    );
    assert.equal(project.table, "openai_projects");
    assert.equal(project.row.archived_at, new Date(now - DAY).toISOString());
    assert.equal(project.row.status, "archived");
    const account = single(
      openaiSnapshotRows(
        {
          ...base,
          kind: "ROW",
          entity: "SERVICE_ACCOUNTS",
          service_account: {
            service_account_id: "svc_acct_1",
            project_id: "proj_1",
            name: "deploy",
            role: "member",
            created_at: now - DAY,
          },
        },
        at,
        now,
      ),
    );
    assert.equal(account.table, "openai_service_accounts");
    assert.equal(account.row.service_account_id, "svc_acct_1");
    assert.equal(account.row.created_at, new Date(now - DAY).toISOString());
  });

  it("project and admin keys go to openai_api_keys with the snapshot's entity; an expiry may lie years ahead", () => {
    const project = single(
      openaiSnapshotRows({ ...base, kind: "ROW", entity: "PROJECT_API_KEYS", api_key: key }, at, now),
    );
    assert.equal(project.table, "openai_api_keys");
    assert.equal(project.row.entity, "PROJECT_API_KEYS");
    assert.equal(project.row.key_type, "PROJECT");
    assert.equal(project.row.last_used_at, null);
    const expiresAt = now + 2 * 365 * DAY;
    const admin = single(
      openaiSnapshotRows(
        {
          ...base,
          kind: "ROW",
          entity: "ADMIN_API_KEYS",
          api_key: { ...key, key_id: "key_a", key_type: "ADMIN", project_id: null, expires_at: expiresAt },
        },
        at,
        now,
      ),
    );
    assert.equal(admin.row.entity, "ADMIN_API_KEYS");
    assert.equal(admin.row.expires_at, new Date(expiresAt).toISOString());
    assert.equal(OPENAI_ENTITY_TABLES.ADMIN_API_KEYS, OPENAI_ENTITY_TABLES.PROJECT_API_KEYS);
  });

  it("END is one marker with the entity and row count; BEGIN has no rows", () => {
    const end = single(
      openaiSnapshotRows({ ...base, kind: "END", entity: "PROJECT_API_KEYS", row_count: 0 }, at, now),
    );
    assert.deepEqual(end, {
      table: "openai_snapshot_markers",
      row: {
        tenant: "t",
        org: "org-1",
        entity: "PROJECT_API_KEYS",
        snapshot_id: "s1",
        taken_at: new Date(now - HOUR).toISOString(),
        pseudonym_key_id: "k1",
        row_count: 0,
      },
    });
    assert.deepEqual(openaiSnapshotRows(base, at, now), { ok: true, value: {} });
  });

  it("rows come before markers in the insert order", () => {
    assert.equal(OPENAI_SNAPSHOT_TABLES.at(-1), "openai_snapshot_markers");
    for (const table of Object.values(OPENAI_ENTITY_TABLES)) {
      const index = (OPENAI_SNAPSHOT_TABLES as readonly string[]).indexOf(table);
      assert.ok(index >= 0 && index < OPENAI_SNAPSHOT_TABLES.length - 1, table);
    }
  });

  it("times out of range are poison, naming the field: taken_at, entity times, a key's far expiry", () => {
    assert.match(
      reasonOf(openaiSnapshotRows({ ...base, taken_at: (now - HOUR) / 1000 }, at, now)),
      /^taken_at /,
    );
    assert.match(
      reasonOf(openaiSnapshotRows({ ...base, kind: "END", row_count: 1, taken_at: now + 2 * DAY }, at, now)),
      /^taken_at /,
    );
    const user = {
      user_id: "user-1",
      email_pseudonym: null,
      email_domain: null,
      email_display: null,
      role: null,
      added_at: now - DAY,
      is_service_account: false,
      is_scim_managed: null,
      api_key_last_used_at: (now - DAY) * 1000,
    };
    assert.match(
      reasonOf(openaiSnapshotRows({ ...base, kind: "ROW", user }, at, now)),
      /^user\.api_key_last_used_at /,
    );
    const keyRow = (k: Partial<OpenaiApiKey>) =>
      openaiSnapshotRows(
        { ...base, kind: "ROW", entity: "PROJECT_API_KEYS", api_key: { ...key, ...k } },
        at,
        now,
      );
    assert.match(reasonOf(keyRow({ created_at: 1000 })), /^api_key\.created_at /);
    assert.match(reasonOf(keyRow({ last_used_at: now + 2 * DAY })), /^api_key\.last_used_at /);
    assert.match(reasonOf(keyRow({ expires_at: (now + DAY) * 1000 })), /^api_key\.expires_at /);
  });

  it("a ROW without its entity, a key of the other kind, and an END without a count are poison", () => {
    assert.match(
      reasonOf(openaiSnapshotRows({ ...base, kind: "ROW", entity: "PROJECTS" }, at, now)),
      /ROW of a PROJECTS snapshot without its project/,
    );
    assert.match(
      reasonOf(
        openaiSnapshotRows(
          { ...base, kind: "ROW", entity: "USERS", api_key: key }, // a key on the users topic
          at,
          now,
        ),
      ),
      /without its user/,
    );
    assert.match(
      reasonOf(openaiSnapshotRows({ ...base, kind: "ROW", entity: "ADMIN_API_KEYS", api_key: key }, at, now)),
      /PROJECT key in a ADMIN_API_KEYS snapshot/,
    );
    assert.match(
      reasonOf(openaiSnapshotRows({ ...base, kind: "END", row_count: null }, at, now)),
      /has no row_count/,
    );
  });
});

describe("OpenAI audit events", () => {
  it("one openai_audit_events row with ISO times and every field kept", () => {
    const event = auditEvent();
    const { table, row } = single(openaiAuditEventRows(event, now));
    assert.equal(table, "openai_audit_events");
    assert.deepEqual(row, {
      ...event,
      effective_at: new Date(now - HOUR).toISOString(),
      ingested_at: new Date(now).toISOString(),
    });
  });

  it("effective_at in seconds, or ingested_at ahead of the clock, is poison", () => {
    assert.match(
      reasonOf(openaiAuditEventRows(auditEvent({ effective_at: (now - HOUR) / 1000 }), now)),
      /^effective_at /,
    );
    assert.match(
      reasonOf(openaiAuditEventRows(auditEvent({ ingested_at: now + 2 * DAY }), now)),
      /^ingested_at /,
    );
  });
});
