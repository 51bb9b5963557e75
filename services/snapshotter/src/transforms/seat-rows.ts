/** Pure mapping from decoded seat-snapshot records to ClickHouse rows (schemas/clickhouse/001). */
import type { CopilotSeatSnapshotRecord } from "@aiaudit/contracts";

const iso = (ms: number) => new Date(ms).toISOString();
const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));

export interface SeatTableRows {
  seats: object[];
  markers: object[];
  daily: object[];
}

export interface Position {
  partition: number;
  offset: string;
}

export function emptyRows(): SeatTableRows {
  return { seats: [], markers: [], daily: [] };
}

/** Adds the rows one record yields; BEGIN yields none. */
export function addSeatRecord(rows: SeatTableRows, record: CopilotSeatSnapshotRecord, at: Position): void {
  const common = {
    tenant: record.tenant,
    org: record.org,
    scope: record.scope,
    snapshot_id: record.snapshot_id,
    taken_at: iso(record.taken_at),
    pseudonym_key_id: record.pseudonym_key_id,
  };
  if (record.kind === "ROW" && record.seat) {
    const s = record.seat;
    rows.seats.push({
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
    });
  } else if (record.kind === "END" || record.kind === "UNCHANGED") {
    // UNCHANGED confirms an earlier snapshot for its day: the daily count goes on without rows.
    const rowCount = record.row_count ?? 0;
    if (record.kind === "END")
      rows.markers.push({ ...common, row_count: rowCount, total_seats: record.total_seats });
    rows.daily.push({
      tenant: record.tenant,
      org: record.org,
      day: iso(record.taken_at).slice(0, 10),
      snapshot_id: record.snapshot_id,
      taken_at: iso(record.taken_at),
      seats: rowCount,
    });
  }
}
