/**
 * ingest-openai wiring (docs/conventions.md §1), the shape of ingest-copilot: Kafka, the cursor
 * store, the tenants' pseudonym keys and the OpenAI connections on the connections topic (shared
 * by the instances over Kafka's group protocol), plus the organization configured by
 * OPENAI_ORG_ID, if any.
 */
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKeyring } from "@aiaudit/crypto";
import { connectionKey, createConnections, createCursorStore } from "@aiaudit/ingest";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { openaiConnectionId } from "@aiaudit/openai-connect";
import { readinessCheck, type Readiness } from "@aiaudit/runtime";
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

export interface IngestOpenaiService {
  /** Creates the topics, follows the connections topic, polls every connection now and on schedule. */
  start(): Promise<void>;
  /** One poll of every connection, then stop: true when all succeeded. */
  runOnce(): Promise<boolean>;
  /** Kafka reachable and no stream stuck (three failures in a row). */
  ready(): Promise<Readiness>;
  stop(): Promise<void>;
  /** The poller of a connection, by `tenant/connection-id` or, for TENANT_ID's, by connection id. */
  connection(id: string): ConnectionPoller | undefined;
}

/** A stream that failed this many times in a row makes the service not ready. */
const STUCK_AFTER_FAILURES = 3;

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
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const cursorStore = createCursorStore(kafka, topics.cursors, `${config.KAFKA_TOPIC_PREFIX}.ingest-openai`);
  let started: Promise<void> | undefined;
  const init = () =>
    (started ??= (async () => {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      await cursorStore.start();
    })());
  const keyring = createKeyring(config.pseudonymKeys);
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
        ready: init,
        telemetry: events,
        onBroken: hooks.broken,
        onNote: hooks.note,
      }),
  });
  if (config.OPENAI_ORG_ID !== undefined && config.adminKey !== undefined && config.TENANT_ID !== undefined) {
    connections.add({
      tenant: config.TENANT_ID,
      connectionId: openaiConnectionId(config.OPENAI_ORG_ID),
      orgId: config.OPENAI_ORG_ID,
      baseUrl: config.OPENAI_API_URL,
      adminKey: config.adminKey,
    });
  }

  async function stop(): Promise<void> {
    await connections.stop();
    await cursorStore.stop();
  }

  return {
    async start() {
      await init();
      await connections.follow();
    },
    async runOnce() {
      try {
        await init();
        return await connections.pollEachOnce();
      } finally {
        await stop();
      }
    },
    async ready() {
      const checks: Readiness["checks"] = { kafka: await readinessCheck(() => kafka.ping()) };
      for (const poller of connections.all()) {
        for (const [stream, h] of poller.health()) {
          if (h.consecutiveFailures < STUCK_AFTER_FAILURES) continue;
          checks[`${poller.spec.tenant}/${poller.spec.connectionId}/${stream}`] = {
            ok: false,
            detail: `${h.consecutiveFailures} failures in a row; last: ${h.lastError ?? "unknown"}`,
          };
        }
      }
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
    stop,
    connection: (id) =>
      connections.get(id) ??
      (config.TENANT_ID ? connections.get(connectionKey(config.TENANT_ID, id)) : undefined),
  };
}
