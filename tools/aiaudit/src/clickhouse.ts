/** ClickHouse as the services reach it: CLICKHOUSE_URL's server, or the embedded engine. */
import { z } from "zod";
import { clickhouseEnv, parseEnv, type Env } from "@aiaudit/config";
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";

const schema = z.object({
  ...clickhouseEnv,
  CLICKHOUSE_CLUSTER: z.string().optional().describe("cluster name for ON CLUSTER migrations"),
});

/** The client, and where it points in words (a server's host, never its credentials). */
export async function clickhouseFromEnv(env: Env): Promise<{ ch: ClickHouse; where: string }> {
  const settings = parseEnv(schema, env);
  const ch = await createClickHouse({
    url: settings.CLICKHOUSE_URL,
    username: settings.CLICKHOUSE_USER,
    password: settings.CLICKHOUSE_PASSWORD,
    database: settings.CLICKHOUSE_DATABASE,
    dataDir: settings.CLICKHOUSE_DATA_DIR,
    cluster: settings.CLICKHOUSE_CLUSTER,
  });
  const where = settings.CLICKHOUSE_URL
    ? `server ${new URL(settings.CLICKHOUSE_URL).host}`
    : `embedded engine, ${settings.CLICKHOUSE_DATA_DIR}`;
  return { ch, where };
}
