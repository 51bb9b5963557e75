/**
 * Reading a period's rows out of ClickHouse for a pack: the query parameters every query shares,
 * a data file's rows as canonical JSON lines in a stable order with bounded memory, and small
 * aggregate results read whole.
 *
 * ClickHouse writes each line itself (`formatRowNoNewline('JSONEachRow', …)`): the columns in code
 * point order, DateTime64 as RFC 3339 (`2026-04-30T23:59:59.500Z`, `date_time_output_format`), 64-bit
 * integers unquoted and `/` unescaped, which is canonicalJson's output already, unless a string needed
 * an escape JavaScript writes otherwise (ClickHouse writes `\u001F` and `\u2028`, JSON.stringify
 * `\u001f` and the raw character) or holds bytes that are not UTF-8. A block holding `\u` or invalid
 * UTF-8 goes line by line through JSON.parse and canonicalJson (what every line went through before
 * issue 8); all others are copied as they come. A 64-bit integer beyond 2^53 − 1 fails the query, as
 * canonicalJson throws on one; a column type whose JSON could differ (floats, DateTime) is refused.
 *
 * Order with bounded memory: a pack's order (org, time, id) is not the table's sorting key (org, id),
 * so one ORDER BY over a month holds all of its rows in ClickHouse, and the embedded engine does not
 * spill that sort to disk (it held ~2 GB per million audit events). Rows are therefore read in ranges
 * of the sorting key (`rangeBy`, about RANGE_ROWS rows each, bounds from a sample of that key): each
 * range reads only its own granules and is sorted by ClickHouse, with a sort key in front of each line
 * (`hex(…)`, ordered as ClickHouse orders the ORDER BY columns), into a temporary spool file; the
 * ranges are then merged by that key (records.ts). One range needs no spool.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { compareCodePoints } from "@aiaudit/evidence-pack";
import { clickhouseTime, type Period } from "./period.ts";
import { canonicalRecords, linesOf, merged, spoolRanges } from "./records.ts";

/** Parameters of every pack query: `{tenant:String}`, `{start:DateTime64(3, 'UTC')}`, `{end:…}`. */
export interface Scope {
  ch: ClickHouse;
  tenant: string;
  period: Period;
  /**
   * Where range reads are spooled (a `aiaudit-pack-rows-*` directory, removed when read; the
   * store's leftover cleanup removes one a killed build left). @default os.tmpdir()
   */
  spoolDir?: string;
}

/** The rows of one data file. */
export interface LinesQuery {
  /** The table (`ch.table(name)`); read with FINAL. */
  table: string;
  /** Which rows, with the shared parameters and `extra`'s. */
  where: string;
  /** The columns each line holds (any order: lines are written with sorted keys). */
  columns: readonly string[];
  /** The order of the lines: columns that identify a row of the table after FINAL. */
  orderBy: readonly string[];
  /**
   * A prefix of the table's sorting key after `tenant`, String columns only: rows are read in
   * ranges of it, so that each read touches its own granules and sorts its own rows only.
   */
  rangeBy: readonly string[];
  extra?: Record<string, unknown>;
}

export const START = "{start:DateTime64(3, 'UTC')}";
export const END = "{end:DateTime64(3, 'UTC')}";
/** `column` within the period, both ends inclusive. */
export const inPeriod = (column: string): string => `${column} BETWEEN ${START} AND ${END}`;

/** Rows per range read and sorted by ClickHouse at once (~1 KB each for audit events). */
export const RANGE_ROWS = 32_768;
/** At most this many ranges (each a read buffer in the merge): above, ranges grow instead. */
const MAX_RANGES = 512;

const SETTINGS = " SETTINGS output_format_json_quote_64bit_integers = 0";
/**
 * Small blocks, one thread and no parallel formatting keep the engine's memory per range small
 * (measured on chdb: a 100k-row range took ~700 MB with the defaults, ~220 MB with these).
 * `output_format_json_escape_forward_slashes = 0`: JSON.stringify leaves `/` as it is.
 */
const LINE_SETTINGS =
  " SETTINGS output_format_json_quote_64bit_integers = 0, output_format_json_escape_forward_slashes = 0," +
  " date_time_output_format = 'iso', max_block_size = 4096, max_threads = 1, output_format_parallel_formatting = 0," +
  // FINAL with ORDER BY otherwise reads in key order and sorts in a slower way (~20% of a range).
  " optimize_read_in_order = 0";
const CLICKHOUSE_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2}\.\d{3})$/;
const MAX_SAFE = "9007199254740991";

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

