/**
 * The lifecycle every ingest service shares (docs/conventions.md §1): topics created and the
 * cursor store following its topic before the first poll, the connections followed (`start`) or
 * polled once (`runOnce`, for `--once`), readiness from Kafka and the streams' health, and a stop
 * that waits for the polls in flight.
 */
import { topicNames, topicSpecs, type TopicNames } from "@aiaudit/contracts";
import type { KafkaClient } from "@aiaudit/kafka";
import { readinessCheck, type Readiness } from "@aiaudit/runtime";
import { connectionKey, type ConnectionIdentity, type Connections, type Poller } from "./connections.ts";
import { createCursorStore, type CursorStore } from "./cursors.ts";
import type { StreamHealth } from "./stream-runner.ts";

/** A poller whose streams report their health. */
export interface HealthyPoller<S extends ConnectionIdentity> extends Poller<S> {
  health(): ReadonlyMap<string, StreamHealth>;
}

export interface IngestService<P> {
  /** Creates the topics, follows the connections topic, polls every connection now and on schedule. */
  start(): Promise<void>;
  /** One poll of every connection, then stop: true when all succeeded. */
  runOnce(): Promise<boolean>;
  /** Kafka reachable and no stream stuck (three failures in a row). */
  ready(): Promise<Readiness>;
  stop(): Promise<void>;
  /** The poller of a connection, by `tenant/connection-id` or, for `tenantId`'s, by connection id. */
  connection(id: string): P | undefined;
}

/** What the connections of a service are built with. */
export interface IngestContext {
  topics: TopicNames;
  cursorStore: CursorStore;
  /** Resolves once the topics exist and the cursor store follows its topic. */
  ready: () => Promise<void>;
}

/** A stream that failed this many times in a row makes the service not ready. */
const STUCK_AFTER_FAILURES = 3;

export function createIngestService<S extends ConnectionIdentity, P extends HealthyPoller<S>>(
  settings: { service: string; topicPrefix: string; tenantId: string | undefined; kafka: KafkaClient },
  connectionsOf: (context: IngestContext) => Connections<S, P>,
): IngestService<P> {
  const { kafka } = settings;
  const topics = topicNames(settings.topicPrefix);
  const cursorStore = createCursorStore(kafka, topics.cursors, `${settings.topicPrefix}.${settings.service}`);
  let started: Promise<void> | undefined;
  const init = () =>
    (started ??= (async () => {
      await kafka.ensureTopics(topicSpecs(settings.topicPrefix));
      await cursorStore.start();
    })());
  const connections = connectionsOf({ topics, cursorStore, ready: init });

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
      (settings.tenantId ? connections.get(connectionKey(settings.tenantId, id)) : undefined),
  };
}
