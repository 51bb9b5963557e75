/**
 * The only module that imports @clickhouse/client and chdb (docs/design.md §4). Without a URL the same
 * client runs against the in-process engine (chdb's `Connection` plugged into
 * `createClient({ connection })`); with one it speaks HTTP to a server or cluster. Same SQL either
 * way. chdb binds one data directory per process: every client of the process shares it, and
 * table names are always qualified with the database because the embedded connection has no
 * per-client default database.
 */
import { mkdirSync } from "node:fs";
import {
  createClient,
  type ClickHouseClient,
  type ClickHouseSettings as QuerySettings,
} from "@clickhouse/client";
import { createChdbConnection } from "chdb/connection";

type EmbeddedConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>["connection"]>;
import { AiauditError, ErrorCodes, describeError } from "@aiaudit/errors";

export interface ClickHouseSettings {
  /** HTTP(S) URL of a server or cluster; unset runs the embedded engine. */
  url?: string | undefined;
  /** @default "default" */
  username?: string;
  /** @default "" */
  password?: string;
  /** Database that holds every table; created if missing. */
  database: string;
  /** Data directory of the embedded engine. @default ".cache/chdb" */
  dataDir?: string;
  /** Cluster name for `ON CLUSTER` DDL and Replicated engines; unset for a single server. */
  cluster?: string | undefined;
}

export interface ClickHouse {
  readonly client: ClickHouseClient;
  readonly database: string;
  readonly embedded: boolean;
  readonly cluster: string | undefined;
  /** `db.table`, quoted. */
  table(name: string): string;
  /** Runs a statement that returns no rows. */
  command(query: string, settings?: QuerySettings): Promise<void>;
  /** Runs a SELECT and returns its rows. */
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Inserts rows as JSONEachRow. `dedupToken` makes a retried insert of the same batch a no-op
   * (insert_deduplication_token; tables need non_replicated_deduplication_window on a single server).
   */
  insert(table: string, rows: readonly object[], dedupToken?: string): Promise<void>;
  close(): Promise<void>;
}

function failed(what: string, cause: unknown): AiauditError {
  return new AiauditError(ErrorCodes.CLICKHOUSE_FAILED, `${what}: ${describeError(cause)}`, {
    retryable: true,
    cause,
  });
}

export async function createClickHouse(settings: ClickHouseSettings): Promise<ClickHouse> {
  const embedded = settings.url === undefined;
  let client: ClickHouseClient;
  if (embedded) {
    const dataDir = settings.dataDir ?? ".cache/chdb";
    mkdirSync(dataDir, { recursive: true });
    // chdb implements @clickhouse/client-common's Connection; the client package bundles its own
    // copy of those declarations, so TypeScript sees two nominally different types.
    const connection = createChdbConnection({ path: dataDir }) as unknown as EmbeddedConnection;
    client = createClient({ connection });
  } else {
    client = createClient({
      url: settings.url as string,
      username: settings.username ?? "default",
      password: settings.password ?? "",
      clickhouse_settings: { date_time_input_format: "best_effort" },
    });
  }
  const database = settings.database;
  const table = (name: string) => `\`${database}\`.\`${name}\``;
  const ch: ClickHouse = {
    client,
    database,
    embedded,
    cluster: settings.cluster,
    table,
    async command(query, querySettings) {
      try {
        await client.command({ query, ...(querySettings ? { clickhouse_settings: querySettings } : {}) });
      } catch (cause) {
        throw failed("ClickHouse command failed", cause);
      }
    },
    async rows<T>(query: string, params?: Record<string, unknown>) {
      try {
        const result = await client.query({
          query,
          format: "JSONEachRow",
          ...(params ? { query_params: params } : {}),
        });
        return await result.json<T>();
      } catch (cause) {
        throw failed("ClickHouse query failed", cause);
      }
    },
    async insert(name, rows, dedupToken) {
      if (rows.length === 0) return;
      try {
        await client.insert({
          table: table(name),
          values: rows as object[],
          format: "JSONEachRow",
          clickhouse_settings: {
            date_time_input_format: "best_effort",
            ...(dedupToken ? { insert_deduplication_token: dedupToken } : {}),
          },
        });
      } catch (cause) {
        throw failed(`insert into ${name} failed`, cause);
      }
    },
    close: () => client.close(),
  };
  const onCluster = settings.cluster ? ` ON CLUSTER \`${settings.cluster}\`` : "";
  try {
    await client.command({ query: `CREATE DATABASE IF NOT EXISTS \`${database}\`${onCluster}` });
  } catch (cause) {
    await client.close();
    throw failed(
      embedded
        ? `embedded ClickHouse could not open ${settings.dataDir ?? ".cache/chdb"}`
        : `ClickHouse at ${settings.url ?? ""} is not usable`,
      cause,
    );
  }
  return ch;
}
