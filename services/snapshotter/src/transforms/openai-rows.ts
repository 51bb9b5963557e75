/**
 * Pure mapping from decoded OpenAI records to ClickHouse rows (schemas/clickhouse/005): a snapshot
 * ROW becomes a row of its entity's table, an END the snapshot's marker, an audit event one row.
 * Times pass the range check before they become ISO strings.
 */
import type { OpenaiAuditEvent, OpenaiEntity, OpenaiSnapshotRecord } from "@aiaudit/contracts";
import type { Position } from "./seat-rows.ts";
import { timeRangeViolation } from "./time-range.ts";
import { iso, isoOrNull, type RowsResult } from "./table-rows.ts";

/** Each entity's table. */
export const OPENAI_ENTITY_TABLES: Readonly<Record<OpenaiEntity, string>> = {
  USERS: "openai_users",
  PROJECTS: "openai_projects",
  SERVICE_ACCOUNTS: "openai_service_accounts",
  PROJECT_API_KEYS: "openai_api_keys",
  ADMIN_API_KEYS: "openai_api_keys",
};

/** The snapshot tables in insert order: rows before markers, so a marker never points at rows not yet in. */
export const OPENAI_SNAPSHOT_TABLES = [
  "openai_users",
  "openai_projects",
  "openai_service_accounts",
  "openai_api_keys",
  "openai_snapshot_markers",
] as const;

export const OPENAI_AUDIT_EVENTS_TABLE = "openai_audit_events";

/**
 * An expiry lies in the future by nature: it is held to DateTime64(3)'s range (up to 2299) instead
 * of "a day ahead", which still catches microseconds read as milliseconds (year 50,000 and later).
 */
const EXPIRY_CHECK_NOW = Date.UTC(2299, 11, 30);

/** A ROW's entity: its table, the times to check, and the row once they passed. */
interface EntityRow {
  table: string;
  times: Record<string, number | null>;
  row(): object;
}

/**
 * The rows one snapshot record yields: ROW one row in its entity's table, END the marker, BEGIN
 * none. A ROW without its entity (or a key of the other kind) and an END without a row count are
 * poison: the first would be counted in no table, the second would make the snapshot look empty.
 */
export function openaiSnapshotRows(record: OpenaiSnapshotRecord, at: Position, now: number): RowsResult {
  const common = {
    tenant: record.tenant,
    org: record.org,
    snapshot_id: record.snapshot_id,
    taken_at: record.taken_at,
    pseudonym_key_id: record.pseudonym_key_id,
  };
  if (record.kind === "ROW") {
    const entity = entityRow(record);
    if (typeof entity === "string") return { ok: false, reason: entity };
    const reason = timeRangeViolation({ taken_at: record.taken_at, ...entity.times }, now);
    if (reason) return { ok: false, reason };
    const row = {
      ...common,
      taken_at: iso(record.taken_at),
      ...entity.row(),
      kafka_partition: at.partition,
      kafka_offset: at.offset,
    };
    return { ok: true, value: { [entity.table]: [row] } };
  }
  const reason = timeRangeViolation({ taken_at: record.taken_at }, now);
  if (reason) return { ok: false, reason };
  if (record.kind === "END") {
    if (record.row_count === null) {
      return { ok: false, reason: `END of ${record.entity} snapshot ${record.snapshot_id} has no row_count` };
    }
    const marker = {
      ...common,
      entity: record.entity,
      taken_at: iso(record.taken_at),
      row_count: record.row_count,
    };
    return { ok: true, value: { openai_snapshot_markers: [marker] } };
  }
  return { ok: true, value: {} };
}

/** The entity a ROW carries, or why it carries none that fits its snapshot. */
function entityRow(record: OpenaiSnapshotRecord): EntityRow | string {
  const missing = (field: string) => `ROW of a ${record.entity} snapshot without its ${field}`;
  switch (record.entity) {
    case "USERS": {
      const u = record.user;
      if (!u) return missing("user");
      return {
        table: OPENAI_ENTITY_TABLES.USERS,
        times: { "user.added_at": u.added_at, "user.api_key_last_used_at": u.api_key_last_used_at },
        row: () => ({
          ...u,
          added_at: iso(u.added_at),
          api_key_last_used_at: isoOrNull(u.api_key_last_used_at),
        }),
      };
    }
    case "PROJECTS": {
      const p = record.project;
      if (!p) return missing("project");
      return {
        table: OPENAI_ENTITY_TABLES.PROJECTS,
        times: { "project.created_at": p.created_at, "project.archived_at": p.archived_at },
        row: () => ({ ...p, created_at: iso(p.created_at), archived_at: isoOrNull(p.archived_at) }),
      };
    }
    case "SERVICE_ACCOUNTS": {
      const s = record.service_account;
      if (!s) return missing("service_account");
      return {
        table: OPENAI_ENTITY_TABLES.SERVICE_ACCOUNTS,
        times: { "service_account.created_at": s.created_at },
        row: () => ({ ...s, created_at: iso(s.created_at) }),
      };
    }
    case "PROJECT_API_KEYS":
    case "ADMIN_API_KEYS": {
      const k = record.api_key;
      if (!k) return missing("api_key");
      const expected = record.entity === "PROJECT_API_KEYS" ? "PROJECT" : "ADMIN";
      if (k.key_type !== expected) return `${k.key_type} key in a ${record.entity} snapshot`;
      const expiry = timeRangeViolation({ "api_key.expires_at": k.expires_at }, EXPIRY_CHECK_NOW);
      if (expiry) return expiry;
      return {
        table: OPENAI_ENTITY_TABLES[record.entity],
        times: { "api_key.created_at": k.created_at, "api_key.last_used_at": k.last_used_at },
        row: () => ({
          entity: record.entity,
          ...k,
          created_at: iso(k.created_at),
          last_used_at: isoOrNull(k.last_used_at),
          expires_at: isoOrNull(k.expires_at),
        }),
      };
    }
  }
}

/** One audit event is one row, deduplicated on its event id by the table. */
export function openaiAuditEventRows(event: OpenaiAuditEvent, now: number): RowsResult {
  const reason = timeRangeViolation(
    { effective_at: event.effective_at, ingested_at: event.ingested_at },
    now,
  );
  if (reason) return { ok: false, reason };
  const row = { ...event, effective_at: iso(event.effective_at), ingested_at: iso(event.ingested_at) };
  return { ok: true, value: { [OPENAI_AUDIT_EVENTS_TABLE]: [row] } };
}
