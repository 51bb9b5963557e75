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
import { AiauditError, ErrorCodes, describeError, isAiauditError } from "@aiaudit/errors";

/**
 * chdb, loaded on the first embedded use only: importing it maps its library and costs a process
 * ~150 MB of RSS (measured: 42 MB for a bare Node process, 191 MB once chdb is imported), which a
 * service talking to a ClickHouse server must not pay.
 */
let chdbModules: Promise<[typeof import("chdb"), typeof import("chdb/connection")]> | undefined;
const loadChdb = (): Promise<[typeof import("chdb"), typeof import("chdb/connection")]> =>
  (chdbModules ??= Promise.all([import("chdb"), import("chdb/connection")]));

type EmbeddedConnection = NonNullable<NonNullable<Parameters<typeof createClient>[0]>["connection"]>;

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
  /**
   * Time a server may take to answer before the request fails (the client's `request_timeout`); a
   * query that sorts a month before its first row needs more than the default. @default 30000
   */
  requestTimeoutMs?: number;
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
  /** Runs a SELECT and returns its rows, all of them in memory: for small results. */
  rows<T>(query: string, params?: Record<string, unknown>): Promise<T[]>;
  /**
   * Runs a SELECT and yields its rows as they arrive, so a result larger than memory can be read
   * (an evidence pack's rows). Leaving the loop early (break, throw) cancels the query. On a
   * server it reads the HTTP response as it comes (ResultSet.stream(), JSONEachRow); embedded, a
   * chdb streaming query in a session of its own, because the chdb connection behind the client
   * materializes every result before it hands out the first row.
   */
  stream<T>(query: string, params?: Record<string, unknown>): AsyncIterable<T>;
  /**
   * Runs a SELECT and yields its output in `format` (e.g. `TabSeparatedRaw`) as raw bytes, as they
   * arrive: what `stream()` does, without decoding a row. A chunk holds whole rows on the embedded
   * engine (a block each); on a server it may end inside a row.
   */
  streamBytes(query: string, format: string, params?: Record<string, unknown>): AsyncIterable<Buffer>;
  /**
   * Inserts rows as JSONEachRow. `dedupToken` makes a retried insert of the same batch a no-op
   * (insert_deduplication_token; tables need non_replicated_deduplication_window on a single server).
   * Nothing is inserted when it throws. When ClickHouse refused the rows themselves,
   * `isRowRejection(err)` is true and retrying the same rows fails the same way.
   */
  insert(table: string, rows: readonly object[], dedupToken?: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * ClickHouse's errors (by the name in its ErrorCodes.cpp) that say "these values are wrong", not
 * "ClickHouse is unwell": the same rows fail the same way however often they are sent, so a sink
 * sets them aside instead of blocking its partition. Anything else is worth a retry: unreachable,
 * timeouts, TOO_MANY_PARTS, MEMORY_LIMIT_EXCEEDED, and also an unknown table or column, which is a
 * missing migration for an operator to fix rather than a reason to throw data away.
 */
const ROW_REJECTIONS: Record<string, number> = {
  CANNOT_PARSE_TEXT: 6,
  CANNOT_PARSE_ESCAPE_SEQUENCE: 25,
  CANNOT_PARSE_QUOTED_STRING: 26,
  CANNOT_PARSE_INPUT_ASSERTION_FAILED: 27,
  CANNOT_PARSE_DATE: 38,
  CANNOT_PARSE_DATETIME: 41,
  TYPE_MISMATCH: 53,
  ARGUMENT_OUT_OF_BOUND: 69,
  CANNOT_CONVERT_TYPE: 70,
  CANNOT_PARSE_NUMBER: 72,
  INCORRECT_DATA: 117,
  TOO_LARGE_ARRAY_SIZE: 128,
  CANNOT_READ_ARRAY_FROM_TEXT: 130,
  TOO_LARGE_STRING_SIZE: 131,
  SIZES_OF_ARRAYS_DONT_MATCH: 190,
  VALUE_IS_OUT_OF_RANGE_OF_DATA_TYPE: 321,
  CANNOT_INSERT_NULL_IN_ORDINARY_COLUMN: 349,
  CANNOT_PARSE_UUID: 376,
  DECIMAL_OVERFLOW: 407,
  CANNOT_PARSE_BOOL: 467,
  UNKNOWN_ELEMENT_OF_ENUM: 691,
};
const ROW_REJECTION_CODES = new Set(Object.values(ROW_REJECTIONS).map(String));

/** ClickHouse's code and name of an error (ClickHouseError from the client or chdb), if it has them. */
function clickhouseCode(cause: unknown): { code: string; type: string } | undefined {
  if (typeof cause !== "object" || cause === null) return undefined;
  const { code, type } = cause as { code?: unknown; type?: unknown };
  if (typeof code !== "string" || !/^\d+$/.test(code)) return undefined;
  return { code, type: typeof type === "string" ? type : "" };
}

function failed(what: string, cause: unknown): AiauditError {
  const ch = clickhouseCode(cause);
  const rejected =
    ch !== undefined && (ROW_REJECTION_CODES.has(ch.code) || Object.hasOwn(ROW_REJECTIONS, ch.type));
  return new AiauditError(ErrorCodes.CLICKHOUSE_FAILED, `${what}: ${describeError(cause)}`, {
    retryable: !rejected,
    cause,
    details: {
      ...(ch ? { clickhouse_code: Number(ch.code), clickhouse_type: ch.type } : {}),
      rows_rejected: rejected,
    },
  });
}

/**
 * True when ClickHouse refused an insert because of the values in it (a type it cannot parse,
 * a value out of range, …): poison for the sink, never fixed by waiting.
 */
export function isRowRejection(err: unknown): err is AiauditError {
  return isAiauditError(err, ErrorCodes.CLICKHOUSE_FAILED) && err.details.rows_rejected === true;
}

/**
 * chdb 3.4 keeps the output of a SELECT that failed after producing much of it (an exception at row
 * 999,999 of a million) on the connection, and hands it out in front of the next query's rows: a
 * wrong answer to an innocent query. A throwaway query right after the failure takes it instead.
 * (A query another caller had already sent in the meantime could still receive it.)
 */
async function flushEmbedded(client: ClickHouseClient): Promise<void> {
  await client.command({ query: "SELECT 1" }).catch(() => undefined);
}

/** Rows of `source`, with a failure while reading turned into CLICKHOUSE_FAILED. */
async function* guarded<T>(source: () => AsyncIterable<T>): AsyncGenerator<T> {
  try {
    yield* source();
  } catch (cause) {
    throw failed("ClickHouse query failed", cause);
  }
}

/** A server's rows as they arrive (also works on chdb's connection, which delivers them all at once). */
export async function* resultSetRows<T>(
  client: ClickHouseClient,
  query: string,
  params?: Record<string, unknown>,
): AsyncGenerator<T> {
  const result = await client.query({
    query,
    format: "JSONEachRow",
    ...(params ? { query_params: params } : {}),
  });
  try {
    for await (const rows of result.stream<T>()) for (const row of rows) yield row.json<T>();
  } finally {
    result.close(); // aborts the response when the caller stopped early
  }
}

/**
 * Embedded rows as the engine produces them, a block (about 65k rows) at a time. chdb allows one
 * open stream per session, so each stream has a session of its own on the process's data
 * directory: streams can overlap, and the client's other queries are not held up.
 */
async function* embeddedRows<T>(
  dataDir: string,
  query: string,
  params?: Record<string, unknown>,
): AsyncGenerator<T> {
  const [{ Session }] = await loadChdb();
  const session = new Session(dataDir);
  try {
    const stream = params
      ? session.queryStreamBind(query, params, { format: "JSONEachRow" })
      : session.queryStream(query, { format: "JSONEachRow" });
    yield* stream.rows<T>(); // leaving early cancels the stream
  } finally {
    session.close();
  }
}

/** A server's output bytes as they arrive (`exec`: the query carries its own FORMAT clause). */
async function* resultSetBytes(
  client: ClickHouseClient,
  query: string,
  format: string,
  params?: Record<string, unknown>,
): AsyncGenerator<Buffer> {
  const { stream } = await client.exec({
    query: `${query}\nFORMAT ${format}`,
    ...(params ? { query_params: params } : {}),
  });
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) yield chunk;
  } finally {
    stream.destroy(); // aborts the response when the caller stopped early
  }
}

