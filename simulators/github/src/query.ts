/**
 * Search phrases and cursor pagination shared by the audit-log and usage-records endpoints.
 *
 * Cursors are opaque to clients. Like GitHub's (base64 of `<@timestamp>|<_document_id>`), they
 * encode the sort key of an item; the next page holds the items strictly after that key in the
 * requested order, so an item inserted later *behind* the cursor is never returned by continuing
 * the traversal.
 */
import { validationFailed, type Reply } from "./http.ts";

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

export function encodeCursor(key: SortKey): string {
  return Buffer.from(`${key.ts}|${key.id}`).toString("base64url");
}

export function decodeCursor(cursor: string): SortKey | undefined {
  const text = Buffer.from(cursor, "base64url").toString("utf8");
  const bar = text.indexOf("|");
  const ts = Number(text.slice(0, bar));
  return bar > 0 && Number.isFinite(ts) ? { ts, id: text.slice(bar + 1) } : undefined;
}

export interface CursorPageOptions<T> {
  keyOf: (item: T) => SortKey;
  order: Order;
  perPage: number;
  baseUrl: string;
  path: string;
  query: URLSearchParams;
}

/**
 * One page of `items` (already filtered) after/before the request's cursor, with GitHub's Link
 * header (`rel="next"` only while items follow, `rel="prev"` while items precede, `rel="first"`).
 * Returns an error reply for a malformed cursor.
 */
export function cursorPage<T>(items: readonly T[], options: CursorPageOptions<T>): Reply {
  const { keyOf, order, perPage, query } = options;
  const sorted = [...items].sort((a, b) => compareKeys(keyOf(a), keyOf(b), order));
  const after = query.get("after") ?? "";
  const before = query.get("before") ?? "";
  let start = 0;
  let end = Math.min(perPage, sorted.length);
  if (after) {
    const key = decodeCursor(after);
    if (!key) return validationFailed("after", "Invalid cursor");
    start = sorted.findIndex((item) => compareKeys(keyOf(item), key, order) > 0);
    if (start < 0) start = sorted.length;
    end = Math.min(start + perPage, sorted.length);
  } else if (before) {
    const key = decodeCursor(before);
    if (!key) return validationFailed("before", "Invalid cursor");
    end = sorted.findIndex((item) => compareKeys(keyOf(item), key, order) >= 0);
    if (end < 0) end = sorted.length;
    start = Math.max(0, end - perPage);
  }
  const page = sorted.slice(start, end);
  const first = page[0];
  const last = page.at(-1);
  const url = (afterCursor: string, beforeCursor: string) => {
    const q = new URLSearchParams(options.query);
    q.delete("page");
    q.set("after", afterCursor);
    q.set("before", beforeCursor);
    return `<${options.baseUrl}${options.path}?${q.toString()}>`;
  };
  const rels: string[] = [];
  if (last && end < sorted.length) rels.push(`${url(encodeCursor(keyOf(last)), "")}; rel="next"`);
  if (after || before || rels.length > 0) rels.push(`${url("", "")}; rel="first"`);
  if (first && start > 0) rels.push(`${url("", encodeCursor(keyOf(first)))}; rel="prev"`);
  return { status: 200, body: page, ...(rels.length > 0 ? { headers: { link: rels.join(", ") } } : {}) };
}

/** A phrase term with an unparseable `created:` value. */
export function badCreated(value: string): Reply {
  return validationFailed("phrase", `Invalid created qualifier: ${value}`);
}
