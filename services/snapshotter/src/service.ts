/**
 * snapshotter wiring: one read_committed consumer group over the topics it sinks, each topic to its
 * ClickHouse sink; and the SIEM forwarders, a consumer group per destination on the destinations
 * topic (sinks/siem/forwarder.ts), which that topic starts and stops.
 * Migrations and the tables' retention (CLICKHOUSE_TTL_DAYS) are applied at start (idempotent)
 * unless CLICKHOUSE_MIGRATE_ON_START=false.
 */
import { hostname } from "node:os";
import { randomUUID } from "node:crypto";
import { Registry } from "prom-client";
import { applyRetention, createClickHouse, migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { topicNames, topicSpecs, type DeadLetter } from "@aiaudit/contracts";
import {
  createKafka,
  type GroupConsumer,
  type IncomingBatch,
  type KafkaClient,
  type RunningConsumer,
  type TransactionalProducer,
} from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { readinessCheck, type Readiness, type ReadinessCheck } from "@aiaudit/runtime";
import type { SnapshotterConfig } from "./config.ts";
import { createAuditEventSink } from "./sinks/clickhouse-audit-events.ts";
import { createMetricsSink } from "./sinks/clickhouse-metrics.ts";
import { createOpenaiAuditEventSink, createOpenaiSnapshotSink } from "./sinks/clickhouse-openai.ts";
import { createSeatSink } from "./sinks/clickhouse-seats.ts";
import { createForwarders, type Forwarders } from "./sinks/siem/forwarder.ts";
import { runJsonTopic } from "./sinks/siem/json-topic.ts";
import { createUsageRecordSink } from "./sinks/clickhouse-usage-records.ts";
import type { SinkDeps } from "./sinks/types.ts";
import { telemetry } from "./telemetry.ts";

export interface ServiceDeps {
  logger: Logger;
  kafka?: KafkaClient;
  /** Shared ClickHouse handle (the all-in-one runner and tests); opened from the config otherwise. */
  clickhouse?: ClickHouse;
  /** Where the `aiaudit_snapshotter_*` metrics go (served on /metrics); a private one otherwise. */
  registry?: Registry;
}

export interface SnapshotterService {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Kafka answers, ClickHouse answers `SELECT 1`, and the consumer is in its group. */
  ready(): Promise<Readiness>;
  /**
   * `--once`: starts if needed, sinks every topic up to the end it has now (the group's committed
   * offsets reach it), and resolves true; false when a batch fails or Kafka stops answering (what
   * was not committed is read again by the next pass). The caller stops the service afterwards.
   */
  runOnce(): Promise<boolean>;
}

/** How often `runOnce` compares the group's committed offsets with the ends. */
const ONCE_POLL_MS = 250;

export function createService(config: SnapshotterConfig, deps: ServiceDeps): SnapshotterService {
  const log = deps.logger.child({ component: "snapshotter" });
  const events = telemetry(log, deps.registry ?? new Registry());
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-snapshotter`,
      logger: log,
    });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  let ch: ClickHouse | undefined;
  let consumer: GroupConsumer | undefined;
  let forwarders: Forwarders | undefined;
  let jsonTopic: GroupConsumer | undefined;
  let destinations: RunningConsumer | undefined;
  let dlq: TransactionalProducer | undefined;
  /** Batch failures during the `runOnce` pass under way, if one is. */
  let passFailures: Error[] | undefined;

  async function deadLetters(letters: DeadLetter[]) {
    if (letters.length === 0) return;
    // One transactional id per instance: members of one group sharing an id would fence each
    // other, and a fenced producer would block its partition for good.
    dlq ??= await kafka.transactionalProducer(
      `${config.SNAPSHOTTER_GROUP_ID}.dlq.${hostname()}.${randomUUID()}`,
    );
    try {
      await dlq.transaction((tx) => tx.send(letters));
    } catch (err) {
      const broken = dlq;
      dlq = undefined; // the next attempt starts a fresh producer
      await broken.disconnect().catch(() => undefined);
      throw err;
    }
  }

  /** Opens ClickHouse, migrates, and joins the group; the running consumer if already started. */
  async function start(): Promise<GroupConsumer> {
    if (consumer) return consumer;
    const db =
      ch ??
      deps.clickhouse ??
      (await createClickHouse({
        url: config.CLICKHOUSE_URL,
        username: config.CLICKHOUSE_USER,
        password: config.CLICKHOUSE_PASSWORD,
        database: config.CLICKHOUSE_DATABASE,
        dataDir: config.CLICKHOUSE_DATA_DIR,
        cluster: config.CLICKHOUSE_CLUSTER,
      }));
    ch = db;
    if (config.CLICKHOUSE_MIGRATE_ON_START) {
      const result = await migrate(db);
      if (result.applied.length > 0) events.migrated({ applied: result.applied });
      const retention = await applyRetention(db, config.CLICKHOUSE_TTL_DAYS);
      if (retention.changed.length > 0) events.retentionSet(retention);
    }
    await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
    const inSync = new Set<string>();
    const sinkDeps: SinkDeps = {
      ch: db,
      topics,
      telemetry: events,
      deadLetters,
      maxInsertRows: config.SNAPSHOTTER_MAX_INSERT_ROWS,
      inSync,
    };
    const sinks = new Map<string, (batch: IncomingBatch) => Promise<void>>([
      [topics.copilotSeats, createSeatSink(sinkDeps)],
      [topics.copilotAuditEvents, createAuditEventSink(sinkDeps)],
      [topics.copilotUsageRecords, createUsageRecordSink(sinkDeps)],
      [topics.copilotMetrics, createMetricsSink(sinkDeps)],
      [topics.openaiUsers, createOpenaiSnapshotSink(sinkDeps)],
      [topics.openaiProjects, createOpenaiSnapshotSink(sinkDeps)],
      [topics.openaiServiceAccounts, createOpenaiSnapshotSink(sinkDeps)],
      [topics.openaiApiKeys, createOpenaiSnapshotSink(sinkDeps)],
      [topics.openaiAuditEvents, createOpenaiAuditEventSink(sinkDeps)],
    ]);
    const started = await kafka.runConsumer({
      groupId: config.SNAPSHOTTER_GROUP_ID,
      topics: [...sinks.keys()],
      // A partition given (back) to this member is checked for a crashed owner's inserts first.
      onAssignment: () => inSync.clear(),
      minBytes: config.SNAPSHOTTER_FETCH_MIN_BYTES,
      maxWaitTimeInMs: config.SNAPSHOTTER_FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: config.SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION,
      maxBytes: config.SNAPSHOTTER_FETCH_MAX_BYTES,
      handleBatch: async (batch) => {
        const sink = sinks.get(batch.topic);
        try {
          if (!sink) throw new Error(`no sink for topic ${batch.topic}`);
          await sink(batch);
        } catch (err) {
          passFailures?.push(err instanceof Error ? err : new Error(String(err)));
          const { topic, partition, firstOffset, lastOffset } = batch;
          events.batchFailed({ topic, partition, firstOffset, lastOffset, err });
          throw err;
        }
      },
    });
    consumer = started;
    const fetch = {
      minBytes: config.SNAPSHOTTER_FETCH_MIN_BYTES,
      maxWaitTimeInMs: config.SNAPSHOTTER_FETCH_MAX_WAIT_MS,
      maxBytesPerPartition: config.SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION,
      maxBytes: config.SNAPSHOTTER_FETCH_MAX_BYTES,
    };
    jsonTopic = await runJsonTopic({ kafka, topics, groupPrefix: config.SNAPSHOTTER_GROUP_ID, fetch });
    const siem = createForwarders({
      kafka,
      topics,
      groupPrefix: config.SNAPSHOTTER_GROUP_ID,
      log,
      secretsKey: config.SECRETS_KEY,
      retryFirstMs: config.SIEM_RETRY_FIRST_MS,
      fetch,
      deadLetters,
    });
    forwarders = siem;
    // Every instance reads the whole destinations topic (a group of its own) and joins every
    // destination's group; Kafka shares each destination's partitions among the instances.
    destinations = await kafka.followTopic({
      groupId: `${config.SNAPSHOTTER_GROUP_ID}.destinations.${randomUUID()}`,
      topic: topics.destinations,
      async handleBatch(batch) {
        const latest = new Map(
          batch.records.flatMap((r) => (r.key === null ? [] : [[r.key, r.value] as const])),
        );
        for (const [key, value] of latest) await siem.apply(key, value);
      },
    });
    return started;
  }

  return {
    async start() {
      await start();
    },

    async stop() {
      const running = consumer;
      consumer = undefined;
      await destinations?.stop();
      destinations = undefined;
      await forwarders?.stop();
      forwarders = undefined;
      await jsonTopic?.stop();
      jsonTopic = undefined;
      await running?.stop();
      await dlq?.disconnect();
      dlq = undefined;
      if (!deps.clickhouse) await ch?.close();
      ch = undefined;
    },

    async ready() {
      const db = ch;
      const [kafkaCheck, clickhouseCheck] = await Promise.all([
        readinessCheck(() => kafka.ping()),
        db ? readinessCheck(() => db.rows("SELECT 1")) : { ok: false, detail: "not started" },
      ]);
      const consumerCheck: ReadinessCheck = consumer?.isRunning()
        ? { ok: true }
        : {
            ok: false,
            detail: "the consumer is not in its group (starting, rejoining after a failure, or stopped)",
          };
      const checks = { kafka: kafkaCheck, clickhouse: clickhouseCheck, consumer: consumerCheck };
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },

    async runOnce() {
      const began = Date.now();
      const failures: Error[] = [];
      passFailures = failures;
      try {
        const group = await start();
        // Where each partition ends now; what arrives later is the next pass's.
        const ends = await group.ends();
        const key = (p: { topic: string; partition: number }) => `${p.topic}/${p.partition}`;
        for (;;) {
          const [failure] = failures;
          if (failure) throw failure;
          const committed = new Map((await group.committed()).map((p) => [key(p), p.offset]));
          const behind = ends.filter(
            (end) => end.offset > end.earliest && (committed.get(key(end)) ?? -1n) < end.offset,
          );
          if (behind.length === 0) break;
          await new Promise((resolve) => setTimeout(resolve, ONCE_POLL_MS));
        }
        events.oncePassDone({ partitions: ends.length, ms: Date.now() - began });
        return true;
      } catch (err) {
        events.oncePassFailed({ err });
        return false;
      } finally {
        passFailures = undefined;
      }
    },
  };
}
