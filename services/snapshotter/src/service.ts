/**
 * snapshotter wiring: one read_committed consumer group over the topics it sinks, each topic to its ClickHouse sink.
 * Migrations are applied at start (idempotent) unless CLICKHOUSE_MIGRATE_ON_START=false.
 */
import { createClickHouse, migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { topicNames, topicSpecs, type DeadLetter } from "@aiaudit/contracts";
import {
  createKafka,
  type IncomingBatch,
  type KafkaClient,
  type RunningConsumer,
  type TransactionalProducer,
} from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { SnapshotterConfig } from "./config.ts";
import { createAuditEventSink } from "./sinks/clickhouse-audit-events.ts";
import { createMetricsSink } from "./sinks/clickhouse-metrics.ts";
import { createSeatSink } from "./sinks/clickhouse-seats.ts";
import { createUsageRecordSink } from "./sinks/clickhouse-usage-records.ts";
import type { SinkDeps } from "./sinks/types.ts";
import { telemetry } from "./telemetry.ts";

export interface ServiceDeps {
  logger: Logger;
  kafka?: KafkaClient;
  /** Shared ClickHouse handle (the all-in-one runner and tests); opened from the config otherwise. */
  clickhouse?: ClickHouse;
}

export interface SnapshotterService {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createService(config: SnapshotterConfig, deps: ServiceDeps): SnapshotterService {
  const log = deps.logger.child({ component: "snapshotter" });
  const events = telemetry(log);
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-snapshotter`,
      logger: log,
    });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  let ch: ClickHouse | undefined;
  let consumer: RunningConsumer | undefined;
  let dlq: TransactionalProducer | undefined;

  return {
    async start() {
      const db =
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
      }
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      const sinkDeps: SinkDeps = {
        ch: db,
        topics,
        telemetry: events,
        async deadLetters(letters: DeadLetter[]) {
          if (letters.length === 0) return;
          dlq ??= await kafka.transactionalProducer(`${config.SNAPSHOTTER_GROUP_ID}.dlq`);
          await dlq.transaction((tx) => tx.send(letters));
        },
      };
      const sinks = new Map<string, (batch: IncomingBatch) => Promise<void>>([
        [topics.copilotSeats, createSeatSink(sinkDeps)],
        [topics.copilotAuditEvents, createAuditEventSink(sinkDeps)],
        [topics.copilotUsageRecords, createUsageRecordSink(sinkDeps)],
        [topics.copilotMetrics, createMetricsSink(sinkDeps)],
      ]);
      consumer = await kafka.runConsumer({
        groupId: config.SNAPSHOTTER_GROUP_ID,
        topics: [...sinks.keys()],
        handleBatch: async (batch) => {
          const started = Date.now();
          const sink = sinks.get(batch.topic);
          if (!sink) throw new Error(`no sink for topic ${batch.topic}`);
          await sink(batch);
          events.batchSunk({ ...batch, records: batch.records.length, ms: Date.now() - started });
        },
      });
    },
    async stop() {
      await consumer?.stop();
      await dlq?.disconnect();
      if (!deps.clickhouse) await ch?.close();
    },
  };
}
