/** The observable events of the snapshotter, named once (docs/conventions.md §8). */
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger) {
  return {
    batchSunk(fields: {
      topic: string;
      partition: number;
      firstOffset: string;
      lastOffset: string;
      records: number;
      ms: number;
    }) {
      log.debug({ event: "batch_sunk", ...fields }, "batch written to ClickHouse");
    },
    snapshotCompleted(fields: { tenant: string; org: string; snapshotId: string; rows: number }) {
      log.info({ event: "snapshot_end_sunk", ...fields }, "seat snapshot END marker written");
    },
    recordPoisoned(fields: { topic: string; partition: number; offset: string; reason: string }) {
      log.warn(
        { event: "record_poisoned", ...fields },
        "record cannot be decoded, sent to the dead-letter topic",
      );
    },
    migrated(fields: { applied: string[] }) {
      log.info({ event: "migrations_applied", ...fields }, "ClickHouse migrations applied");
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
