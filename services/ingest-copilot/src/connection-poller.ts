/**
 * Everything ingest-copilot does for one connection (an organization or an enterprise): its
 * GitHub client and its streams, each stream with its own producer (`transactionalId` per
 * tenant/connection/stream, so a second instance fences the first) and its own queue, so one
 * stream or connection failing never delays another.
 */
import { RequestError } from "@octokit/request-error";
import type { StreamCursor, TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { isAiauditError } from "@aiaudit/errors";
import type { KafkaClient, TransactionalProducer } from "@aiaudit/kafka";
import type { IngestCopilotConfig } from "./config.ts";
import { REJECTED_TOKEN } from "./connect/probe.ts";
import { createGithubClient } from "./source/github-client.ts";
import { createAuditStream, type AuditPollResult } from "./streams/audit-events.ts";
import { createMetricsStream, type MetricsPollResult } from "./streams/metrics.ts";
import { createSeatStream, type SeatPollResult } from "./streams/seats.ts";
import { createUsageRecordStream } from "./streams/usage-records.ts";
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
  cursors: Map<string, StreamCursor>;
  telemetry: Telemetry;
  /** Resolves once topics exist and cursors are loaded. */
  ready: () => Promise<void>;
  /** The token was rejected (401): stop polling, with the message a person acts on. */
  onBroken: (spec: ConnectionSpec, message: string) => void;
}

export type StreamName =
  | "copilot.seats"
  | "copilot.audit-events"
  | "copilot.agent-events"
  | "copilot.usage-records"
  | "copilot.metrics";

export interface ConnectionPoller {
  readonly spec: ConnectionSpec;
  pollSeats(): Promise<SeatPollResult>;
  pollAuditEvents(): Promise<AuditPollResult>;
  pollAgentEvents(): Promise<AuditPollResult>;
  /** Enterprise connections only. */
  pollUsageRecords(): Promise<AuditPollResult>;
  /** Daily usage-metrics reports not yet published, up to yesterday. */
  pollMetrics(): Promise<MetricsPollResult>;
  /** Polls every stream, concurrently; failures are reported, not thrown. */
  pollAll(): Promise<void>;
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
  const producers = new Map<StreamName, Promise<TransactionalProducer>>();
  const producerFor = (stream: StreamName) => () => {
    let producer = producers.get(stream);
    if (!producer) {
      producer = deps.kafka.transactionalProducer(
        `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.${spec.tenant}.${spec.connectionId}.${stream}`,
      );
      producers.set(stream, producer);
    }
    return producer;
  };
  const common = {
    github,
    topics: deps.topics,
    pseudonymizer: deps.pseudonymizer,
    telemetry: events,
    cursors: deps.cursors,
  };
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
    { ...common, producer: producerFor("copilot.seats") },
  );
  const auditEvents = createAuditStream(
    { ...audit, stream: "copilot.audit-events", phrase: "action:copilot" },
    { ...common, producer: producerFor("copilot.audit-events") },
  );
  // Agent actions outside copilot.* (pull requests, pushes…); copilot.* ones come with the stream above.
  const agentEvents = createAuditStream(
    {
      ...audit,
      stream: "copilot.agent-events",
      phrase: "actor:Copilot",
      skip: (e) => isCopilotAction(e.action),
    },
    { ...common, producer: producerFor("copilot.agent-events") },
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
          { ...common, producer: producerFor("copilot.usage-records") },
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
    { ...common, producer: producerFor("copilot.metrics") },
  );
  const streams = new Map<StreamName, () => Promise<unknown>>([
    ["copilot.metrics", metrics],
    ["copilot.seats", seats],
    ["copilot.audit-events", auditEvents],
    ["copilot.agent-events", agentEvents],
    ...(usageRecords ? [["copilot.usage-records", usageRecords] as const] : []),
  ]);

  const queues = new Map<StreamName, Promise<unknown>>();
  function run<T>(stream: StreamName, poll: () => Promise<T>): Promise<T> {
    const result = (queues.get(stream) ?? Promise.resolve()).then(async () => {
      await deps.ready();
      return poll();
    });
    queues.set(
      stream,
      result.catch(() => undefined),
    );
    return result;
  }

  let broken = false;

  async function pollAll(): Promise<void> {
    await Promise.all(
      [...streams].map(([name, poll]) =>
        run(name, poll).catch((err: unknown) => {
          events.pollFailed({
            connection: spec.connectionId,
            stream: name,
            err,
            retryable: isAiauditError(err)
              ? err.retryable
              : !(err instanceof RequestError && err.status === 401),
          });
          // Every stream of the connection meets the same 401: report it once.
          if (err instanceof RequestError && err.status === 401 && !broken) {
            broken = true;
            deps.onBroken(spec, REJECTED_TOKEN);
          }
        }),
      ),
    );
  }

  return {
    spec,
    pollSeats: () => run("copilot.seats", seats),
    pollAuditEvents: () => run("copilot.audit-events", auditEvents),
    pollAgentEvents: () => run("copilot.agent-events", agentEvents),
    pollMetrics: () => run("copilot.metrics", metrics),
    pollUsageRecords: () => {
      if (!usageRecords)
        return Promise.reject(
          new Error(`${spec.connectionId} is not an enterprise: it has no usage records`),
        );
      return run("copilot.usage-records", usageRecords);
    },
    pollAll,
    async stop() {
      await Promise.all(queues.values());
      const pending = [...producers.values()];
      producers.clear();
      await Promise.all(
        pending.map((p) => p.then((producer) => producer.disconnect()).catch(() => undefined)),
      );
    },
  };
}
