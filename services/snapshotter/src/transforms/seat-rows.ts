/** Pure mapping from decoded seat-snapshot records to ClickHouse rows (schemas/clickhouse/001). */
import type { CopilotSeatSnapshotRecord } from "@aiaudit/contracts";
import { timeRangeViolation } from "./time-range.ts";
import { iso, isoOrNull, type RowsResult } from "./table-rows.ts";

/** The seat tables in insert order: rows before markers, so a marker never points at rows not yet in. */
export const SEAT_TABLES = ["copilot_seat_snapshots", "copilot_seat_snapshot_markers", "copilot_daily_seats"];

export interface Position {
  partition: number;
  offset: string;
}

/**
 * The rows one record yields: ROW a seat, END a marker and the day's count, UNCHANGED the day's
 * count alone (it confirms an earlier snapshot for its day), BEGIN none.
 */
export function seatRecordRows(record: CopilotSeatSnapshotRecord, at: Position, now: number): RowsResult {
  const s = record.seat;
  const reason = timeRangeViolation(
    {
      taken_at: record.taken_at,
      ...(record.kind === "ROW" && s
        ? {
            "seat.created_at": s.created_at,
            "seat.last_activity_at": s.last_activity_at,
            "seat.last_authenticated_at": s.last_authenticated_at,
          }
        : {}),
    },
    now,
  );
  if (reason) return { ok: false, reason };
  const common = {
    tenant: record.tenant,
    org: record.org,
    scope: record.scope,
    snapshot_id: record.snapshot_id,
    taken_at: iso(record.taken_at),
    pseudonym_key_id: record.pseudonym_key_id,
  };
  if (record.kind === "ROW" && s) {
    const seat = {
      ...common,
      seat_id: s.seat_id,
      assignee_pseudonym: s.assignee_pseudonym,
      assignee_type: s.assignee_type,
      organization: s.organization,
      assigning_team: s.assigning_team,
      plan_type: s.plan_type,
      created_at: iso(s.created_at),
      pending_cancellation_date: s.pending_cancellation_date,
      last_activity_at: isoOrNull(s.last_activity_at),
      last_activity_editor: s.last_activity_editor,
      last_authenticated_at: isoOrNull(s.last_authenticated_at),
      kafka_partition: at.partition,
      kafka_offset: at.offset,
    };
    return { ok: true, value: { copilot_seat_snapshots: [seat] } };
  }
  if (record.kind === "END" || record.kind === "UNCHANGED") {
    const rowCount = record.row_count ?? 0;
    const daily = {
      tenant: record.tenant,
      org: record.org,
      day: iso(record.taken_at).slice(0, 10),
      snapshot_id: record.snapshot_id,
      taken_at: iso(record.taken_at),
      seats: rowCount,
    };
    const markers =
      record.kind === "END" ? [{ ...common, row_count: rowCount, total_seats: record.total_seats }] : [];
    return { ok: true, value: { copilot_seat_snapshot_markers: markers, copilot_daily_seats: [daily] } };
  }
  return { ok: true, value: {} };
}
