/**
 * Publishes one seat snapshot as one Kafka transaction (DESIGN.md §3): BEGIN, a ROW per valid
 * seat, dead letters for invalid seats, END with the row count, and the stream's cursor. Either
 * all of it becomes visible to read_committed consumers or none of it does.
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
import type { OutgoingRecord, TransactionalProducer } from "@aiaudit/kafka";

export interface SnapshotToPublish {
  tenant: string;
  org: string;
  snapshotId: string;
  takenAt: number;
  totalSeats: number;
  pseudonymKeyId: string;
  seats: CopilotSeat[];
  rejected: { payload: unknown; reason: string }[];
  source: string;
}

export function snapshotRecords(topics: TopicNames, snap: SnapshotToPublish): OutgoingRecord[] {
  const base: Omit<CopilotSeatSnapshotRecord, "kind"> = {
    tenant: snap.tenant,
    org: snap.org,
    scope: "ORGANIZATION",
    snapshot_id: snap.snapshotId,
    taken_at: snap.takenAt,
    row_count: null,
    total_seats: null,
    pseudonym_key_id: snap.pseudonymKeyId,
    seat: null,
  };
  const marker = (kind: "BEGIN" | "END", extra: Partial<CopilotSeatSnapshotRecord> = {}): OutgoingRecord => ({
    topic: topics.copilotSeats,
    key: recordKey(snap.tenant, snap.org, `snapshot/${snap.snapshotId}`),
    value: codecs.copilotSeatSnapshot.encode({ ...base, kind, ...extra }),
    headers: { "aiaudit-snapshot-id": snap.snapshotId, "aiaudit-kind": kind },
  });
  return [
    marker("BEGIN"),
    ...snap.seats.map((seat) => ({
      topic: topics.copilotSeats,
      key: recordKey(snap.tenant, snap.org, seat.seat_id),
      value: codecs.copilotSeatSnapshot.encode({ ...base, kind: "ROW", seat }),
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
    marker("END", { row_count: snap.seats.length, total_seats: snap.totalSeats }),
    {
      topic: topics.cursors,
      key: `${snap.tenant}/${snap.org}/copilot.seats`,
      value: codecs.cursor.encode({
        tenant: snap.tenant,
        connection: snap.org,
        stream: "copilot.seats",
        cursor: null,
        last_snapshot_id: snap.snapshotId,
        updated_at: snap.takenAt,
      }),
    },
  ];
}

export async function publishSnapshot(
  producer: TransactionalProducer,
  topics: TopicNames,
  snap: SnapshotToPublish,
): Promise<void> {
  const records = snapshotRecords(topics, snap);
  await producer.transaction((tx) => tx.send(records));
}
