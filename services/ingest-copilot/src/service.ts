/**
 * ingest-copilot wiring (docs/conventions.md §1). One instance serves one tenant: it polls the
 * tenant's connections (from the compacted connections topic, tokens opened with SECRETS_KEY)
 * and the organization configured by GITHUB_ORG, if any. Each connection is polled at once when
 * it appears, then every POLL_INTERVAL_SECONDS; connections are isolated from each other. A
 * connection whose token GitHub rejects (401) is marked BROKEN on the topic, with the message a
 * person acts on, and is not polled until it is connected again. Cursors are read back from the
 * cursors topic before the first poll, so a restart resumes where the last commit left off.
 */
import { randomUUID } from "node:crypto";
import { codecs, topicNames, topicSpecs, type ConnectionRecord, type StreamCursor } from "@aiaudit/contracts";
import { createPseudonymizer, openSecret } from "@aiaudit/crypto";
import { describeError } from "@aiaudit/errors";
import {
  createKafka,
  type IncomingBatch,
  type KafkaClient,
  type RunningConsumer,
  type TransactionalProducer,
} from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { IngestCopilotConfig } from "./config.ts";
import { githubConnectionId, sealContext } from "./connect/connection.ts";
import { createConnectionPoller, type ConnectionPoller, type ConnectionSpec } from "./connection-poller.ts";
import { loadCursors } from "./source/cursors.ts";
import type { AuditPollResult } from "./streams/audit-events.ts";
import type { SeatPollResult } from "./streams/seats.ts";
import { telemetry } from "./telemetry.ts";

export type { AuditPollResult, SeatPollResult, ConnectionPoller };

export interface ServiceDeps {
  logger: Logger;
  /** Injected in tests and the all-in-one runner; created from the config otherwise. */
  kafka?: KafkaClient;
}

export interface IngestCopilotService {
  /** Creates the topics, follows the connections topic, polls every connection now and on schedule. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The poller of a connection, by id (e.g. github-org-acme), while it is polled. */
  connection(connectionId: string): ConnectionPoller | undefined;
  /** GITHUB_ORG's seat snapshot now (after any seat poll in flight). */
  pollSeats(): Promise<SeatPollResult>;
  /** GITHUB_ORG's Copilot audit events (action:copilot) not yet published. */
  pollAuditEvents(): Promise<AuditPollResult>;
  /** GITHUB_ORG's agent events (actor:Copilot) not yet published. */
  pollAgentEvents(): Promise<AuditPollResult>;
}

