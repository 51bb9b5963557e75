/**
 * The observable events of the snapshotter, named once (docs/conventions.md §8): each writes its
 * log line and moves its metric together. Metric names start with `aiaudit_snapshotter_`.
 */
import { Counter, Gauge, Histogram, type Registry } from "prom-client";
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger, registry: Registry) {
  const batches = new Counter({
    name: "aiaudit_snapshotter_batches_total",
    help: "Kafka batches sunk into ClickHouse and committed, by topic",
    labelNames: ["topic"],
    registers: [registry],
  });
  const batchFailures = new Counter({
    name: "aiaudit_snapshotter_batch_failures_total",
    help: "Batches that could not be sunk (ClickHouse or the dead-letter topic unavailable) and will be re-delivered, by topic",
    labelNames: ["topic"],
    registers: [registry],
  });
  const rows = new Counter({
    name: "aiaudit_snapshotter_rows_inserted_total",
    help: "Rows ClickHouse acknowledged, by table (a re-delivered batch that ClickHouse deduplicated counts again)",
    labelNames: ["table"],
    registers: [registry],
  });
  const deadLetters = new Counter({
    name: "aiaudit_snapshotter_dead_letters_total",
    help: "Records sent to the dead-letter topic, by reason code (ENCODING_INVALID, RECORD_INVALID, CLICKHOUSE_FAILED)",
    labelNames: ["code"],
    registers: [registry],
  });
  const lastInsert = new Gauge({
    name: "aiaudit_snapshotter_last_insert_timestamp_seconds",
    help: "Unix time of the last batch of a topic whose rows ClickHouse acknowledged (alert when it falls behind while the topic has lag)",
    labelNames: ["topic"],
    registers: [registry],
  });
  const insertRows = new Histogram({
    name: "aiaudit_snapshotter_insert_rows",
    help: "Rows per ClickHouse insert, by table: batches of 10k-100k rows are what ClickHouse likes; many small ones mean a quiet topic or fetch settings too small",
    labelNames: ["table"],
    buckets: [1, 10, 100, 1000, 5000, 10_000, 25_000, 50_000, 100_000],
    registers: [registry],
  });

  return {
    /** One insert ClickHouse acknowledged (a chunk of a batch, or a half while isolating poison). */
    inserted(fields: { table: string; rows: number }) {
      insertRows.observe({ table: fields.table }, fields.rows);
    },
    batchSunk(fields: {
      topic: string;
      partition: number;
      firstOffset: string;
      lastOffset: string;
      records: number;
      rows: Record<string, number>;
      /** Rows a crashed owner had inserted without committing, left out (landed-rows.ts). */
      landedBefore: number;
      poisoned: number;
      ms: number;
    }) {
      batches.inc({ topic: fields.topic });
      for (const [table, n] of Object.entries(fields.rows)) if (n > 0) rows.inc({ table }, n);
      lastInsert.set({ topic: fields.topic }, Date.now() / 1000);
      log.debug({ event: "batch_sunk", ...fields }, "batch written to ClickHouse");
    },
    batchFailed(fields: {
      topic: string;
      partition: number;
      firstOffset: string;
      lastOffset: string;
      err: unknown;
    }) {
      batchFailures.inc({ topic: fields.topic });
      log.warn({ event: "batch_failed", ...fields }, "batch not written, it will be re-delivered");
    },
    /** `entity` names what an OpenAI snapshot lists; seat snapshots have none. */
    snapshotCompleted(fields: {
      tenant: string;
      org: string;
      entity?: string;
      snapshotId: string;
      rows: number;
    }) {
      log.info({ event: "snapshot_end_sunk", ...fields }, "snapshot END marker written");
    },
    /** `reason` here is safe to log: ClickHouse's own message, which may quote the row, goes to the DLQ only. */
    recordPoisoned(fields: {
      topic: string;
      partition: number;
      offset: string;
      code: string;
      reason: string;
    }) {
      deadLetters.inc({ code: fields.code });
      log.warn(
        { event: "record_poisoned", ...fields },
        "record cannot be written to ClickHouse, sent to the dead-letter topic",
      );
    },
    migrated(fields: { applied: string[] }) {
      log.info({ event: "migrations_applied", ...fields }, "ClickHouse migrations applied");
    },
    retentionSet(fields: { ttlDays: number; changed: string[] }) {
      log.info(
        { event: "retention_set", ttlDays: fields.ttlDays, tables: fields.changed },
        "ClickHouse tables' TTL set (0: rows kept forever)",
      );
    },
    oncePassDone(fields: { partitions: number; ms: number }) {
      log.info(
        { event: "once_pass_done", ...fields },
        "every topic sunk up to the end it had when the pass began",
      );
    },
    oncePassFailed(fields: { err: unknown }) {
      log.error(
        { event: "once_pass_failed", ...fields },
        "the pass did not finish; what it did not commit is read again by the next one",
      );
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
