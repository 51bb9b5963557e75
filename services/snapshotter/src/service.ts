/**
 * snapshotter wiring: read_committed consumer group on the seat topic → ClickHouse sink.
 * Migrations are applied at start (idempotent) unless CLICKHOUSE_MIGRATE_ON_START=false.
 */
import { createClickHouse, migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import {
  createKafka,
  type KafkaClient,
  type RunningConsumer,
  type TransactionalProducer,
} from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { SnapshotterConfig } from "./config.ts";
import { createSeatSink } from "./sinks/clickhouse-seats.ts";
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
      ch =
        deps.clickhouse ??
        (await createClickHouse({
          url: config.CLICKHOUSE_URL,
          username: config.CLICKHOUSE_USER,
          password: config.CLICKHOUSE_PASSWORD,
          database: config.CLICKHOUSE_DATABASE,
          dataDir: config.CLICKHOUSE_DATA_DIR,
          cluster: config.CLICKHOUSE_CLUSTER,
        }));
      if (config.CLICKHOUSE_MIGRATE_ON_START) {
        const result = await migrate(ch);
        if (result.applied.length > 0) events.migrated({ applied: result.applied });
      }
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      const sink = createSeatSink({
        ch,
        topics,
        telemetry: events,
        dlqProducer: async () =>
          (dlq ??= await kafka.transactionalProducer(`${config.SNAPSHOTTER_GROUP_ID}.dlq`)),
      });
      consumer = await kafka.runConsumer({
        groupId: config.SNAPSHOTTER_GROUP_ID,
        topics: [topics.copilotSeats],
        handleBatch: sink,
      });
    },
    async stop() {
      await consumer?.stop();
      await dlq?.disconnect();
      if (!deps.clickhouse) await ch?.close();
    },
  };
}
