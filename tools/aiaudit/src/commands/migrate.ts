/** aiaudit migrate: applies pending schemas/clickhouse migrations; safe to run again. */
import { migrate } from "@aiaudit/clickhouse";
import { clickhouseFromEnv } from "../clickhouse.ts";
import { parseOptions, type Command, type Io } from "../io.ts";

export const migrateCommand: Command = {
  path: ["migrate"],
  summary: "apply the schemas/clickhouse migrations not yet applied",
  usage: `usage: aiaudit migrate
applies schemas/clickhouse migrations in order; safe to run again
needs CLICKHOUSE_URL (a server; CLICKHOUSE_CLUSTER for ON CLUSTER) or uses the embedded engine
(CLICKHOUSE_DATA_DIR); CLICKHOUSE_DATABASE names the database`,
  run,
};

async function run(args: string[], io: Io): Promise<number> {
  parseOptions(args, {});
  const { ch } = await clickhouseFromEnv(io.env);
  try {
    const result = await migrate(ch);
    io.out(`applied: ${result.applied.join(", ") || "(none)"}; already applied: ${result.skipped.length}`);
  } finally {
    await ch.close();
  }
  return 0;
}
