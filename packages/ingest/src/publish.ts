/**
 * The one way a stream publishes (docs/design.md §3): a unit of work — a page of events, a whole
 * snapshot, a report day — with the stream's advanced cursor in one Kafka transaction, so the
 * cursor never runs ahead of the data and a crash re-reads what was not committed.
 */
import { codecs, type StreamCursor, type TopicNames } from "@aiaudit/contracts";
import type { OutgoingRecord, TransactionalProducer } from "@aiaudit/kafka";

export interface CursorWrite {
  key: string;
  cursor: StreamCursor;
  /** Further state on the cursors topic, by key (null deletes it): the dedup buckets. */
  state?: ReadonlyMap<string, Buffer | null>;
}

export async function publishWithCursor(
  producer: () => Promise<TransactionalProducer>,
  topics: Pick<TopicNames, "cursors">,
  records: OutgoingRecord[],
  write: CursorWrite,
): Promise<void> {
  const control: OutgoingRecord[] = [
    ...[...(write.state ?? [])].map(([key, value]) => ({ topic: topics.cursors, key, value })),
    { topic: topics.cursors, key: write.key, value: codecs.cursor.encode(write.cursor) },
  ];
  await (await producer()).transaction((tx) => tx.send([...records, ...control]));
}
