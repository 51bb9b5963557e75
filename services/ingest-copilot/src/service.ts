/**
 * ingest-copilot wiring (CONVENTIONS.md §1): GitHub client → seat transform → Kafka transaction.
 * One poll at start, then every POLL_INTERVAL_SECONDS. A failed poll publishes nothing and is
 * retried at the next tick.
 */
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createPseudonymizer, pseudonymizeDeep, uuidv7 } from "@aiaudit/crypto";
import { isAiauditError } from "@aiaudit/errors";
import { createKafka, type KafkaClient, type TransactionalProducer } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { IngestCopilotConfig } from "./config.ts";
import { createGithubClient } from "./source/github-client.ts";
import { fetchOrgSeats } from "./source/seats.ts";
import { publishSnapshot } from "./sinks/snapshot-publisher.ts";
import { telemetry } from "./telemetry.ts";
import { toSeatRecord } from "./transforms/seat.ts";

export interface ServiceDeps {
  logger: Logger;
  /** Injected in tests and the all-in-one runner; created from the config otherwise. */
  kafka?: KafkaClient;
}

export interface SeatPollResult {
  snapshotId: string;
  rows: number;
  rejected: number;
}

export interface IngestCopilotService {
  /** Creates the topics, polls once now, then every POLL_INTERVAL_SECONDS. */
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Takes and publishes one seat snapshot now (after any poll in flight). */
  pollSeats(): Promise<SeatPollResult>;
}

export function createService(config: IngestCopilotConfig, deps: ServiceDeps): IngestCopilotService {
  const log = deps.logger.child({
    component: "ingest-copilot",
    tenant: config.TENANT_ID,
    org: config.GITHUB_ORG,
  });
  const events = telemetry(log);
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-ingest-copilot`,
      logger: log,
    });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const pseudonymizer = createPseudonymizer(config.PSEUDONYM_KEY);
  const github = createGithubClient({
    baseUrl: config.GITHUB_API_URL,
    token: config.githubToken,
    telemetry: events,
  });
  let producer: Promise<TransactionalProducer> | undefined;
  let timer: NodeJS.Timeout | undefined;
  // Polls run one after another: one producer has at most one open transaction.
  let queue: Promise<unknown> = Promise.resolve();

  function seatProducer(): Promise<TransactionalProducer> {
    // One transactionalId per tenant/org/stream: a second instance fences this one.
    producer ??= kafka.transactionalProducer(
      `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${config.TENANT_ID}.${config.GITHUB_ORG}.seats`,
    );
    return producer;
  }

  function serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = queue.then(work);
    queue = run.catch(() => undefined);
    return run;
  }

  async function pollSeats(): Promise<SeatPollResult> {
    const started = Date.now();
    const snapshotId = uuidv7(started);
    const listing = await fetchOrgSeats(github, config.GITHUB_ORG, config.SEATS_PER_PAGE);
    const seats = [];
    const rejected = [];
    for (const raw of listing.seats) {
      const result = toSeatRecord(raw, pseudonymizer);
      if (result.ok) {
        seats.push(result.seat);
      } else {
        events.seatRejected({ org: config.GITHUB_ORG, reason: result.reason });
        rejected.push({ payload: pseudonymizeDeep(raw, pseudonymizer), reason: result.reason });
      }
    }
    await publishSnapshot(await seatProducer(), topics, {
      tenant: config.TENANT_ID,
      org: config.GITHUB_ORG,
      snapshotId,
      takenAt: started,
      totalSeats: listing.totalSeats,
      pseudonymKeyId: pseudonymizer.keyId,
      seats,
      rejected,
      source: `github:GET /orgs/${config.GITHUB_ORG}/copilot/billing/seats`,
    });
    events.snapshotPublished({
      org: config.GITHUB_ORG,
      snapshotId,
      rows: seats.length,
      rejected: rejected.length,
      ms: Date.now() - started,
    });
    return { snapshotId, rows: seats.length, rejected: rejected.length };
  }

  function tick() {
    serialized(pollSeats).catch((err: unknown) => {
      events.pollFailed({
        org: config.GITHUB_ORG,
        stream: "copilot.seats",
        err,
        retryable: isAiauditError(err) ? err.retryable : true,
      });
    });
  }

  return {
    async start() {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      tick();
      timer = setInterval(tick, config.POLL_INTERVAL_SECONDS * 1000);
    },
    async stop() {
      if (timer) clearInterval(timer);
      await queue;
      const pending = producer;
      producer = undefined;
      await pending?.then((p) => p.disconnect()).catch(() => undefined);
    },
    pollSeats: () => serialized(pollSeats),
  };
}
