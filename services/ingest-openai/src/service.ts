/**
 * ingest-openai wiring (docs/conventions.md §1), the shape of ingest-copilot: Kafka, the cursor
 * store, the tenants' pseudonym keys and the OpenAI connections on the connections topic (shared
 * by the instances over Kafka's group protocol), plus the organization configured by
 * OPENAI_ORG_ID, if any.
 */
import { createKeyring } from "@aiaudit/crypto";
import { createConnections, createIngestService, type IngestService } from "@aiaudit/ingest";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { openaiConnectionId } from "@aiaudit/openai-connect";
import type { Registry } from "prom-client";
import type { IngestOpenaiConfig } from "./config.ts";
import { createConnectionPoller, type ConnectionPoller, type ConnectionSpec } from "./connection-poller.ts";
import { telemetry } from "./telemetry.ts";

export type { ConnectionPoller };

export interface ServiceDeps {
  logger: Logger;
  /** Injected in tests and the all-in-one runner; created from the config otherwise. */
  kafka?: KafkaClient;
  /** Where the service's metrics go (`/metrics`); a private registry otherwise. */
  registry?: Registry;
}

export type IngestOpenaiService = IngestService<ConnectionPoller>;

export function createService(config: IngestOpenaiConfig, deps: ServiceDeps): IngestOpenaiService {
  const log = deps.logger.child({ component: "ingest-openai" });
  const events = telemetry(log, deps.registry);
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-ingest-openai`,
      logger: log,
    });
  const keyring = createKeyring(config.pseudonymKeys);
  return createIngestService(
    { service: "ingest-openai", topicPrefix: config.KAFKA_TOPIC_PREFIX, tenantId: config.TENANT_ID, kafka },
    ({ topics, cursorStore, ready }) => {
      const connections = createConnections<ConnectionSpec, ConnectionPoller>({
        service: "ingest-openai",
        vendor: "OPENAI",
        topicPrefix: config.KAFKA_TOPIC_PREFIX,
        tenantId: config.TENANT_ID,
        secretsKey: config.SECRETS_KEY,
        kafka,
        topics,
        telemetry: events,
        log,
        specOf: (record, adminKey) => ({
          tenant: record.tenant,
          connectionId: record.connection_id,
          orgId: record.slug,
          baseUrl: record.base_url,
          adminKey,
        }),
        createPoller: (spec, hooks) =>
          createConnectionPoller(spec, {
            config,
            kafka,
            topics,
            pseudonymizer: keyring.pseudonymizer(spec.tenant),
            cursorStore,
            ready,
            telemetry: events,
            onBroken: hooks.broken,
            onNote: hooks.note,
          }),
      });
      if (
        config.OPENAI_ORG_ID !== undefined &&
        config.adminKey !== undefined &&
        config.TENANT_ID !== undefined
      ) {
        connections.add({
          tenant: config.TENANT_ID,
          connectionId: openaiConnectionId(config.OPENAI_ORG_ID),
          orgId: config.OPENAI_ORG_ID,
          baseUrl: config.OPENAI_API_URL,
          adminKey: config.adminKey,
        });
      }
      return connections;
    },
  );
}