/** A small result (aggregates per org and day), whole. */
export function smallRows<T>(scope: Scope, query: string, extra?: Record<string, unknown>): Promise<T[]> {
  return scope.ch.rows<T>(query + SETTINGS, params(scope, extra));
}

/** `SELECT a, b, …` of the named columns. */
export const columns = (names: readonly string[]): string => names.join(", ");

export interface LinesOptions {
  /** Rows per range. @default RANGE_ROWS */
  rangeRows?: number;
}

/**
 * Every row of `query` as one canonical JSON line (`\n`-terminated), in `orderBy` order, in blocks of
 * many lines. Memory stays bounded by the range size, whatever the row count.
 */
export async function* jsonLines(
  scope: Scope,
  query: LinesQuery,
  options: LinesOptions = {},
): AsyncGenerator<Buffer> {
  const types = await columnTypes(scope, query.table);
  const sql = recordsQuery(query, types);
  const bounds = await rangeBounds(scope, query, options.rangeRows ?? RANGE_ROWS);
  const read = (range: number): AsyncIterable<Buffer> =>
    canonicalRecords(
      scope.ch.streamBytes(
        sql + rangeCondition(query.rangeBy, bounds.length, range) + orderAndSettings(query),
        "TabSeparatedRaw",
        params(scope, { ...query.extra, ...boundParams(query.rangeBy, bounds, range) }),
      ),
    );
  if (bounds.length === 0) {
    yield* linesOf(read(0));
    return;
  }
  const dir = await mkdtemp(join(scope.spoolDir ?? tmpdir(), "aiaudit-pack-rows-"));
  try {
    const ranges = await spoolRanges(dir, bounds.length + 1, read);
    yield* merged(ranges);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The SQL: column types, the records query, range bounds.

/** Each column's ClickHouse type, e.g. `LowCardinality(Nullable(String))`. */
async function columnTypes(scope: Scope, table: string): Promise<Map<string, string>> {
  const rows = await scope.ch.rows<{ name: string; type: string }>(`DESCRIBE TABLE ${table}`);
  return new Map(rows.map((r) => [r.name, r.type]));
}

/** The type inside LowCardinality(…) and Nullable(…), and whether it is nullable. */
function unwrap(type: string): { base: string; nullable: boolean } {
  let base = type;
  let nullable = false;
  for (;;) {
    const m = /^(LowCardinality|Nullable)\((.*)\)$/.exec(base);
    if (m === null) return { base, nullable };
    if (m[1] === "Nullable") nullable = true;
    base = m[2] ?? "";
  }
}

const PLAIN_TYPES = new Set([
  "String",
  "Bool",
  "UInt8",
  "UInt16",
  "UInt32",
  "Int8",
  "Int16",
  "Int32",
  "Date",
  "Date32",
  "DateTime64(3, 'UTC')",
]);

/**
 * Whether ClickHouse's JSON of a column of this type is what canonicalJson writes (after the `\u`
 * check): "int64" for 64-bit integers, which need a range check; throws for any other type (a float
 * or a DateTime would be written differently).
 */
function lineKind(name: string, type: string, inArray = false): "plain" | "int64" {
  const { base } = unwrap(type);
  const array = /^Array\((.*)\)$/.exec(base);
  if (array !== null) {
    lineKind(name, array[1] ?? "", true);
    return "plain";
  }
  if (PLAIN_TYPES.has(base) || /^FixedString\(\d+\)$/.test(base)) return "plain";
  if (!inArray && (base === "UInt64" || base === "Int64")) return "int64";
  throw new TypeError(`pack column ${name} has type ${type}, which packs do not support`);
}

/**
 * An order-preserving encoding of one ORDER BY column: comparing the concatenated encodings byte by
 * byte (as hex) compares the rows as ClickHouse's ORDER BY does. A string gets its NUL bytes escaped
 * and a terminator, so that a shorter string sorts first; times and numbers become fixed-width digits.
 */
function sortKeyPart(name: string, type: string): string {
  const { base, nullable } = unwrap(type);
  if (nullable) throw new TypeError(`pack ORDER BY column ${name} is nullable`);
  if (base === "String" || /^FixedString\(\d+\)$/.test(base)) {
    return `replaceAll(toString(${name}), '\\0', '\\0\\xFF'), '\\0\\x01'`;
  }
  // DateTime64(3) spans 1900 to 2299: milliseconds plus 3e12 are positive and below 10^15.
  if (base === "DateTime64(3, 'UTC')") {
    return `leftPad(toString(toUnixTimestamp64Milli(${name}) + 3000000000000), 15, '0')`;
  }
  if (base === "Date" || base === "Date32") return `toString(${name})`;
  if (base === "UInt8" || base === "UInt16" || base === "UInt32")
    return `leftPad(toString(${name}), 10, '0')`;
  throw new TypeError(`pack ORDER BY column ${name} has type ${type}, which packs cannot order by`);
}

function typeOf(types: Map<string, string>, name: string): string {
  const type = types.get(name);
  if (type === undefined) throw new TypeError(`pack column ${name} is not a column of the table`);
  return type;
}

/** `SELECT <sort key>, <line> FROM … WHERE …` (the range condition and ORDER BY follow). */
function recordsQuery(query: LinesQuery, types: Map<string, string>): string {
  const sorted = [...query.columns].sort(compareCodePoints);
  const guards = sorted
    .filter((name) => lineKind(name, typeOf(types, name)) === "int64")
    .map(
      (name) =>
        ` AND throwIf(NOT (ifNull(${name}, 0) BETWEEN -${MAX_SAFE} AND ${MAX_SAFE}),` +
        ` 'pack column ${name} holds an integer beyond 2^53 - 1') = 0`,
    );
  for (const name of query.rangeBy) {
    if (unwrap(typeOf(types, name)).base !== "String" || unwrap(typeOf(types, name)).nullable) {
      throw new TypeError(`pack range column ${name} is not a String column`);
    }
  }
  const key = query.orderBy.map((name) => sortKeyPart(name, typeOf(types, name))).join(", ");
  return (
    `SELECT hex(concat(${key})) AS __pack_key, formatRowNoNewline('JSONEachRow', ${columns(sorted)}) AS __pack_line` +
    ` FROM ${query.table} FINAL WHERE (${query.where})${guards.join("")}`
  );
}

const orderAndSettings = (query: LinesQuery): string => ` ORDER BY ${columns(query.orderBy)}${LINE_SETTINGS}`;

/**
 * Range bounds: every `rangeRows`-th key of the rows (before FINAL, so a duplicate counts twice), in
 * order. Range i holds the keys after bound i − 1 up to bound i; the last, those after the last bound.
 */
async function rangeBounds(
  scope: Scope,
  query: LinesQuery,
  rangeRows: number,
): Promise<Record<string, string>[]> {
  const key = columns(query.rangeBy);
  const every = Math.max(1, Math.floor(rangeRows));
  const sample = await smallRows<Record<string, string>>(
    scope,
    `SELECT ${key} FROM (SELECT ${key} FROM ${query.table} WHERE ${query.where} ORDER BY ${key})
     WHERE rowNumberInAllBlocks() % ${every} = ${every - 1}`,
    query.extra,
  );
  const step = Math.max(1, Math.ceil(sample.length / MAX_RANGES));
  const bounds: Record<string, string>[] = [];
  for (let i = step - 1; i < sample.length; i += step) {
    const bound = sample[i];
    const last = bounds.at(-1);
    if (bound !== undefined && (last === undefined || query.rangeBy.some((c) => last[c] !== bound[c]))) {
      bounds.push(bound);
    }
  }
  return bounds;
}

/** Query parameters of range `range`'s bounds: `range_lo_<i>` (exclusive), `range_hi_<i>`. */
function boundParams(
  rangeBy: readonly string[],
  bounds: Record<string, string>[],
  range: number,
): Record<string, string> {
  const out: Record<string, string> = {};
  const lo = bounds[range - 1];
  const hi = bounds[range];
  rangeBy.forEach((name, i) => {
    if (lo !== undefined) out[`range_lo_${i}`] = String(lo[name]);
    if (hi !== undefined) out[`range_hi_${i}`] = String(hi[name]);
  });
  return out;
}

/**
 * ` AND key > lo AND key <= hi` for range `range` of `count + 1`, as ORs of column comparisons
 * (which the primary index can use; a tuple comparison made ClickHouse read every granule).
 */
function rangeCondition(rangeBy: readonly string[], count: number, range: number): string {
  const compare = (side: "lo" | "hi", last: string): string =>
    rangeBy
      .map((_, i) => {
        const equal = rangeBy.slice(0, i).map((c, j) => `${c} = {range_${side}_${j}:String}`);
        const op = i === rangeBy.length - 1 ? last : side === "lo" ? ">" : "<";
        return `(${[...equal, `${rangeBy[i] ?? ""} ${op} {range_${side}_${i}:String}`].join(" AND ")})`;
      })
      .join(" OR ");
  let out = "";
  if (range > 0) out += ` AND (${compare("lo", ">")})`;
  if (range < count) out += ` AND (${compare("hi", "<=")})`;
  return out;
}
