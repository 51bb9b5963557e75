/**
 * Reading a period's rows out of ClickHouse for a pack: the query parameters every query shares,
 * rows streamed as canonical JSON lines (bounded memory: one block in flight, the pack writer spools),
 * and small aggregate results read whole.
 *
 * ClickHouse writes DateTime64(3) as `2026-04-30 23:59:59.500` and quotes 64-bit integers in JSON;
 * a pack holds RFC 3339 times (`2026-04-30T23:59:59.500Z`) and plain integers, so the time columns
 * each query names are rewritten, and 64-bit integers come unquoted (canonicalJson throws on one
 * above 2^53 rather than round it).
 */
import type { ClickHouse } from "@aiaudit/clickhouse";
import { canonicalJson } from "@aiaudit/evidence-pack";
import { clickhouseTime, type Period } from "./period.ts";

/** Parameters of every pack query: `{tenant:String}`, `{start:DateTime64(3, 'UTC')}`, `{end:…}`. */
export interface Scope {
  ch: ClickHouse;
  tenant: string;
  period: Period;
}

export const START = "{start:DateTime64(3, 'UTC')}";
export const END = "{end:DateTime64(3, 'UTC')}";
/** `column` within the period, both ends inclusive. */
export const inPeriod = (column: string): string => `${column} BETWEEN ${START} AND ${END}`;

const SETTINGS = " SETTINGS output_format_json_quote_64bit_integers = 0";
const CLICKHOUSE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})$/;

export function params(scope: Scope, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    tenant: scope.tenant,
    start: clickhouseTime(scope.period.startMs),
    end: clickhouseTime(scope.period.endMs),
    ...extra,
  };
}

/** A DateTime64(3) value as RFC 3339 UTC with milliseconds; null stays null. */
export function rfc3339(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const m = CLICKHOUSE_TIME.exec(value);
  return m === null ? value : `${m[1]}T${m[2]}Z`;
}

/** Every row of `query`, as it arrives, as one canonical JSON line with `times` in RFC 3339. */
export async function* jsonLines(
  scope: Scope,
  query: string,
  times: readonly string[],
  extra?: Record<string, unknown>,
): AsyncGenerator<string> {
  for await (const row of scope.ch.stream<Record<string, unknown>>(query + SETTINGS, params(scope, extra))) {
    for (const name of times) if (name in row) row[name] = rfc3339(row[name]);
    yield `${canonicalJson(row)}\n`;
  }
}

/** A small result (aggregates per org and day), whole. */
export function smallRows<T>(scope: Scope, query: string, extra?: Record<string, unknown>): Promise<T[]> {
  return scope.ch.rows<T>(query + SETTINGS, params(scope, extra));
}

/** `SELECT a, b, …` of the named columns. */
export const columns = (names: readonly string[]): string => names.join(", ");
