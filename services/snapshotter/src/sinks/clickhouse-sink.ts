/**
 * The ClickHouse sink every topic uses, written once (docs/conventions.md §6): decode a batch, map
 * each record to its rows, insert them table by table with an insert_deduplication_token, and
 * resolve only when every row is either in ClickHouse or on the dead-letter topic; only then does
 * the consumer commit.
 *
 * Retry or poison:
 * - a record that does not decode, or whose rows fail the sink's own checks (times out of range),
 *   is poison before ClickHouse sees it;
 * - when ClickHouse refuses the rows themselves (`isRowRejection`: a value it cannot parse or
 *   store), the insert is split in halves and each half tried on its own, down to the single
 *   records it refuses: the good rows land, the refused records are poison with ClickHouse's message;
 * - anything else (unreachable, a timeout, TOO_MANY_PARTS, memory, a missing table) throws: nothing
 *   is committed and the batch comes back, so waiting out an outage loses nothing.
 * Poison goes to the dead-letter topic with its reason and the record's value as it was on the
 * topic (already pseudonymized), after the good rows are in. A seat END marker refused in its
 * second table (the daily count) keeps the marker row it already wrote in the first.
 *
 * Size: a table's rows of a batch go in one insert, or in chunks of at most `maxInsertRows` rows
 * (consecutive records, cut where the next record's rows would not fit). The consumer's fetch
 * settings decide how large batches get (services/snapshotter/README.md, "Batches").
 *
 * Tokens: an insert's token names the topic, partition, first and last offset, the table, and a
 * digest of the records' values it covers. A re-delivered batch (a crash before the commit) takes
 * the same path through the same chunks and splits, so every insert that had landed is a no-op
 * (and a re-delivery that reaches further, more having arrived meanwhile, starts at the same
 * offset, so its full chunks are the same as before and only the last one differs); the digest
 * tells apart inserts over the same offsets whose records differ: a slice of another size after a
 * split, or a topic deleted and created again, whose offsets start over (issue 7: the same
 * offsets of a recreated topic were dropped as duplicates). ReplacingMergeTree on each row's
 * natural id stays the second line of defence.
 */
import { createHash } from "node:crypto";
import { isRowRejection } from "@aiaudit/clickhouse";
import { deadLetter, type AvroCodec } from "@aiaudit/contracts";
import { ErrorCodes, describeError, type ErrorCode } from "@aiaudit/errors";
import type { IncomingBatch, IncomingRecord } from "@aiaudit/kafka";
import type { RowsResult, TableRows } from "../transforms/table-rows.ts";
import { createLandedRows } from "./landed-rows.ts";
import type { SinkDeps } from "./types.ts";

export interface SinkSpec<T> {
  codec: AvroCodec<T>;
  /** Every table the records have rows in, in insert order. */
  tables: readonly string[];
  /** A record's rows per table, or why it is poison; `now` is the batch's clock. */
  rows(value: T, record: IncomingRecord, now: number): RowsResult;
  /** Called for every record whose rows all landed. */
  landed?(value: T): void;
}

interface Entry<T> {
  record: IncomingRecord;
  value: T;
  rows: TableRows;
}

interface Poison {
  record: IncomingRecord;
  code: ErrorCode;
  /** Goes into the dead-letter header. */
  reason: string;
  /** Goes into the log: never a quote of the record. */
  logReason: string;
}

/** Rows of one insert when `SinkDeps.maxInsertRows` is not given. */
const MAX_INSERT_ROWS = 100_000;

/**
 * `slice` cut into runs of consecutive entries with at most `max` rows in `table` each; an entry
 * with more rows than that stands alone.
 */
function chunks<T>(slice: Entry<T>[], table: string, max: number): Entry<T>[][] {
  const out: Entry<T>[][] = [];
  let current: Entry<T>[] = [];
  let rows = 0;
  for (const entry of slice) {
    const n = entry.rows[table]?.length ?? 0;
    if (current.length > 0 && rows + n > max) {
      out.push(current);
      current = [];
      rows = 0;
    }
    current.push(entry);
    rows += n;
  }
  if (current.length > 0) out.push(current);
  return out;
}

