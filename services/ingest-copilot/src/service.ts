/**
 * ingest-copilot wiring (docs/conventions.md §1): Kafka, the cursor store, the tenants' pseudonym
 * keys and the connections (`connections.ts`), plus the organization configured by GITHUB_ORG,
 * if any. One instance serves every tenant (or only TENANT_ID's); instances share the connections
 * through Kafka's group protocol.
 */
import { createKeyring } from "@aiaudit/crypto";
import { githubConnectionId } from "@aiaudit/github-connect";
import { createIngestService, type IngestService } from "@aiaudit/ingest";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { Registry } from "prom-client";
import type { IngestCopilotConfig } from "./config.ts";
import type { ConnectionPoller } from "./connection-poller.ts";
import { createConnections } from "./connections.ts";
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

export interface IngestCopilotService extends IngestService<ConnectionPoller> {
  /** GITHUB_ORG's seat snapshot now (after any seat poll in flight). */
  pollSeats(): Promise<SeatPollResult>;
  /** GITHUB_ORG's Copilot audit events (action:copilot) not yet published. */
  pollAuditEvents(): Promise<AuditPollResult>;
  /** GITHUB_ORG's agent events (actor:Copilot) not yet published. */
  pollAgentEvents(): Promise<AuditPollResult>;
}

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
  let staticOrg: ConnectionPoller | undefined;
  const service = createIngestService(
    { service: "ingest-copilot", topicPrefix: config.KAFKA_TOPIC_PREFIX, tenantId: config.TENANT_ID, kafka },
    ({ topics, cursorStore, ready }) => {
      const connections = createConnections({
        config,
        kafka,
        topics,
        keyring: createKeyring(config.pseudonymKeys),
        cursorStore,
        ready,
        telemetry: events,
        log,
      });
      if (
        config.GITHUB_ORG !== undefined &&
        config.githubToken !== undefined &&
        config.TENANT_ID !== undefined
      ) {
        staticOrg = connections.add({
          tenant: config.TENANT_ID,
          connectionId: githubConnectionId("ORGANIZATION", config.GITHUB_ORG),
          kind: "ORGANIZATION",
          slug: config.GITHUB_ORG,
          baseUrl: config.GITHUB_API_URL,
          token: config.githubToken,
          keepUsageContent: false,
        });
      }
      return connections;
    },
  );
  function staticPoller(): ConnectionPoller {
    if (!staticOrg) throw new Error("GITHUB_ORG is not configured");
    return staticOrg;
  }

  return {
    ...service,
    pollSeats: () => staticPoller().pollSeats(),
    pollAuditEvents: () => staticPoller().pollAuditEvents(),
    pollAgentEvents: () => staticPoller().pollAgentEvents(),
  };
}
