/**
 * Composes the services' createService() in one process (docs/design.md §8): the demo and the
 * embedded default, where chdb's one-data-directory-per-process rule means every ClickHouse
 * user must live in the same process. In production each service runs as its own process.
 *
 * ingest-openai is optional: it is composed only when its configuration is given, and
 * `ingestOpenaiConfig(env)` gives one only when the environment names something for it to poll,
 * SECRETS_KEY (the connections made with `aiaudit connect openai`) or OPENAI_ORG_ID (with
 * OPENAI_ADMIN_KEY_FILE and TENANT_ID). Without either, the runner is Copilot only.
 */
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";
import { createService as createIngestCopilot, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import type { IngestCopilotConfig } from "@aiaudit/ingest-copilot/config";
import { createService as createIngestOpenai, type IngestOpenaiService } from "@aiaudit/ingest-openai";
import { loadConfig as loadIngestOpenaiConfig, type IngestOpenaiConfig } from "@aiaudit/ingest-openai/config";
import { createKafka } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { createService as createSnapshotter } from "@aiaudit/snapshotter";
import type { SnapshotterConfig } from "@aiaudit/snapshotter/config";

export interface AllInOne {
  ch: ClickHouse;
  ingestCopilot: IngestCopilotService;
  /** Undefined when no ingest-openai configuration was given. */
  ingestOpenai: IngestOpenaiService | undefined;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface AllInOneConfig {
  ingestCopilot: IngestCopilotConfig;
  snapshotter: SnapshotterConfig;
  /** ingest-openai's settings; leave it out to run without it (see `ingestOpenaiConfig`). */
  ingestOpenai?: IngestOpenaiConfig | undefined;
}

export interface AllInOneOptions {
  /** Poll on the services' schedules; false leaves polling to the caller. @default true */
  schedule?: boolean;
}

/**
 * ingest-openai's settings from the environment when it has something to poll (SECRETS_KEY or
 * OPENAI_ORG_ID), else undefined; a malformed setting throws as the service itself would.
 */
export function ingestOpenaiConfig(
  env: Parameters<typeof loadIngestOpenaiConfig>[0],
): IngestOpenaiConfig | undefined {
  if (!env.SECRETS_KEY && !env.OPENAI_ORG_ID) return undefined;
  return loadIngestOpenaiConfig(env);
}

export async function createAllInOne(
  config: AllInOneConfig,
  logger: Logger,
  options: AllInOneOptions = {},
): Promise<AllInOne> {
  const s = config.snapshotter;
  const kafka = createKafka({
    brokers: s.KAFKA_BROKERS,
    clientId: `${s.KAFKA_CLIENT_ID}-all-in-one`,
    logger,
  });
  const ch = await createClickHouse({
    url: s.CLICKHOUSE_URL,
    username: s.CLICKHOUSE_USER,
    password: s.CLICKHOUSE_PASSWORD,
    database: s.CLICKHOUSE_DATABASE,
    dataDir: s.CLICKHOUSE_DATA_DIR,
    cluster: s.CLICKHOUSE_CLUSTER,
  });
  const snapshotter = createSnapshotter(s, { logger, kafka, clickhouse: ch });
  const ingestCopilot = createIngestCopilot(config.ingestCopilot, { logger, kafka });
  const ingestOpenai = config.ingestOpenai && createIngestOpenai(config.ingestOpenai, { logger, kafka });
  return {
    ch,
    ingestCopilot,
    ingestOpenai,
    async start() {
      // Sink first, so the first snapshot is consumed as soon as it is published.
      await snapshotter.start();
      if (options.schedule ?? true) {
        await ingestCopilot.start();
        await ingestOpenai?.start();
      }
    },
    async stop() {
      await ingestOpenai?.stop();
      await ingestCopilot.stop();
      await snapshotter.stop();
      await ch.close();
    },
  };
}
