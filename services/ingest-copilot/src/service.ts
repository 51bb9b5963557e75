/**
 * ingest-copilot wiring (docs/conventions.md §1): Kafka, the cursor store, the tenants' pseudonym
 * keys and the connections (`connections.ts`), plus the organization configured by GITHUB_ORG,
 * if any. One instance serves every tenant (or only TENANT_ID's); instances share the connections
 * through Kafka's group protocol.
 */
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKeyring } from "@aiaudit/crypto";
import { githubConnectionId } from "@aiaudit/github-connect";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { readinessCheck, type Readiness } from "@aiaudit/runtime";
import type { Registry } from "prom-client";
import type { IngestCopilotConfig } from "./config.ts";
import type { ConnectionPoller } from "./connection-poller.ts";
import { connectionKey, createConnections } from "./connections.ts";
import { createCursorStore } from "@aiaudit/ingest";
import type { AuditPollResult } from "./streams/audit-events.ts";
import type { SeatPollResult } from "./streams/seats.ts";
import { telemetry } from "./telemetry.ts";

export type { AuditPollResult, SeatPollResult, ConnectionPoller };

export interface ServiceDeps {
  logger: Logger;
  /** Injected in tests and the all-in-one runner; created from the config otherwise. */
  kafka?: KafkaClient;
  /** Where the service's metrics go (`/metrics`); a private registry otherwise. */
  registry?: Registry;
}

export interface IngestCopilotService {
  /** Creates the topics, follows the connections topic, polls every connection now and on schedule. */
  start(): Promise<void>;
  /** One poll of every connection (GITHUB_ORG's and the topic's), then stop: true when all succeeded. */
  runOnce(): Promise<boolean>;
  /** Kafka reachable and no stream stuck (three failures in a row). */
  ready(): Promise<Readiness>;
  stop(): Promise<void>;
  /** The poller of a connection, by `tenant/connection-id` or, for TENANT_ID's, by connection id. */
  connection(id: string): ConnectionPoller | undefined;
  /** GITHUB_ORG's seat snapshot now (after any seat poll in flight). */
  pollSeats(): Promise<SeatPollResult>;
  /** GITHUB_ORG's Copilot audit events (action:copilot) not yet published. */
  pollAuditEvents(): Promise<AuditPollResult>;
  /** GITHUB_ORG's agent events (actor:Copilot) not yet published. */
  pollAgentEvents(): Promise<AuditPollResult>;
}

/** A stream that failed this many times in a row makes the service not ready. */
const STUCK_AFTER_FAILURES = 3;

export function createService(config: IngestCopilotConfig, deps: ServiceDeps): IngestCopilotService {
  const log = deps.logger.child({ component: "ingest-copilot" });
  const events = telemetry(log, deps.registry);
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-ingest-copilot`,
      logger: log,
    });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const cursorStore = createCursorStore(kafka, topics.cursors, `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot`);
  let started: Promise<void> | undefined;
  const init = () =>
    (started ??= (async () => {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      await cursorStore.start();
    })());
  const connections = createConnections({
    config,
    kafka,
    topics,
    keyring: createKeyring(config.pseudonymKeys),
    cursorStore,
    ready: init,
    telemetry: events,
    log,
  });
  const staticOrg =
    config.GITHUB_ORG !== undefined && config.githubToken !== undefined && config.TENANT_ID !== undefined
      ? connections.add({
          tenant: config.TENANT_ID,
          connectionId: githubConnectionId("ORGANIZATION", config.GITHUB_ORG),
          kind: "ORGANIZATION",
          slug: config.GITHUB_ORG,
          baseUrl: config.GITHUB_API_URL,
          token: config.githubToken,
          keepUsageContent: false,
        })
      : undefined;
  function staticPoller(): ConnectionPoller {
    if (!staticOrg) throw new Error("GITHUB_ORG is not configured");
    return staticOrg;
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
    pollSeats: () => staticPoller().pollSeats(),
    pollAuditEvents: () => staticPoller().pollAuditEvents(),
    pollAgentEvents: () => staticPoller().pollAgentEvents(),
  };
}
