/**
 * The GitHub connections ingest-copilot polls: those `aiaudit connect copilot` put on the
 * connections topic (shared by the instances over Kafka's group protocol, `@aiaudit/ingest`), one
 * poller each.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { Keyring } from "@aiaudit/crypto";
import { createConnections as connectionsOf, type Connections, type CursorStore } from "@aiaudit/ingest";
import type { KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { IngestCopilotConfig } from "./config.ts";
import { createConnectionPoller, type ConnectionPoller, type ConnectionSpec } from "./connection-poller.ts";
import type { Telemetry } from "./telemetry.ts";

export interface ConnectionsDeps {
  config: IngestCopilotConfig;
  kafka: KafkaClient;
  topics: TopicNames;
  keyring: Keyring;
  cursorStore: CursorStore;
  /** Resolves once the topics exist and the cursor store follows its topic. */
  ready: () => Promise<void>;
  telemetry: Telemetry;
  log: Logger;
}

export function createConnections(deps: ConnectionsDeps): Connections<ConnectionSpec, ConnectionPoller> {
  const { config } = deps;
  return connectionsOf<ConnectionSpec, ConnectionPoller>({
    service: "ingest-copilot",
    vendor: "GITHUB",
    topicPrefix: config.KAFKA_TOPIC_PREFIX,
    tenantId: config.TENANT_ID,
    secretsKey: config.SECRETS_KEY,
    kafka: deps.kafka,
    topics: deps.topics,
    telemetry: deps.telemetry,
    log: deps.log,
    specOf: (record, token) => ({
      tenant: record.tenant,
      connectionId: record.connection_id,
      kind: record.kind,
      slug: record.slug,
      baseUrl: record.base_url,
      token,
      keepUsageContent: record.keep_usage_content,
    }),
    createPoller: (spec, hooks) =>
      createConnectionPoller(spec, {
        config,
        kafka: deps.kafka,
        topics: deps.topics,
        pseudonymizer: deps.keyring.pseudonymizer(spec.tenant),
        cursorStore: deps.cursorStore,
        ready: deps.ready,
        telemetry: deps.telemetry,
        onBroken: hooks.broken,
      }),
  });
}
