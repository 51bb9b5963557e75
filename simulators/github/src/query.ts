/**
 * Search phrases and cursor pagination shared by the audit-log and usage-records endpoints.
 *
 * Cursors are opaque to clients. Like GitHub's (base64 of `<@timestamp>|<_document_id>`), they
 * encode the sort key of an item; the next page holds the items strictly after that key in the
 * requested order, so an item inserted later *behind* the cursor is never returned by continuing
 * the traversal.
 */
import { validationFailed, type Reply } from "./http.ts";
import type { Repeats } from "./state.ts";

export interface PhraseTerm {
  /** Lower-cased qualifier (`action`, `created`...), or "" for a bare word. */
  key: string;
  value: string;
}

/**
 * Splits a phrase on whitespace or `+` (GitHub accepts both as separators). A `+` is only a
 * separator where the next term starts, so `created:>=2026-11-21T10:00:00+01:00` survives.
 */
export function parsePhrase(phrase: string): PhraseTerm[] {
  return phrase
    .split(/\s+|\+(?=[A-Za-z_-]+:)/)
    .filter((t) => t.length > 0)
    .map((t) => {
      const m = /^([A-Za-z_-]+):(.*)$/.exec(t);
      return m ? { key: (m[1] ?? "").toLowerCase(), value: m[2] ?? "" } : { key: "", value: t };
    });
}

/** A half-open time range `[from, until)` in epoch milliseconds. */
export interface TimeRange {
  from: number;
  until: number;
}

const DAY_MS = 86_400_000;

/** `[start, end)` of a `YYYY-MM-DD` day or an ISO 8601 date-time (a 1 ms span), or undefined. */
function instant(text: string): TimeRange | undefined {
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (day) {
    const [y, m, d] = [Number(day[1]), Number(day[2]), Number(day[3])];
    const start = Date.UTC(y, m - 1, d);
    const back = new Date(start);
    if (back.getUTCFullYear() !== y || back.getUTCMonth() !== m - 1 || back.getUTCDate() !== d)
      return undefined;
    return { from: start, until: start + DAY_MS };
  }
  const dt = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(text);
  if (!dt) return undefined;
  const ms = Date.parse(dt[1] ? text : `${text}Z`);
  return Number.isNaN(ms) ? undefined : { from: ms, until: ms + 1 };
}

/**
 * The range a `created:` value selects: `>=T`, `>T`, `<=T`, `<T`, `T`, or `A..B` (either side
 * may be `*`). A day covers the whole UTC day; a date-time is exact to the millisecond.
 */
export function createdRange(value: string): TimeRange | undefined {
  const all = { from: -Infinity, until: Infinity };
  const op = /^(>=|<=|>|<)(.+)$/.exec(value);
  if (op) {
    const t = instant(op[2] ?? "");
    if (!t) return undefined;
    if (op[1] === ">=") return { ...all, from: t.from };
    if (op[1] === ">") return { ...all, from: t.until };
    if (op[1] === "<=") return { ...all, until: t.until };
    return { ...all, until: t.from };
  }
  const range = /^(.+)\.\.(.+)$/.exec(value);
  if (range) {
    const a = range[1] === "*" ? all : instant(range[1] ?? "");
    const b = range[2] === "*" ? all : instant(range[2] ?? "");
    return a && b ? { from: a.from, until: b.until } : undefined;
  }
  return instant(value);
}

/** Sort key: timestamp (ms) then id. */
export interface SortKey {
  ts: number;
  id: string;
}

export type Order = "asc" | "desc";

export function readOrder(query: URLSearchParams): Order {
  return query.get("order") === "asc" ? "asc" : "desc";
}

export function compareKeys(a: SortKey, b: SortKey, order: Order): number {
  const c = a.ts !== b.ts ? a.ts - b.ts : a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  return order === "asc" ? c : -c;
}