export function createService(config: IngestCopilotConfig, deps: ServiceDeps): IngestCopilotService {
  const tenant = config.TENANT_ID;
  const log = deps.logger.child({ component: "ingest-copilot", tenant });
  const events = telemetry(log);
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-ingest-copilot`,
      logger: log,
    });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const cursors = new Map<string, StreamCursor>();
  const pollers = new Map<string, ConnectionPoller>();
  /** Connections from the topic, by id: the newest record of each. */
  const records = new Map<string, ConnectionRecord>();
  let ready: Promise<void> | undefined;
  let started = false;
  let timer: NodeJS.Timeout | undefined;
  let watcher: RunningConsumer | undefined;
  let statusProducer: Promise<TransactionalProducer> | undefined;

  function init(): Promise<void> {
    ready ??= (async () => {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      for (const [key, cursor] of await loadCursors(kafka, topics.cursors)) cursors.set(key, cursor);
    })();
    return ready;
  }

  const pollerDeps = {
    config,
    kafka,
    topics,
    pseudonymizer: createPseudonymizer(config.PSEUDONYM_KEY),
    cursors,
    telemetry: events,
    ready: init,
    onBroken: (spec: ConnectionSpec, message: string) => void markBroken(spec.connectionId, message),
  };
  // Status writes share one producer, which holds one transaction at a time: one after another.
  let statusWrites: Promise<void> = Promise.resolve();
  function markBroken(connectionId: string, message: string): Promise<void> {
    statusWrites = statusWrites.then(() => writeBroken(connectionId, message));
    return statusWrites;
  }

  function replacePoller(connectionId: string, spec: ConnectionSpec | undefined): void {
    const old = pollers.get(connectionId);
    pollers.delete(connectionId);
    if (old) void old.stop();
    if (!spec) return;
    const poller = createConnectionPoller(spec, pollerDeps);
    pollers.set(connectionId, poller);
    if (started) void poller.pollAll();
  }

  async function writeBroken(connectionId: string, message: string): Promise<void> {
    events.connectionBroken({ connection: connectionId, message });
    replacePoller(connectionId, undefined);
    const record = records.get(connectionId);
    if (!record) return;
    statusProducer ??= kafka.transactionalProducer(
      `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${tenant}.connections`,
    );
    const broken: ConnectionRecord = {
      ...record,
      status: "BROKEN",
      status_message: message,
      updated_at: Date.now(),
    };
    try {
      const producer = await statusProducer;
      await producer.transaction((tx) =>
        tx.send([
          {
            topic: topics.connections,
            key: `${tenant}/${connectionId}`,
            value: codecs.connection.encode(broken),
          },
        ]),
      );
    } catch (err) {
      const failed = statusProducer;
      statusProducer = undefined;
      await failed.then((p) => p.disconnect()).catch(() => undefined);
      log.error(
        { err, connection: connectionId },
        "could not record the BROKEN status on the connections topic",
      );
    }
  }

  function applyConnection(key: string, value: Buffer | null): void {
    const [keyTenant, connectionId] = key.split("/");
    if (keyTenant !== tenant || !connectionId) return;
    if (value === null) {
      records.delete(connectionId);
      replacePoller(connectionId, undefined);
      events.connectionRemoved({ connection: connectionId });
      return;
    }
    const record = codecs.connection.decode(value);
    if (record.vendor !== "GITHUB") return;
    const previous = records.get(connectionId);
    records.set(connectionId, record);
    events.connectionChanged({ connection: connectionId, status: record.status });
    if (record.status !== "ACTIVE") return replacePoller(connectionId, undefined);
    // The same credential again (e.g. this service's own status write): nothing to restart.
    if (
      previous?.status === "ACTIVE" &&
      previous.sealed_token.nonce === record.sealed_token.nonce &&
      pollers.has(connectionId)
    )
      return;
    if (!config.SECRETS_KEY) return;
    let token: string;
    try {
      token = openSecret(config.SECRETS_KEY, record.sealed_token, sealContext(tenant, connectionId));
    } catch (err) {
      void markBroken(
        connectionId,
        `the token cannot be opened with SECRETS_KEY (${describeError(err)}): connect again`,
      );
      return;
    }
    replacePoller(connectionId, {
      tenant,
      connectionId,
      kind: record.kind,
      slug: record.slug,
      baseUrl: record.base_url,
      token,
      keepUsageContent: record.keep_usage_content,
    });
  }

  const staticId =
    config.GITHUB_ORG === undefined ? undefined : githubConnectionId("ORGANIZATION", config.GITHUB_ORG);
  if (staticId !== undefined && config.GITHUB_ORG !== undefined && config.githubToken !== undefined) {
    replacePoller(staticId, {
      tenant,
      connectionId: staticId,
      kind: "ORGANIZATION",
      slug: config.GITHUB_ORG,
      baseUrl: config.GITHUB_API_URL,
      token: config.githubToken,
      keepUsageContent: false,
    });
  }
  function staticPoller(): ConnectionPoller {
    const poller = staticId === undefined ? undefined : pollers.get(staticId);
    if (!poller) throw new Error("GITHUB_ORG is not configured, or its connection is broken");
    return poller;
  }

  return {
    async start() {
      await init();
      started = true;
      for (const poller of pollers.values()) void poller.pollAll();
      if (config.SECRETS_KEY) {
        watcher = await kafka.runConsumer({
          // A group of its own each start: every instance reads every connection from the beginning.
          groupId: `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${tenant}.connections.${randomUUID()}`,
          topics: [topics.connections],
          handleBatch: (batch: IncomingBatch) => {
            for (const record of batch.records) {
              if (!record.key) continue;
              try {
                applyConnection(record.key, record.value);
              } catch (err) {
                // One unreadable record must not stop every other connection from being followed.
                log.error(
                  { err, key: record.key, offset: record.offset },
                  "connection record cannot be read, skipped",
                );
              }
            }
            return Promise.resolve();
          },
        });
      }
      timer = setInterval(() => {
        for (const poller of pollers.values()) void poller.pollAll();
      }, config.POLL_INTERVAL_SECONDS * 1000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      started = false;
      await watcher?.stop();
      await Promise.all([...pollers.values()].map((p) => p.stop()));
      await statusProducer?.then((p) => p.disconnect()).catch(() => undefined);
    },
    connection: (connectionId) => pollers.get(connectionId),
    pollSeats: () => staticPoller().pollSeats(),
    pollAuditEvents: () => staticPoller().pollAuditEvents(),
    pollAgentEvents: () => staticPoller().pollAgentEvents(),
  };
}
