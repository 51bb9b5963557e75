/**
 * Composes the services' createService() in one process (docs/design.md §8): the demo and the
 * embedded default, where chdb's one-data-directory-per-process rule means every ClickHouse
 * user must live in the same process. In production each service runs as its own process.
 *
 * ingest-openai is optional: it is composed only when its configuration is given, and
 * `ingestOpenaiConfig(env)` gives one only when the environment names something for it to poll,
 * SECRETS_KEY (the connections made with `aiaudit connect openai`) or OPENAI_ORG_ID (with
 * OPENAI_ADMIN_KEY_FILE and TENANT_ID). Without either, the runner is Copilot only. The packer
 * is optional too: composed when its configuration (PACKER_SIGNING_KEY_FILE, …) is given, and so
 * is the console (its API and dashboard), which then sends pack requests to this packer.
 */
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";
import { createService as createConsole, type ConsoleService } from "@aiaudit/console";
import type { ConsoleConfig } from "@aiaudit/console/config";
import { createService as createIngestCopilot, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import type { IngestCopilotConfig } from "@aiaudit/ingest-copilot/config";
import { createService as createIngestOpenai, type IngestOpenaiService } from "@aiaudit/ingest-openai";
import { loadConfig as loadIngestOpenaiConfig, type IngestOpenaiConfig } from "@aiaudit/ingest-openai/config";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { PackerConfig } from "@aiaudit/packer/config";
import { createService as createPacker, type PackerService } from "@aiaudit/packer/service";
import { createService as createSnapshotter } from "@aiaudit/snapshotter";
import type { SnapshotterConfig } from "@aiaudit/snapshotter/config";

export interface AllInOne {
  ch: ClickHouse;
  kafka: KafkaClient;
  ingestCopilot: IngestCopilotService;
  /** Undefined when no ingest-openai configuration was given. */
  ingestOpenai: IngestOpenaiService | undefined;
  /** Undefined when no packer configuration was given. */
  packer: PackerService | undefined;
  /** Undefined when no console configuration was given. */
  console: ConsoleService | undefined;
  start(): Promise<void>;
  /** Starts the ingest services' schedules, when `schedule: false` left them to the caller. */
  startPolling(): Promise<void>;
  stop(): Promise<void>;
}

export interface AllInOneConfig {
  ingestCopilot: IngestCopilotConfig;
  snapshotter: SnapshotterConfig;
  /** ingest-openai's settings; leave it out to run without it (see `ingestOpenaiConfig`). */
  ingestOpenai?: IngestOpenaiConfig | undefined;
  /** The packer's settings (its API and monthly schedule); leave it out to run without it. */
  packer?: PackerConfig | undefined;
  /** The console's settings (operator API and dashboard); leave it out to run without it. */
  console?: ConsoleConfig | undefined;
}

export interface AllInOneOptions {
  /**
   * Poll, and pack monthly, on the services' schedules; false leaves polling and packing to the
   * caller (the packer's API still answers). @default true
   */
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
  const packer =
    config.packer &&
    createPacker(config.packer, { logger, kafka, clickhouse: ch }, { schedule: options.schedule ?? true });
  const consoleService =
    config.console &&
    createConsole(config.console, {
      logger,
      kafka,
      clickhouse: ch,
      ...(packer ? { packerUrl: () => packer.apiUrl() } : {}),
    });
  async function startPolling(): Promise<void> {
    await ingestCopilot.start();
    await ingestOpenai?.start();
  }
  return {
    ch,
    kafka,
    ingestCopilot,
    ingestOpenai,
    packer,
    console: consoleService,
    async start() {
      // Sink first, so the first snapshot is consumed as soon as it is published.
      await snapshotter.start();
      await packer?.start();
      await consoleService?.start();
      if (options.schedule ?? true) await startPolling();
    },
    startPolling,
    async stop() {
      await ingestOpenai?.stop();
      await ingestCopilot.stop();
      await consoleService?.stop();
      await packer?.stop();
      await snapshotter.stop();
      await ch.close();
    },
  };
}
