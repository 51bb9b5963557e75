/**
 * Everything ingest-copilot does for one connection (an organization or an enterprise): its
 * GitHub client and its streams, each stream with its own producer (`transactionalId` per
 * tenant/connection/stream, so whoever polls the connection next fences this one) and its own
 * queue, so one stream or connection failing never delays another.
 *
 * Schedule: every stream is polled at start and every POLL_INTERVAL_SECONDS. A stream whose poll
 * failed for a reason that may pass (Kafka or GitHub unreachable, a 5xx, a malformed answer) is
 * tried again after a backoff with jitter — 15 s, 30 s, 1 min, … up to 5 min — not only at the
 * next hourly poll. A rejected token (401) breaks the connection; a fenced producer means another
 * instance polls the connection now, and this poller stops.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { AiauditError, ErrorCodes, isAiauditError } from "@aiaudit/errors";
import { REJECTED_TOKEN } from "@aiaudit/github-connect";
import type { KafkaClient, TransactionalProducer } from "@aiaudit/kafka";
import type { IngestCopilotConfig } from "./config.ts";
import type { CursorStore } from "./source/cursors.ts";
import { createGithubClient } from "./source/github-client.ts";
import { createAuditStream, type AuditPollResult } from "./streams/audit-events.ts";
import { createMetricsStream, type MetricsPollResult } from "./streams/metrics.ts";
import { createSeatStream, type SeatPollResult } from "./streams/seats.ts";
import { createUsageRecordStream } from "./streams/usage-records.ts";
import type { StreamDeps } from "./streams/types.ts";
import type { Telemetry } from "./telemetry.ts";

export interface ConnectionSpec {
  tenant: string;
  connectionId: string;
  kind: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  baseUrl: string;
  token: string;
  /** Keep prompts and responses of usage records (a per-tenant choice); else keyed hashes only. */
  keepUsageContent: boolean;
}

export interface PollerDeps {
  config: IngestCopilotConfig;
  kafka: KafkaClient;
  topics: TopicNames;
  pseudonymizer: Pseudonymizer;
  cursorStore: CursorStore;
  /** Resolves once the topics exist and the cursor store follows its topic. */
  ready: () => Promise<void>;
  telemetry: Telemetry;
  /** The token was rejected (401): stop polling, with the message a person acts on. */
  onBroken: (spec: ConnectionSpec, message: string) => void;
}

export type StreamName =
  | "copilot.seats"
  | "copilot.audit-events"
  | "copilot.agent-events"
  | "copilot.usage-records"
  | "copilot.metrics";

/** What a stream's last polls say, for /readyz, metrics and `aiaudit status`. */
export interface StreamHealth {
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  consecutiveFailures: number;
  /** The last failure's code and message (never a vendor body). */
  lastError: string | undefined;
}

export interface ConnectionPoller {
  readonly spec: ConnectionSpec;
  /** Polls every stream now, then on schedule (with retries after failures). */
  start(): void;
  pollSeats(): Promise<SeatPollResult>;
  pollAuditEvents(): Promise<AuditPollResult>;
  pollAgentEvents(): Promise<AuditPollResult>;
  /** Enterprise connections only. */
  pollUsageRecords(): Promise<AuditPollResult>;
  /** Daily usage-metrics reports not yet published, up to yesterday. */
  pollMetrics(): Promise<MetricsPollResult>;
  /** Polls every stream once, concurrently; resolves true when all succeeded. Failures are reported, not thrown. */
  pollAll(): Promise<boolean>;
  health(): ReadonlyMap<StreamName, StreamHealth>;
  /** Stops the schedule and waits for the polls in flight. */
  stop(): Promise<void>;
}

const isCopilotAction = (action: string) => action === "copilot" || action.startsWith("copilot.");
const WEEK_MS = 7 * 86_400_000;
const RETRY_MAX_MS = 5 * 60_000;

/** Backoff before retry `n` (1-based): doubling from `firstMs`, at most 5 min, ±50 % jitter. */
export function retryDelayMs(n: number, firstMs: number, random = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, firstMs * 2 ** (n - 1));
  return Math.round(base * (0.5 + random()));
}

