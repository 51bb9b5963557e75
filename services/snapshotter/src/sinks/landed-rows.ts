/**
 * Rows already in ClickHouse, for the first batch of a partition after the sink (re)started on it.
 *
 * An insert's deduplication token names its exact offset range, so a batch delivered again with
 * the same boundaries inserts nothing twice. After a crash between an insert and its commit,
 * though, the same records may come back cut differently: kafkajs shares a fetch's bytes among
 * partitions in a shuffled order, so a batch that ended at offset 478 may now end at 145 or 629,
 * and a different range is a different token. So the first batch of a partition (and the first
 * after a failure) is checked against the tables: a row whose ReplacingMergeTree identity — its
 * sorting key, and its version column when the row sets it — is already there is left out. Later
 * batches follow this instance's own commits and need no check.
 *
 * The check reads each table once per resumed batch, narrowed by the values of its leading and
 * last key columns (the id); what it compares is text: `toString` of each column, DateTime64 as epoch milliseconds.
 * (Against a ClickHouse server, an insert a killed process sent may still land after the check:
 * ReplacingMergeTree, queried with FINAL, is the second line of defence there.)
 */
import type { ClickHouse } from "@aiaudit/clickhouse";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

/** A row as the sinks build it: column name → value. */
type Row = object;

interface Column {
  name: string;
  /** SQL giving the column as the text `text()` gives for a row's value. */
  sql: string;
  text(value: unknown): string;
}

interface Identity {
  key: Column[];
  version: Column | undefined;
}

const field = (row: Row, name: string): unknown => (row as Record<string, unknown>)[name];

/** Ids per query. */
const ID_GROUP = 5000;

/** Between the key columns' texts: char(1), which no id holds. */
const SEPARATOR = "\u0001";

function column(name: string, type: string): Column {
  if (/DateTime64/.test(type)) {
    return {
      name,
      sql: `toString(toUnixTimestamp64Milli(\`${name}\`))`,
      text: (v) => String(typeof v === "number" ? v : Date.parse(String(v))),
    };
  }
  return { name, sql: `toString(\`${name}\`)`, text: (v) => String(v) };
}

export function createLandedRows(ch: ClickHouse) {
  const identities = new Map<string, Promise<Identity>>();

  async function identityOf(table: string): Promise<Identity> {
    const [info] = await ch.rows<{ sorting_key: string; engine_full: string }>(
      "SELECT sorting_key, engine_full FROM system.tables WHERE database = {db:String} AND name = {table:String}",
      { db: ch.database, table },
    );
    if (!info) {
      // As an insert into it would: a table gone for a while (a migration not yet run) is retried.
      throw new AiauditError(ErrorCodes.CLICKHOUSE_FAILED, `table ${ch.table(table)} does not exist`, {
        retryable: true,
      });
    }
    const types = new Map(
      (
        await ch.rows<{ name: string; type: string }>(
          "SELECT name, type FROM system.columns WHERE database = {db:String} AND table = {table:String}",
          { db: ch.database, table },
        )
      ).map((c) => [c.name, c.type]),
    );
    const key = info.sorting_key
      .split(",")
      .map((name) => name.trim())
      .filter(Boolean)
      .map((name) => column(name, types.get(name) ?? ""));
    const versionName = /ReplacingMergeTree\((\w+)\)/.exec(info.engine_full)?.[1];
    const version = versionName ? column(versionName, types.get(versionName) ?? "") : undefined;
    return { key, version };
  }

  /** `rows` (of one table) without those ClickHouse already holds; the order is kept. */
  return async function withoutLanded(table: string, rows: readonly Row[]): Promise<Row[]> {
    const first = rows[0];
    if (!first) return [];
    let identity = identities.get(table);
    if (!identity) {
      identity = identityOf(table);
      identities.set(table, identity);
      identity.catch(() => identities.delete(table));
    }
    const { key, version } = await identity;
    const columns = version && version.name in first ? [...key, version] : key;
    if (columns.length === 0 || !columns.every((c) => c.name in first)) return [...rows];
    const textOf = (row: Row) => columns.map((c) => c.text(field(row, c.name))).join(SEPARATOR);
    const wanted = rows.map(textOf);
    // The leading key columns and the last (the most selective, the id) narrow the read, compared
    // as the columns themselves so the primary index and the set lookup do the work; the ids go in
    // groups (a long array parameter is slow to parse).
    const [tenantColumn, orgColumn] = key;
    const idColumn = key.at(-1);
    const values = (c: Column | undefined) =>
      c ? [...new Set(rows.map((r) => String(field(r, c.name))))] : [];
    const leading = [tenantColumn, orgColumn].filter((c): c is Column => c !== undefined && c !== idColumn);
    const present: { k: string }[] = [];
    const ids = values(idColumn);
    for (let i = 0; i < Math.max(ids.length, 1); i += ID_GROUP) {
      const conditions = leading.map((c, n) => `\`${c.name}\` IN {lead${n}:Array(String)}`);
      const params: Record<string, unknown> = {};
      leading.forEach((c, n) => {
        params[`lead${n}`] = values(c);
      });
      if (idColumn) {
        conditions.push(`\`${idColumn.name}\` IN {ids:Array(String)}`);
        params.ids = ids.slice(i, i + ID_GROUP);
      }
      present.push(
        ...(await ch.rows<{ k: string }>(
          `SELECT DISTINCT concat(${columns.map((c) => c.sql).join(", char(1), ")}) AS k
           FROM ${ch.table(table)}
           WHERE ${conditions.join(" AND ") || "1"}`,
          params,
        )),
      );
    }
    if (present.length === 0) return [...rows];
    const landed = new Set(present.map((p) => p.k));
    return rows.filter((_, i) => !landed.has(wanted[i] as string));
  };
}

export type WithoutLanded = ReturnType<typeof createLandedRows>;
