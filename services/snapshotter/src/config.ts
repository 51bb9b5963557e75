/** Settings of the snapshotter, from the environment, parsed once by `loadConfig`. */
import { z } from "zod";
import { clickhouseEnv, kafkaEnv, logEnv, parseEnv, runtimeEnv, type Env } from "@aiaudit/config";

const schema = z.object({
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  ...runtimeEnv(9465),
  SNAPSHOTTER_GROUP_ID: z
    .string()
    .default("aiaudit-snapshotter-clickhouse")
    .describe("Kafka consumer group of the ClickHouse sink"),
  CLICKHOUSE_CLUSTER: z
    .string()
    .optional()
    .describe("cluster name: migrations use ON CLUSTER and Replicated engines"),
  CLICKHOUSE_MIGRATE_ON_START: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true")
    .describe("apply pending migrations at start (true/false)"),
});

export type SnapshotterConfig = z.infer<typeof schema>;

export function loadConfig(env: Env): SnapshotterConfig {
  return parseEnv(schema, env);
}
