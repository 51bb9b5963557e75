/**
 * The records of one seat snapshot, published as one Kafka transaction with the stream's cursor
 * (docs/design.md §3): BEGIN, a ROW per valid seat, dead letters for invalid seats, END with the
 * row count. Either all of it becomes visible to read_committed consumers or none of it does.
 */
import {
  codecs,
  deadLetter,
  recordKey,
  type CopilotSeat,
  type CopilotSeatSnapshotRecord,
  type TopicNames,
} from "@aiaudit/contracts";
import { ErrorCodes } from "@aiaudit/errors";
import type { OutgoingRecord } from "@aiaudit/kafka";

interface SnapshotBase {
  tenant: string;
  org: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  snapshotId: string;
  takenAt: number;
  pseudonymKeyId: string;
}

export interface SnapshotToPublish extends SnapshotBase {
  totalSeats: number;
  seats: CopilotSeat[];
  rejected: { payload: unknown; reason: string }[];
  source: string;
}

export interface UnchangedSnapshot extends SnapshotBase {
  rowCount: number;
  totalSeats: number;
}

function recordOf(
  snap: SnapshotBase,
  fields: Partial<CopilotSeatSnapshotRecord> & Pick<CopilotSeatSnapshotRecord, "kind">,
) {
  return codecs.copilotSeatSnapshot.encode({
    tenant: snap.tenant,
    org: snap.org,
    scope: snap.scope,
    snapshot_id: snap.snapshotId,
    taken_at: snap.takenAt,
    row_count: null,
    total_seats: null,
    pseudonym_key_id: snap.pseudonymKeyId,
    seat: null,
    ...fields,
  });
}

function marker(
  topics: TopicNames,
  snap: SnapshotBase,
  fields: Partial<CopilotSeatSnapshotRecord> & Pick<CopilotSeatSnapshotRecord, "kind">,
): OutgoingRecord {
  return {
    topic: topics.copilotSeats,
    key: recordKey(snap.tenant, snap.org, `snapshot/${snap.snapshotId}`),
    value: recordOf(snap, fields),
    headers: { "aiaudit-snapshot-id": snap.snapshotId, "aiaudit-kind": fields.kind },
  };
}

export function snapshotRecords(topics: TopicNames, snap: SnapshotToPublish): OutgoingRecord[] {
  return [
    marker(topics, snap, { kind: "BEGIN" }),
    ...snap.seats.map((seat) => ({
      topic: topics.copilotSeats,
      key: recordKey(snap.tenant, snap.org, seat.seat_id),
      value: recordOf(snap, { kind: "ROW", seat }),
      headers: { "aiaudit-snapshot-id": snap.snapshotId, "aiaudit-kind": "ROW" },
    })),
    ...snap.rejected.map((r, i) =>
      deadLetter({
        dlqTopic: topics.dlq,
        key: recordKey(snap.tenant, snap.org, `snapshot/${snap.snapshotId}/rejected/${i}`),
        payload: r.payload,
        reason: r.reason,
        code: ErrorCodes.RECORD_INVALID,
        source: snap.source,
        sourceTopic: topics.copilotSeats,
      }),
    ),
    marker(topics, snap, { kind: "END", row_count: snap.seats.length, total_seats: snap.totalSeats }),
  ];
}

/** Confirms the previous snapshot (same id) at `takenAt`: the seat list did not change. */
export function unchangedRecords(topics: TopicNames, snap: UnchangedSnapshot): OutgoingRecord[] {
  return [
    marker(topics, snap, { kind: "UNCHANGED", row_count: snap.rowCount, total_seats: snap.totalSeats }),
  ];
}