/**
 * A record's time in epoch ms as GitHub's index sees it, for ordering, `created:` and cursors.
 * GitHub documents epoch milliseconds, yet a record may carry seconds or microseconds: the index
 * still files it under its real time and serves it (the body keeps the raw value). The unit is
 * read from the magnitude: below 1e11 seconds (1e11 ms is 1973), from 1e14 microseconds (1e14 ms
 * is the year 5138), from 1e17 nanoseconds. Digit strings are read the same way, other strings
 * as ISO 8601; anything else is 0.
 */
export function epochMs(value: unknown): number {
  if (typeof value === "string") {
    if (/^\d+$/.test(value)) return epochMs(Number(value));
    const parsed = Date.parse(value);
    return Number.isNaN(parsed) ? 0 : parsed;
  }
  if (typeof value !== "number" || !Number.isFinite(value)) return 0;
  const size = Math.abs(value);
  return Math.floor(
    size < 1e11 ? value * 1000 : size < 1e14 ? value : size < 1e17 ? value / 1e3 : value / 1e6,
  );
}

export function encodeCursor(key: SortKey): string {
  return Buffer.from(`${key.ts}|${key.id}`).toString("base64url");
}

export function decodeCursor(cursor: string): SortKey | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const bar = text.indexOf("|");
  const ts = Number(text.slice(0, bar));
  return bar > 0 && Number.isFinite(ts) ? { ts, id: text.slice(bar + 1) } : undefined;
}

/** A list's items in ascending key order, with their keys. */
interface SortedList<T> {
  length: number;
  keyOf: (item: T) => SortKey;
  items: T[];
  keys: SortKey[];
}

/**
 * Sorted copies of the lists served, by list identity, so that a page of a 100,000-event log
 * costs a binary search and a short scan rather than a sort. A list that grows (`push`) or is
 * replaced (`addAuditEvents`) is sorted again; one whose items are edited in place is not.
 */
const sortedLists = new WeakMap<readonly object[], unknown>();

function sortedAsc<T extends object>(items: readonly T[], keyOf: (item: T) => SortKey): SortedList<T> {
  const cached = sortedLists.get(items) as SortedList<T> | undefined;
  if (cached?.length === items.length && cached.keyOf === keyOf) return cached;
  const entries = items.map((item, i) => ({ item, key: keyOf(item), i }));
  entries.sort((a, b) => compareKeys(a.key, b.key, "asc") || a.i - b.i);
  const list: SortedList<T> = {
    length: items.length,
    keyOf,
    items: entries.map((e) => e.item),
    keys: entries.map((e) => e.key),
  };
  sortedLists.set(items, list);
  return list;
}