export function createClickHouseSink<T>(deps: SinkDeps, spec: SinkSpec<T>) {
  const maxInsertRows = deps.maxInsertRows ?? MAX_INSERT_ROWS;
  const inSync = deps.inSync ?? new Set<string>();
  const withoutLanded = createLandedRows(deps.ch);

  /**
   * `slice` without the rows of `table` ClickHouse already holds (a crashed owner's inserts), and
   * how many rows that left out.
   */
  async function dropLanded(
    table: string,
    slice: Entry<T>[],
  ): Promise<{ slice: Entry<T>[]; landed: number }> {
    const all = slice.flatMap((e) => e.rows[table] ?? []);
    const kept = new Set(await withoutLanded(table, all));
    const out: Entry<T>[] = [];
    for (const entry of slice) {
      const rows = (entry.rows[table] ?? []).filter((row) => kept.has(row));
      if (rows.length > 0) out.push({ ...entry, rows: { ...entry.rows, [table]: rows } });
    }
    return { slice: out, landed: all.length - kept.size };
  }

  return async function sinkBatch(batch: IncomingBatch): Promise<void> {
    const started = Date.now();
    const partitionKey = `${batch.topic}/${batch.partition}`;
    const resumed = !inSync.has(partitionKey);
    // Until this batch is in, a failure leaves the partition to be checked again.
    inSync.delete(partitionKey);
    const poison: Poison[] = [];
    const entries: Entry<T>[] = [];
    for (const record of batch.records) {
      let value: T;
      try {
        if (!record.value) throw new Error("record has no value");
        value = spec.codec.decode(record.value);
      } catch (err) {
        const reason = describeError(err);
        poison.push({ record, code: ErrorCodes.ENCODING_INVALID, reason, logReason: reason });
        continue;
      }
      const rows = spec.rows(value, record, started);
      if (rows.ok) entries.push({ record, value, rows: rows.value });
      else
        poison.push({ record, code: ErrorCodes.RECORD_INVALID, reason: rows.reason, logReason: rows.reason });
    }

    const inserted: Record<string, number> = {};
    /** Rows of a resumed batch that a crashed owner had inserted already. */
    let landed = 0;
    for (const table of spec.tables) {
      // Poison grows as ClickHouse refuses records: one refused in a table is left out of the next.
      const poisoned = new Set(poison.map((p) => p.record));
      let slice = entries.filter((e) => (e.rows[table]?.length ?? 0) > 0 && !poisoned.has(e.record));
      if (resumed) {
        const checked = await dropLanded(table, slice);
        slice = checked.slice;
        landed += checked.landed;
      }
      inserted[table] = 0;
      for (const chunk of chunks(slice, table, maxInsertRows)) {
        inserted[table] += await insertIsolating(deps, batch, table, chunk, poison);
      }
    }

    await deps.deadLetters(
      poison.map(({ record, code, reason }) =>
        deadLetter({
          dlqTopic: deps.topics.dlq,
          key: record.key ?? `${batch.topic}/${batch.partition}/${record.offset}`,
          payload: record.value ?? Buffer.alloc(0),
          reason,
          code,
          source: `kafka:${batch.topic}/${batch.partition}/${record.offset}`,
          sourceTopic: batch.topic,
        }),
      ),
    );
    for (const { record, code, logReason } of poison) {
      deps.telemetry.recordPoisoned({
        topic: batch.topic,
        partition: batch.partition,
        offset: record.offset,
        code,
        reason: logReason,
      });
    }
    const poisoned = new Set(poison.map((p) => p.record));
    for (const entry of entries) if (!poisoned.has(entry.record)) spec.landed?.(entry.value);
    // A crashed owner inserted a run of batches in offset order: once a checked batch finds none
    // of its rows, the batches after it are new.
    if (landed === 0) inSync.add(partitionKey);
    deps.telemetry.batchSunk({
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      records: batch.records.length,
      rows: inserted,
      landedBefore: landed,
      poisoned: poison.length,
      ms: Date.now() - started,
    });
  };
}

/**
 * Inserts the rows `slice` has in `table`; when ClickHouse refuses them, halves the slice until
 * each refused record stands alone and adds it to `poison`. Returns the number of rows inserted.
 */
async function insertIsolating<T>(
  deps: SinkDeps,
  batch: IncomingBatch,
  table: string,
  slice: Entry<T>[],
  poison: Poison[],
): Promise<number> {
  const first = slice[0];
  const last = slice.at(-1);
  if (!first || !last) return 0;
  const rows = slice.flatMap((e) => e.rows[table] ?? []);
  const digest = createHash("sha256");
  for (const e of slice) digest.update(e.record.value ?? Buffer.alloc(0));
  const token = `${batch.topic}/${batch.partition}/${first.record.offset}-${last.record.offset}/${table}/${digest.digest("hex").slice(0, 16)}`;
  try {
    await deps.ch.insert(table, rows, token);
    deps.telemetry.inserted({ table, rows: rows.length });
    return rows.length;
  } catch (err) {
    if (!isRowRejection(err)) throw err;
    if (slice.length === 1) {
      const { clickhouse_code: code, clickhouse_type: type } = err.details;
      poison.push({
        record: first.record,
        code: ErrorCodes.CLICKHOUSE_FAILED,
        reason: err.message,
        logReason: `ClickHouse refused the row in ${table}: ${String(type)} (${String(code)})`,
      });
      return 0;
    }
    const half = Math.ceil(slice.length / 2);
    const head = await insertIsolating(deps, batch, table, slice.slice(0, half), poison);
    return head + (await insertIsolating(deps, batch, table, slice.slice(half), poison));
  }
}
