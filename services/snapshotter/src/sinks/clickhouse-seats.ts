/**
 * ClickHouse sink for the seat-snapshot topic (schemas/clickhouse/001): seat rows, then END markers,
 * then the daily counts, so a marker never points at rows that are not in yet. A snapshot with a
 * poisoned seat never becomes complete (its rows fall short of the marker's count), so the
 * current-seats view keeps the previous one.
 */
import { codecs } from "@aiaudit/contracts";
import { SEAT_TABLES, seatRecordRows } from "../transforms/seat-rows.ts";
import { createClickHouseSink } from "./clickhouse-sink.ts";
import type { SinkDeps } from "./types.ts";

export function createSeatSink(deps: SinkDeps) {
  return createClickHouseSink(deps, {
    codec: codecs.copilotSeatSnapshot,
    tables: SEAT_TABLES,
    rows: (value, record, now) =>
      seatRecordRows(value, { partition: record.partition, offset: record.offset }, now),
    landed(value) {
      if (value.kind !== "END") return;
      deps.telemetry.snapshotCompleted({
        tenant: value.tenant,
        org: value.org,
        snapshotId: value.snapshot_id,
        rows: value.row_count ?? 0,
      });
    },
  });
}
