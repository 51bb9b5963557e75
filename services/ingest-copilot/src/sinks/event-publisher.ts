/**
 * Publishes one page of audit events, its dead letters and the advanced cursor in one Kafka
 * transaction (DESIGN.md §3): after a crash the cursor never points past events not written, and
 * events are never written without the cursor that says so.
 */
import { codecs, deadLetter, recordKey, type CopilotAuditEvent, type StreamCursor, type TopicNames } from "@aiaudit/contracts";
import { ErrorCodes } from "@aiaudit/errors";
import type { OutgoingRecord, TransactionalProducer } from "@aiaudit/kafka";

export interface EventPage {
  tenant: string;
  org: string;
  events: CopilotAuditEvent[];
  rejected: { key: string; payload: unknown; reason: string }[];
  cursorKey: string;
  cursor: StreamCursor;
  source: string;
}

export function eventPageRecords(topics: TopicNames, page: EventPage): OutgoingRecord[] {
  return [
    ...page.events.map((event) => ({
      topic: topics.copilotAuditEvents,
      key: recordKey(page.tenant, page.org, event.event_id),
      value: codecs.copilotAuditEvent.encode(event),
    })),
    ...page.rejected.map((r) =>
      deadLetter({
        dlqTopic: topics.dlq,
        key: r.key,
        payload: r.payload,
        reason: r.reason,
        code: ErrorCodes.RECORD_INVALID,
        source: page.source,
        sourceTopic: topics.copilotAuditEvents,
      }),
    ),
    { topic: topics.cursors, key: page.cursorKey, value: codecs.cursor.encode(page.cursor) },
  ];
}

export async function publishEventPage(producer: TransactionalProducer, topics: TopicNames, page: EventPage): Promise<void> {
  const records = eventPageRecords(topics, page);
  await producer.transaction((tx) => tx.send(records));
}
