/**
 * Composes the services' createService() in one process (docs/design.md §8): the demo and the
 * embedded default, where chdb's one-data-directory-per-process rule means every ClickHouse
 * user must live in the same process. In production each service runs as its own process.
 */
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";
import { createService as createIngestCopilot, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import type { IngestCopilotConfig } from "@aiaudit/ingest-copilot/config";
import { createKafka } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { createService as createSnapshotter } from "@aiaudit/snapshotter";
import type { SnapshotterConfig } from "@aiaudit/snapshotter/config";

export interface AllInOne {
  ch: ClickHouse;
  ingestCopilot: IngestCopilotService;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface AllInOneOptions {
  /** Poll on the services' schedules; false leaves polling to the caller. @default true */
  schedule?: boolean;
}

export async function createAllInOne(
  config: { ingestCopilot: IngestCopilotConfig; snapshotter: SnapshotterConfig },
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
  return {
    ch,
    ingestCopilot,
    async start() {
      // Sink first, so the first snapshot is consumed as soon as it is published.
      await snapshotter.start();
      if (options.schedule ?? true) await ingestCopilot.start();
    },
    async stop() {
      await ingestCopilot.stop();
      await snapshotter.stop();
      await ch.close();
    },
  };
}
