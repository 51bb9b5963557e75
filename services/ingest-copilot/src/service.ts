/**
 * ingest-copilot wiring (CONVENTIONS.md §1): per stream a GitHub source, a transform and a Kafka
 * transaction sink, on one schedule. Streams are isolated: each has its own producer
 * (`transactionalId` per tenant/org/stream, so a second instance fences the first) and its own
 * queue, and one failing never delays another. Cursors are read back from the cursors topic
 * before the first poll, so a restart resumes where the last committed transaction left off.
 */
import { topicNames, topicSpecs, type StreamCursor } from "@aiaudit/contracts";
import { createPseudonymizer } from "@aiaudit/crypto";
import { isAiauditError } from "@aiaudit/errors";
import { createKafka, type KafkaClient, type TransactionalProducer } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { IngestCopilotConfig } from "./config.ts";
import { loadCursors } from "./source/cursors.ts";
import { createGithubClient } from "./source/github-client.ts";
import { createAuditStream, type AuditPollResult } from "./streams/audit-events.ts";
import { createSeatStream, type SeatPollResult } from "./streams/seats.ts";
import { telemetry } from "./telemetry.ts";

export type { AuditPollResult, SeatPollResult };

export interface ServiceDeps {
  logger: Logger;
  /** Injected in tests and the all-in-one runner; created from the config otherwise. */
  kafka?: KafkaClient;
}

export interface IngestCopilotService {
  /** Creates the topics, polls every stream now, then every POLL_INTERVAL_SECONDS. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Takes and publishes one seat snapshot now (after any seat poll in flight). */
  pollSeats(): Promise<SeatPollResult>;
  /** Publishes the Copilot audit events (phrase action:copilot) not yet published. */
  pollAuditEvents(): Promise<AuditPollResult>;
  /** Publishes the events of Copilot agents (phrase actor:Copilot) not yet published. */
  pollAgentEvents(): Promise<AuditPollResult>;
}

const isCopilotAction = (action: string) => action === "copilot" || action.startsWith("copilot.");

export function createService(config: IngestCopilotConfig, deps: ServiceDeps): IngestCopilotService {
  const org = config.GITHUB_ORG;
  const tenant = config.TENANT_ID;
  const log = deps.logger.child({ component: "ingest-copilot", tenant, org });
  const events = telemetry(log);
  const kafka =
    deps.kafka ??
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-ingest-copilot`, logger: log });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const pseudonymizer = createPseudonymizer(config.PSEUDONYM_KEY);
  const github = createGithubClient({
    baseUrl: config.GITHUB_API_URL,
    token: config.githubToken,
    telemetry: events,
    timeoutMs: config.GITHUB_REQUEST_TIMEOUT_SECONDS * 1000,
    auditLogQueriesPerWindow: config.AUDIT_LOG_QUERIES_PER_HOUR,
  });
  const cursors = new Map<string, StreamCursor>();
  const producers = new Map<string, Promise<TransactionalProducer>>();
  let ready: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;

  function producerFor(stream: string) {
    return () => {
      let producer = producers.get(stream);
      if (!producer) {
        producer = kafka.transactionalProducer(`${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${tenant}.${org}.${stream}`);
        producers.set(stream, producer);
      }
      return producer;
    };
  }

  /** Topics exist and cursors are loaded before the first poll of any stream. */
  function init(): Promise<void> {
    ready ??= (async () => {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      for (const [key, cursor] of await loadCursors(kafka, topics.cursors)) cursors.set(key, cursor);
    })();
    return ready;
  }

  const common = { github, topics, pseudonymizer, telemetry: events, cursors };
  const audit = {
    tenant,
    slug: org,
    scope: "ORGANIZATION" as const,
    perPage: config.AUDIT_PER_PAGE,
    overlapMs: config.AUDIT_OVERLAP_MINUTES * 60_000,
    initialLookbackMs: config.AUDIT_INITIAL_LOOKBACK_DAYS * 86_400_000,
  };
  const streams = {
    "copilot.seats": createSeatStream(
      tenant,
      { scope: "ORGANIZATION", slug: org, perPage: config.SEATS_PER_PAGE },
      { ...common, producer: producerFor("copilot.seats") },
    ),
    "copilot.audit-events": createAuditStream(
      { ...audit, stream: "copilot.audit-events", phrase: "action:copilot" },
      { ...common, producer: producerFor("copilot.audit-events") },
    ),
    // Agent actions outside copilot.* (pull requests, pushes…); copilot.* ones come with the stream above.
    "copilot.agent-events": createAuditStream(
      { ...audit, stream: "copilot.agent-events", phrase: "actor:Copilot", skip: (e) => isCopilotAction(e.action) },
      { ...common, producer: producerFor("copilot.agent-events") },
    ),
  };
  type StreamName = keyof typeof streams;

  // One queue per stream: a producer has at most one open transaction, and streams never wait on each other.
  const queues = new Map<StreamName, Promise<unknown>>();
  function run<T>(stream: StreamName, poll: () => Promise<T>): Promise<T> {
    const result = (queues.get(stream) ?? Promise.resolve()).then(async () => {
      await init();
      return poll();
    });
    queues.set(stream, result.catch(() => undefined));
    return result;
  }

  function tick() {
    for (const name of Object.keys(streams) as StreamName[]) {
      run(name, streams[name] as () => Promise<unknown>).catch((err: unknown) => {
        events.pollFailed({ org, stream: name, err, retryable: isAiauditError(err) ? err.retryable : true });
      });
    }
  }

  return {
    async start() {
      await init();
      tick();
      timer = setInterval(tick, config.POLL_INTERVAL_SECONDS * 1000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await Promise.all(queues.values());
      const pending = [...producers.values()];
      producers.clear();
      await Promise.all(pending.map((p) => p.then((producer) => producer.disconnect()).catch(() => undefined)));
    },
    pollSeats: () => run("copilot.seats", streams["copilot.seats"]),
    pollAuditEvents: () => run("copilot.audit-events", streams["copilot.audit-events"]),
    pollAgentEvents: () => run("copilot.agent-events", streams["copilot.agent-events"]),
  };
}
