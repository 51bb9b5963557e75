/** aiaudit migrate: applies pending schemas/clickhouse migrations; safe to run again. */
import { z } from "zod";
import { clickhouseEnv, parseEnv } from "@aiaudit/config";
import { createClickHouse, migrate } from "@aiaudit/clickhouse";
import type { Io } from "../io.ts";

export async function migrateCommand(_args: string[], io: Io): Promise<number> {
  const env = parseEnv(z.object({ ...clickhouseEnv, CLICKHOUSE_CLUSTER: z.string().optional() }), io.env);
  const ch = await createClickHouse({
    url: env.CLICKHOUSE_URL,
    username: env.CLICKHOUSE_USER,
    password: env.CLICKHOUSE_PASSWORD,
    database: env.CLICKHOUSE_DATABASE,
    dataDir: env.CLICKHOUSE_DATA_DIR,
    cluster: env.CLICKHOUSE_CLUSTER,
  });
  try {
    const result = await migrate(ch);
    io.out(`applied: ${result.applied.join(", ") || "(none)"}; already applied: ${result.skipped.length}`);
  } finally {
    await ch.close();
  }
  return 0;
}
