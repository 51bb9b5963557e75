/**
 * Everything ingest-copilot does for one connection (an organization or an enterprise): its
 * GitHub client and its streams, run by `@aiaudit/ingest`'s stream runner (a producer and a
 * queue per stream, retries with backoff after failures, POLL_INTERVAL_SECONDS schedule). A
 * rejected token (401) breaks the connection.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { REJECTED_TOKEN } from "@aiaudit/github-connect";
import { createStreamRunner, type CursorStore, type StreamHealth } from "@aiaudit/ingest";
import type { KafkaClient } from "@aiaudit/kafka";
import type { IngestCopilotConfig } from "./config.ts";
import { createGithubClient } from "./source/github-client.ts";
import { createAuditStream, type AuditPollResult } from "./streams/audit-events.ts";
import { createMetricsStream, type MetricsPollResult } from "./streams/metrics.ts";
import { createSeatStream, type SeatPollResult } from "./streams/seats.ts";
import { createUsageRecordStream } from "./streams/usage-records.ts";
import type { StreamDeps } from "./streams/types.ts";
import type { Telemetry } from "./telemetry.ts";

export type { StreamHealth };

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
  onBroken: (message: string) => void;
}

export type StreamName =
  | "copilot.seats"
  | "copilot.audit-events"
  | "copilot.agent-events"
  | "copilot.usage-records"
  | "copilot.metrics";

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

export function createConnectionPoller(spec: ConnectionSpec, deps: PollerDeps): ConnectionPoller {
  const { config, telemetry: events } = deps;
  let expiryWarnedAt = 0;
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
  const runner = createStreamRunner<StreamName>({
    connectionId: spec.connectionId,
    transactionalIdPrefix: `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${spec.tenant}.${spec.connectionId}`,
    kafka: deps.kafka,
    topics: deps.topics,
    pseudonymizer: deps.pseudonymizer,
    cursorStore: deps.cursorStore,
    ready: deps.ready,
    telemetry: events,
    pollIntervalMs: config.POLL_INTERVAL_SECONDS * 1000,
    retryFirstMs: config.POLL_RETRY_FIRST_SECONDS * 1000,
    onUnauthorized: () => deps.onBroken(REJECTED_TOKEN),
  });
  const depsFor = (stream: StreamName): StreamDeps => ({ ...runner.base(stream), github, telemetry: events });

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
  runner.add("copilot.metrics", metrics);
  runner.add("copilot.seats", seats);
  runner.add("copilot.audit-events", auditEvents);
  runner.add("copilot.agent-events", agentEvents);
  if (usageRecords) runner.add("copilot.usage-records", usageRecords);

  const unsupported = () =>
    Promise.reject(new Error(`${spec.connectionId} is not an enterprise: it has no usage records`));

  return {
    spec,
    start: runner.start,
    pollSeats: () => runner.run("copilot.seats", seats),
    pollAuditEvents: () => runner.run("copilot.audit-events", auditEvents),
    pollAgentEvents: () => runner.run("copilot.agent-events", agentEvents),
    pollMetrics: () => runner.run("copilot.metrics", metrics),
    pollUsageRecords: () =>
      usageRecords ? runner.run("copilot.usage-records", usageRecords) : unsupported(),
    pollAll: runner.pollAll,
    health: runner.health,
    stop: runner.stop,
  };
}