/** The first index whose key is not below `key` (`strict`: above `key`). */
function bound(keys: readonly SortKey[], key: SortKey, strict: boolean): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const c = compareKeys(keys[mid] ?? key, key, "asc");
    if (c < 0 || (strict && c === 0)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export interface CursorPageOptions<T> {
  keyOf: (item: T) => SortKey;
  order: Order;
  perPage: number;
  baseUrl: string;
  path: string;
  query: URLSearchParams;
  /** The phrase's terms other than `created:`. @default every item */
  test?: (item: T) => boolean;
  /** The `created:` range (and any retention window), on `keyOf(item).ts`. @default all time */
  range?: TimeRange;
  /** How this list repeats items (see `Repeats`). @default none */
  repeats?: Repeats;
  /** The simulator's memory of served items, for `repeatAcrossPolls`. */
  served?: Map<string, unknown[]>;
}

/** Items kept per list for `repeatAcrossPolls` (at least this many, or K). */
const SERVED_MEMORY = 100;

/**
 * One page of `items` after/before the request's cursor, in the requested order, keeping those
 * in `range` that pass `test`, with GitHub's Link header (`rel="next"` only while items follow,
 * `rel="prev"` while items precede, `rel="first"`). Returns an error reply for a malformed cursor.
 */
export function cursorPage<T extends object>(items: readonly T[], options: CursorPageOptions<T>): Reply {
  const { order, perPage, query } = options;
  const test = options.test ?? (() => true);
  const range = options.range ?? { from: -Infinity, until: Infinity };
  const { items: sorted, keys } = sortedAsc(items, options.keyOf);
  // Work in "order space": position p is the p-th item of [lo, hi) in the requested order.
  const lo = bound(keys, { ts: range.from, id: "" }, false);
  const hi = Math.max(lo, bound(keys, { ts: range.until, id: "" }, false));
  const size = hi - lo;
  const at = (p: number) => sorted[order === "asc" ? lo + p : hi - 1 - p] as T;
  const clamp = (p: number) => Math.min(size, Math.max(0, p));
  /** Positions of up to `count` items passing `test`, from `p` on in direction `step`. */
  const matching = (p: number, step: 1 | -1, count: number): number[] => {
    const out: number[] = [];
    for (; p >= 0 && p < size && out.length < count; p += step) if (test(at(p))) out.push(p);
    return out;
  };

  const after = query.get("after") ?? "";
  const before = query.get("before") ?? "";
  let positions: number[];
  let repeated: T[] = [];
  if (before) {
    const key = decodeCursor(before);
    if (!key) return validationFailed("before", "Invalid cursor");
    const end = clamp(order === "asc" ? bound(keys, key, false) - lo : hi - bound(keys, key, true));
    positions = matching(end - 1, -1, perPage).reverse();
  } else {
    let start = 0;
    if (after) {
      const key = decodeCursor(after);
      if (!key) return validationFailed("after", "Invalid cursor");
      start = clamp(order === "asc" ? bound(keys, key, true) - lo : hi - bound(keys, key, false));
      const k = options.repeats?.repeatAcrossPages ?? 0;
      if (k > 0)
        repeated = matching(start - 1, -1, k)
          .reverse()
          .map(at);
    }
    positions = matching(start, 1, perPage);
  }
  const page = positions.map(at);

  if (options.served) {
    const list = `${options.path}|${order}|${withoutCreated(query.get("phrase") ?? "")}`;
    const memory = (options.served.get(list) ?? []) as T[];
    const k = options.repeats?.repeatAcrossPolls ?? 0;
    if (k > 0 && !after && !before) repeated = memory.slice(-k).filter(test);
    options.served.set(list, [...memory, ...page].slice(-Math.max(k, SERVED_MEMORY)));
  }

  const first = positions[0];
  const last = positions.at(-1);
  const url = (afterCursor: string, beforeCursor: string) => {
    const q = new URLSearchParams(options.query);
    q.delete("page");
    q.set("after", afterCursor);
    q.set("before", beforeCursor);
    return `<${options.baseUrl}${options.path}?${q.toString()}>`;
  };
  const rels: string[] = [];
  if (last !== undefined && matching(last + 1, 1, 1).length > 0)
    rels.push(`${url(encodeCursor(options.keyOf(at(last))), "")}; rel="next"`);
  if (after || before || rels.length > 0) rels.push(`${url("", "")}; rel="first"`);
  if (first !== undefined && matching(first - 1, -1, 1).length > 0)
    rels.push(`${url("", encodeCursor(options.keyOf(at(first))))}; rel="prev"`);
  const body = [...repeated, ...page];
  return { status: 200, body, ...(rels.length > 0 ? { headers: { link: rels.join(", ") } } : {}) };
}

/** A phrase's terms but `created:`, in a stable order: which list a traversal reads. */
function withoutCreated(phrase: string): string {
  return parsePhrase(phrase)
    .filter((t) => t.key !== "created")
    .map((t) => `${t.key}:${t.value.toLowerCase()}`)
    .sort()
    .join(" ");
}

/** The intersection of two time ranges. */
export function intersect(a: TimeRange, b: TimeRange): TimeRange {
  return { from: Math.max(a.from, b.from), until: Math.min(a.until, b.until) };
}

/** A phrase term with an unparseable `created:` value. */
export function badCreated(value: string): Reply {
  return validationFailed("phrase", `Invalid created qualifier: ${value}`);
}
