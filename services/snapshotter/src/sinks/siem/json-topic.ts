/**
 * The JSON topic of audit events, `<prefix>.siem.audit-events.json.v1` (docs/siem.md): every
 * Copilot and OpenAI audit event as the JSON a webhook carries (`eventJson`), keyed
 * `tenant/org/<event id>`, for SIEM connectors that read Kafka but not Avro. Written exactly once:
 * a consumer group of its own, and each batch's events and its offsets in one Kafka transaction
 * (`transactionalIdPrefix`), so a read_committed consumer sees each event once, whatever crashed.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { FetchSettings, GroupConsumer, KafkaClient, OutgoingRecord } from "@aiaudit/kafka";
import { forwardedEvent } from "../../transforms/siem-events.ts";
import { eventJson } from "./webhook.ts";

export interface JsonTopicDeps {
  kafka: KafkaClient;
  topics: TopicNames;
  /** The group and transactional ids are `<groupPrefix>.siem.json`. */
  groupPrefix: string;
  fetch?: FetchSettings;
}

export function runJsonTopic(deps: JsonTopicDeps): Promise<GroupConsumer> {
  const { topics } = deps;
  const id = `${deps.groupPrefix}.siem.json`;
  return deps.kafka.runConsumer({
    groupId: id,
    transactionalIdPrefix: id,
    topics: [topics.copilotAuditEvents, topics.openaiAuditEvents],
    ...deps.fetch,
    handleBatch(batch) {
      const out: OutgoingRecord[] = [];
      for (const record of batch.records) {
        if (record.value === null) continue;
        let event;
        try {
          event = forwardedEvent(topics, batch.topic, record.value);
        } catch {
          continue; // the ClickHouse sink puts it on the dead-letter topic, once
        }
        if (event === null) continue;
        out.push({
          topic: topics.siemAuditEventsJson,
          key: `${event.tenant}/${event.org}/${event.id}`,
          value: Buffer.from(JSON.stringify(eventJson(event)), "utf8"),
          headers: { "content-type": "application/json" },
        });
      }
      return Promise.resolve(out);
    },
  });
}
