/** Settings of the snapshotter, from the environment, parsed once by `loadConfig`. */
import { z } from "zod";
import {
  clickhouseEnv,
  kafkaEnv,
  key32,
  logEnv,
  parseEnv,
  retentionEnv,
  runtimeEnv,
  type Env,
} from "@aiaudit/config";

const MiB = 1024 * 1024;

/** A whole number of bytes, at least `min`. */
const bytes = (min: number, fallback: number) => z.coerce.number().int().min(min).default(fallback);

const schema = z.object({
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  ...runtimeEnv(9465),
  SNAPSHOTTER_GROUP_ID: z
    .string()
    .default("aiaudit-snapshotter-clickhouse")
    .describe(
      "Kafka consumer group of the ClickHouse sink; each SIEM destination's group is <this>.siem.<tenant>.<destination>",
    ),
  SECRETS_KEY: key32
    .optional()
    .describe(
      "32-byte key that opens the SIEM destinations' secrets sealed by `aiaudit destinations add` (hex or base64); unset: no destination is served",
    ),
  CLICKHOUSE_CLUSTER: z
    .string()
    .optional()
    .describe("cluster name: migrations use ON CLUSTER and Replicated engines"),
  CLICKHOUSE_MIGRATE_ON_START: z
    .enum(["true", "false"])
    .default("true")
    .transform((v) => v === "true")
    .describe("apply pending migrations at start (true/false)"),
  ...retentionEnv,
  // Batches of 10k-100k rows or about a second (README.md, "Batches"): the broker holds a fetch
  // until FETCH_MIN_BYTES are ready or FETCH_MAX_WAIT_MS passed; each partition gives at most
  // FETCH_MAX_BYTES_PER_PARTITION of it, one batch, inserted in chunks of MAX_INSERT_ROWS.
  SNAPSHOTTER_FETCH_MIN_BYTES: bytes(1, 8 * MiB).describe(
    "bytes the broker gathers before it answers a fetch (fetch.min.bytes); 8 MiB is ~13,000 audit events",
  ),
  SNAPSHOTTER_FETCH_MAX_WAIT_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(5000)
    .default(1000)
    .describe(
      "ms the broker holds a fetch that has not reached SNAPSHOTTER_FETCH_MIN_BYTES (fetch.max.wait.ms), 10-5000: an idle member heartbeats between fetches",
    ),
  SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION: bytes(64 * 1024, 32 * MiB).describe(
    "most bytes one partition gives a fetch, the largest batch (max.partition.fetch.bytes)",
  ),
  SNAPSHOTTER_FETCH_MAX_BYTES: bytes(64 * 1024, 50 * MiB).describe(
    "most bytes of a fetch over all partitions, held in memory at once (fetch.max.bytes; the broker caps it, 55 MiB by default)",
  ),
  SIEM_RETRY_FIRST_MS: z.coerce
    .number()
    .int()
    .min(1)
    .max(60_000)
    .default(500)
    .describe(
      "first pause between attempts to deliver to a SIEM destination, ms; pauses double up to 30 s, and a destination still down is tried again, at most every 60 s, until it answers",
    ),
  SNAPSHOTTER_MAX_INSERT_ROWS: z.coerce
    .number()
    .int()
    .min(1)
    .default(100_000)
    .describe("most rows of one ClickHouse insert: a larger batch is inserted in chunks"),
});

export type SnapshotterConfig = z.infer<typeof schema>;

export function loadConfig(env: Env): SnapshotterConfig {
  return parseEnv(schema, env);
}
