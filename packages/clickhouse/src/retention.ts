/**
 * Retention (docs/architecture.md "Retention"): every table of evidence keeps a row for
 * `CLICKHOUSE_TTL_DAYS` days after the row's own event or snapshot time, then ClickHouse deletes it
 * at a merge (a `TTL` clause). The EU AI Act asks deployers to keep the logs of a high-risk system
 * for at least six months (art. 26(6)), hence the floor of 183 days; 0 keeps rows forever.
 *
 * The clause is set with `ALTER TABLE … MODIFY TTL` after the migrations, not in them: the days are
 * a setting that may change after the tables exist, and a shipped migration never changes. Only a
 * table whose TTL differs from the setting is altered, so running it at every start costs one look
 * at `system.tables`. A change does cost: ClickHouse then recomputes the TTL of every existing part
 * and rewrites those with expired rows, in the background (`materialize_ttl_after_modify`).
 * https://clickhouse.com/docs/sql-reference/statements/alter/ttl
 *
 * A snapshot's rows and its END marker carry the same `taken_at`, so they expire together: while
 * one table has merged and the other not yet, the snapshot is merely incomplete (its rows fall
 * short of the marker's count, or the marker is gone) and the complete-snapshot views leave it out;
 * they never show a wrong count.
 */
import { AiauditError, ErrorCodes, describeError } from "@aiaudit/errors";
import type { ClickHouse } from "./client.ts";

/** @default 400 days: a year and a month of evidence, above the legal minimum. */
export const DEFAULT_TTL_DAYS = 400;

/** Six months, the least AI Act art. 26(6) allows for the logs a deployer keeps. */
export const MIN_TTL_DAYS = 183;

/**
 * Every table of evidence and the column its rows expire from: the time the event happened or the
 * snapshot was taken (never `ingested_at`, so a late or re-read record does not live longer).
 * Left out on purpose: `tenant_domains` (a tenant's settings, not evidence) and `schema_migrations`.
 */
export const RETENTION_COLUMNS: Readonly<Record<string, string>> = {
  copilot_seat_snapshots: "taken_at",
  copilot_seat_snapshot_markers: "taken_at",
  copilot_daily_seats: "day",
  copilot_audit_events: "created_at",
  copilot_usage_records: "created_at",
  copilot_metrics_rows: "day",
  openai_users: "taken_at",
  openai_projects: "taken_at",
  openai_service_accounts: "taken_at",
  openai_api_keys: "taken_at",
  openai_snapshot_markers: "taken_at",
  openai_audit_events: "effective_at",
};

export interface RetentionResult {
  ttlDays: number;
  /** Tables whose TTL was set, changed or removed. */
  changed: string[];
  /** Tables that already had it. */
  unchanged: string[];
}

/** Why `days` is not a retention setting, or undefined when it is one. */
export function invalidTtlDays(days: number): string | undefined {
  if (!Number.isInteger(days) || days < 0) return "a whole number of days, or 0 to keep rows forever";
  if (days > 0 && days < MIN_TTL_DAYS) {
    return `at least ${MIN_TTL_DAYS} days (six months, AI Act art. 26(6)), or 0 to keep rows forever`;
  }
  return undefined;
}

/** The TTL expression of a table, as ClickHouse itself writes it in `system.tables`. */
export function ttlExpression(column: string, days: number): string {
  return `${column} + toIntervalDay(${days})`;
}

/** The TTL clause of a table's `engine_full`, or undefined when it has none. */
export function ttlOf(engineFull: string): string | undefined {
  return / TTL (.+?)(?: SETTINGS |$)/.exec(engineFull)?.[1];
}

/**
 * Sets every table's TTL to `ttlDays` after its event or snapshot time (0 removes it), on every
 * replica when the client has a cluster. Idempotent; fails with MIGRATION_FAILED when a table is
 * missing (apply the migrations first) or refuses the change, and with CONFIG_INVALID for a
 * `ttlDays` under six months.
 */
export async function applyRetention(ch: ClickHouse, ttlDays: number): Promise<RetentionResult> {
  const invalid = invalidTtlDays(ttlDays);
  if (invalid) {
    throw new AiauditError(
      ErrorCodes.CONFIG_INVALID,
      `CLICKHOUSE_TTL_DAYS is ${ttlDays}: it must be ${invalid}`,
    );
  }
  const tables = Object.keys(RETENTION_COLUMNS);
  const current = new Map(
    (
      await ch.rows<{ name: string; engine_full: string }>(
        "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND name IN {names:Array(String)}",
        { db: ch.database, names: tables },
      )
    ).map((t) => [t.name, ttlOf(t.engine_full)]),
  );
  const onCluster = ch.cluster ? ` ON CLUSTER \`${ch.cluster}\`` : "";
  const result: RetentionResult = { ttlDays, changed: [], unchanged: [] };
  for (const [table, column] of Object.entries(RETENTION_COLUMNS)) {
    if (!current.has(table)) {
      throw new AiauditError(
        ErrorCodes.MIGRATION_FAILED,
        `table ${ch.database}.${table} does not exist: apply the migrations before the retention`,
      );
    }
    const wanted = ttlDays === 0 ? undefined : ttlExpression(column, ttlDays);
    if (current.get(table) === wanted) {
      result.unchanged.push(table);
      continue;
    }
    const change = wanted === undefined ? "REMOVE TTL" : `MODIFY TTL ${wanted}`;
    try {
      await ch.command(`ALTER TABLE ${ch.table(table)}${onCluster} ${change}`);
    } catch (cause) {
      throw new AiauditError(
        ErrorCodes.MIGRATION_FAILED,
        `retention of ${table} (${change}) failed: ${describeError(cause)}`,
        { cause },
      );
    }
    result.changed.push(table);
  }
  return result;
}
