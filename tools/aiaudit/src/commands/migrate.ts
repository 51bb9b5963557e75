/**
 * aiaudit migrate: applies pending schemas/clickhouse migrations, then sets every table's retention
 * (CLICKHOUSE_TTL_DAYS, as the snapshotter does at start); safe to run again.
 */
import { z } from "zod";
import { applyRetention, DEFAULT_TTL_DAYS, migrate } from "@aiaudit/clickhouse";
import { parseEnv, retentionEnv } from "@aiaudit/config";
import { clickhouseFromEnv } from "../clickhouse.ts";
import { parseOptions, type Command, type Io } from "../io.ts";

export const migrateCommand: Command = {
  path: ["migrate"],
  summary: "apply the schemas/clickhouse migrations not yet applied, and the tables' retention",
  usage: `usage: aiaudit migrate
applies schemas/clickhouse migrations in order, then sets every table's TTL to CLICKHOUSE_TTL_DAYS
(default ${DEFAULT_TTL_DAYS}; at least 183, six months; 0 keeps rows forever); safe to run again
needs CLICKHOUSE_URL (a server; CLICKHOUSE_CLUSTER for ON CLUSTER) or uses the embedded engine
(CLICKHOUSE_DATA_DIR); CLICKHOUSE_DATABASE names the database`,
  run,
};

async function run(args: string[], io: Io): Promise<number> {
  parseOptions(args, {});
  const { CLICKHOUSE_TTL_DAYS: ttlDays } = parseEnv(z.object(retentionEnv), io.env);
  const { ch } = await clickhouseFromEnv(io.env);
  try {
    const result = await migrate(ch);
    io.out(`applied: ${result.applied.join(", ") || "(none)"}; already applied: ${result.skipped.length}`);
    const retention = await applyRetention(ch, ttlDays);
    const kept = ttlDays === 0 ? "rows kept forever" : `rows kept ${ttlDays} days`;
    io.out(
      `retention: ${kept}; tables changed: ${retention.changed.length}, already so: ${retention.unchanged.length}`,
    );
  } finally {
    await ch.close();
  }
  return 0;
}
