/**
 * ClickHouse sink for the seat-snapshot topic (docs/conventions.md §6): decode a batch, insert it with
 * an insert_deduplication_token per table derived from topic/partition/offsets (a retried batch
 * is a no-op), rows before markers, and only then let the consumer commit. A ClickHouse failure
 * throws, so the batch is re-delivered rather than committed.
 */
import { codecs } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { addSeatRecord, emptyRows } from "../transforms/seat-rows.ts";
import { batchToken, decodeBatch } from "./decode.ts";
import type { SinkDeps } from "./types.ts";

export function createSeatSink(deps: SinkDeps) {
  return async function sinkSeatBatch(batch: IncomingBatch): Promise<void> {
    const { values, poison } = decodeBatch(batch, codecs.copilotSeatSnapshot, deps.topics, deps.telemetry);
    const rows = emptyRows();
    for (const { value, record } of values) {
      addSeatRecord(rows, value, { partition: record.partition, offset: record.offset });
      if (value.kind === "END") {
        deps.telemetry.snapshotCompleted({
          tenant: value.tenant,
          org: value.org,
          snapshotId: value.snapshot_id,
          rows: value.row_count ?? 0,
        });
      }
    }
    // Rows before markers: a marker never points at rows that are not in yet.
    await deps.ch.insert("copilot_seat_snapshots", rows.seats, batchToken(batch, "seats"));
    await deps.ch.insert("copilot_seat_snapshot_markers", rows.markers, batchToken(batch, "markers"));
    await deps.ch.insert("copilot_daily_seats", rows.daily, batchToken(batch, "daily"));
    await deps.deadLetters(poison);
  };
}