/** Embedded output bytes, a block at a time, on a session of their own (as embeddedRows). */
async function* embeddedBytes(
  dataDir: string,
  query: string,
  format: string,
  params?: Record<string, unknown>,
): AsyncGenerator<Buffer> {
  const [{ Session }] = await loadChdb();
  const session = new Session(dataDir);
  try {
    const stream = params
      ? session.queryStreamBind(query, params, { format })
      : session.queryStream(query, { format });
    for await (const chunk of stream) {
      const bytes = chunk.raw();
      yield Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
  } finally {
    session.close();
  }
}

export async function createClickHouse(settings: ClickHouseSettings): Promise<ClickHouse> {
  const embedded = settings.url === undefined;
  let client: ClickHouseClient;
  const dataDir = settings.dataDir ?? ".cache/chdb";
  if (embedded) {
    mkdirSync(dataDir, { recursive: true });
    const [, { createChdbConnection }] = await loadChdb();
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
      ...(settings.requestTimeoutMs === undefined ? {} : { request_timeout: settings.requestTimeoutMs }),
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
        if (embedded) await flushEmbedded(client);
        throw failed("ClickHouse query failed", cause);
      }
    },
    stream<T>(query: string, params?: Record<string, unknown>) {
      return guarded(() =>
        embedded ? embeddedRows<T>(dataDir, query, params) : resultSetRows<T>(client, query, params),
      );
    },
    streamBytes(query: string, format: string, params?: Record<string, unknown>) {
      return guarded(() =>
        embedded
          ? embeddedBytes(dataDir, query, format, params)
          : resultSetBytes(client, query, format, params),
      );
    },
    async insert(name, rows, dedupToken) {
      if (rows.length === 0) return;
      try {
        await client.insert({
          table: table(name),
          values: rows,
          format: "JSONEachRow",
          clickhouse_settings: {
            date_time_input_format: "best_effort",
            // Always set: the embedded engine keeps the last token for later inserts without one,
            // which would then be dropped as duplicates of it.
            insert_deduplication_token: dedupToken ?? "",
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