export function createConnectionPoller(spec: ConnectionSpec, deps: PollerDeps): ConnectionPoller {
  const { config, telemetry: events } = deps;
  let expiryWarnedAt = 0;
  let stopped = false;
  let broken = false;
  const github = createGithubClient({
    baseUrl: spec.baseUrl,
    token: spec.token,
    telemetry: events,
    timeoutMs: config.GITHUB_REQUEST_TIMEOUT_SECONDS * 1000,
    auditLogQueriesPerWindow: config.AUDIT_LOG_QUERIES_PER_HOUR,
    onTokenExpiration: (expiresAt) => {
      const now = Date.now();
      if (expiresAt - now < WEEK_MS && now - expiryWarnedAt > 3_600_000) {
        expiryWarnedAt = now;
        events.tokenExpiring({ connection: spec.connectionId, expiresAt: new Date(expiresAt).toISOString() });
      }
    },
  });

  const producers = new Map<StreamName, Promise<TransactionalProducer>>();
  function producerFor(stream: StreamName) {
    return () => {
      let producer = producers.get(stream);
      if (!producer) {
        // Creating it fences every earlier producer of this stream (a predecessor, a zombie).
        producer = deps.kafka.transactionalProducer(
          `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${spec.tenant}.${spec.connectionId}.${stream}`,
        );
        producers.set(stream, producer);
        producer.catch(() => producers.delete(stream));
      }
      return producer;
    };
  }
  /** After a Kafka failure the producer's state is unknown: the next poll starts a new one. */
  function dropProducer(stream: StreamName): void {
    const producer = producers.get(stream);
    producers.delete(stream);
    void producer?.then((p) => p.disconnect()).catch(() => undefined);
  }
  function depsFor(stream: StreamName): StreamDeps {
    const producer = producerFor(stream);
    return {
      github,
      topics: deps.topics,
      pseudonymizer: deps.pseudonymizer,
      telemetry: events,
      producer,
      // Fence first, then read: no predecessor can commit a cursor after the barrier.
      loadCursors: async () => {
        await deps.ready();
        await producer();
        return deps.cursorStore.fresh();
      },
    };
  }

  const audit = {
    tenant: spec.tenant,
    connectionId: spec.connectionId,
    slug: spec.slug,
    scope: spec.kind,
    perPage: config.AUDIT_PER_PAGE,
    overlapMs: config.AUDIT_OVERLAP_MINUTES * 60_000,
    initialLookbackMs: config.AUDIT_INITIAL_LOOKBACK_DAYS * 86_400_000,
  };
  const seats = createSeatStream(
    spec.tenant,
    spec.connectionId,
    { scope: spec.kind, slug: spec.slug, perPage: config.SEATS_PER_PAGE },
    depsFor("copilot.seats"),
  );
  const auditEvents = createAuditStream(
    { ...audit, stream: "copilot.audit-events", phrase: "action:copilot" },
    depsFor("copilot.audit-events"),
  );
  // Agent actions outside copilot.* (pull requests, pushes…); copilot.* ones come with the stream above.
  const agentEvents = createAuditStream(
    {
      ...audit,
      stream: "copilot.agent-events",
      phrase: "actor:Copilot",
      skip: (e) => isCopilotAction(e.action),
    },
    depsFor("copilot.agent-events"),
  );
  const usageRecords =
    spec.kind === "ENTERPRISE"
      ? createUsageRecordStream(
          {
            tenant: spec.tenant,
            connectionId: spec.connectionId,
            enterprise: spec.slug,
            keepContent: spec.keepUsageContent,
            overlapMs: config.AUDIT_OVERLAP_MINUTES * 60_000,
          },
          depsFor("copilot.usage-records"),
        )
      : undefined;
  const metrics = createMetricsStream(
    {
      tenant: spec.tenant,
      connectionId: spec.connectionId,
      scope: spec.kind,
      slug: spec.slug,
      initialLookbackDays: config.METRICS_INITIAL_LOOKBACK_DAYS,
      timeoutMs: config.GITHUB_REQUEST_TIMEOUT_SECONDS * 1000,
    },
    depsFor("copilot.metrics"),
  );
  const streams = new Map<StreamName, () => Promise<unknown>>([
    ["copilot.metrics", metrics],
    ["copilot.seats", seats],
    ["copilot.audit-events", auditEvents],
    ["copilot.agent-events", agentEvents],
    ...(usageRecords ? [["copilot.usage-records", usageRecords] as const] : []),
  ]);
  const health = new Map<StreamName, StreamHealth>(
    [...streams.keys()].map((name) => [
      name,
      { lastSuccessAt: undefined, lastFailureAt: undefined, consecutiveFailures: 0, lastError: undefined },
    ]),
  );
  const retries = new Map<StreamName, NodeJS.Timeout>();
  let interval: NodeJS.Timeout | undefined;

  const queues = new Map<StreamName, Promise<unknown>>();
  /** Polls of one stream run one after another; the result is the caller's. */
  function run<T>(stream: StreamName, poll: () => Promise<T>): Promise<T> {
    const result = (queues.get(stream) ?? Promise.resolve()).then(() => {
      if (stopped)
        throw new AiauditError(ErrorCodes.KAFKA_FENCED, `${spec.connectionId} is no longer polled here`);
      return poll();
    });
    queues.set(
      stream,
      result.then(
        () => succeeded(stream),
        (err: unknown) => failed(stream, err),
      ),
    );
    return result;
  }

  function succeeded(stream: StreamName): void {
    const h = health.get(stream);
    if (h) Object.assign(h, { lastSuccessAt: Date.now(), consecutiveFailures: 0 });
    clearTimeout(retries.get(stream));
    retries.delete(stream);
    events.streamSucceeded({ connection: spec.connectionId, stream });
  }

  function failed(stream: StreamName, err: unknown): void {
    if (stopped) return;
    const h = health.get(stream);
    const coded = isAiauditError(err) ? err : undefined;
    if (h) {
      h.lastFailureAt = Date.now();
      h.consecutiveFailures += 1;
      h.lastError = `${coded?.code ?? "UNEXPECTED"}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (coded?.code === ErrorCodes.KAFKA_FENCED) {
      // Another instance holds this connection now (a rebalance moved it): let it.
      events.connectionTakenOver({ connection: spec.connectionId, stream });
      void stop();
      return;
    }
    if (coded?.code.startsWith("KAFKA_")) dropProducer(stream);
    const retryable = coded?.retryable ?? true;
    events.pollFailed({ connection: spec.connectionId, stream, err, retryable });
    events.streamFailed({ connection: spec.connectionId, stream, code: coded?.code ?? "UNEXPECTED" });
    if (coded?.code === ErrorCodes.UPSTREAM_UNAUTHORIZED) {
      // Every stream of the connection meets the same 401: report it once.
      if (!broken) {
        broken = true;
        deps.onBroken(spec, REJECTED_TOKEN);
      }
      return;
    }
    if (retryable && !retries.has(stream) && interval !== undefined) {
      const poll = streams.get(stream);
      const delay = retryDelayMs(h?.consecutiveFailures ?? 1, config.POLL_RETRY_FIRST_SECONDS * 1000);
      events.retryScheduled({ connection: spec.connectionId, stream, inSeconds: Math.round(delay / 1000) });
      retries.set(
        stream,
        setTimeout(() => {
          retries.delete(stream);
          if (poll) void run(stream, poll).catch(() => undefined);
        }, delay),
      );
    }
  }

  async function pollAll(): Promise<boolean> {
    const outcomes = await Promise.all(
      [...streams].map(([name, poll]) =>
        run(name, poll).then(
          () => true,
          () => false,
        ),
      ),
    );
    return outcomes.every(Boolean);
  }

  async function stop(): Promise<void> {
    stopped = true;
    clearInterval(interval);
    for (const timer of retries.values()) clearTimeout(timer);
    retries.clear();
    await Promise.all(queues.values());
    const pending = [...producers.values()];
    producers.clear();
    await Promise.all(pending.map((p) => p.then((producer) => producer.disconnect()).catch(() => undefined)));
  }

  const unsupported = () =>
    Promise.reject(new Error(`${spec.connectionId} is not an enterprise: it has no usage records`));

  return {
    spec,
    start() {
      if (stopped || interval !== undefined) return;
      interval = setInterval(() => void pollAll(), config.POLL_INTERVAL_SECONDS * 1000);
      void pollAll();
    },
    pollSeats: () => run("copilot.seats", seats),
    pollAuditEvents: () => run("copilot.audit-events", auditEvents),
    pollAgentEvents: () => run("copilot.agent-events", agentEvents),
    pollMetrics: () => run("copilot.metrics", metrics),
    pollUsageRecords: () => (usageRecords ? run("copilot.usage-records", usageRecords) : unsupported()),
    pollAll,
    health: () => health,
    stop,
  };
}
