/**
 * GET /organization/audit_logs (simulators/openai/reference §2.6) as time slices, oldest first.
 *
 * The API pages with `after`/`before` cursors, but in which order it lists events is not
 * documented. A stream that publishes as it reads and remembers only the newest event would
 * lose what it had not read when it crashed in the middle of a newest-first traversal. So each
 * slice of time (`effective_at[gte]`, `effective_at[lt]`) is read whole, sorted by
 * `effective_at` and id, and handed over in chunks: the caller publishes oldest first, and a
 * crash anywhere re-reads from the last committed event (with its overlap and dedup).
 *
 * Memory stays bounded: a slice is at most a day, and a slice with more than `maxEvents` events
 * is abandoned and halved (down to one second); after a quiet slice the width doubles again. The
 * next slice is read while the caller publishes the current one: at most two slices are held.
 *
 * Each slice is read twice: the spec has `tenant_only=true` return only tenant-scoped events
 * (`tenant.*`, role bindings) and says they need it, so every event takes one traversal without
 * it and one with it. Both go through the one stream, so its dedup covers an event both return.
 */
import type OpenAI from "openai";
import { listPages } from "./api.ts";

export interface AuditLogQuery {
  /** Read events effective at or after this time (epoch ms). */
  sinceMs: number;
  /** … and before this one (epoch ms). */
  untilMs: number;
  limit: number;
  maxEvents: number;
  /** Events per chunk handed to the caller (one Kafka transaction each). */
  chunk: number;
  /** Called when a slice was too busy and is read again in halves, with the events read of it. */
  onSplit?: (fromMs: number, toMs: number, events: number) => void;
}

const DAY_S = 86_400;

const effectiveAt = (raw: unknown) => {
  const at = (raw as { effective_at?: unknown } | null)?.effective_at;
  return typeof at === "number" ? at : Number.NEGATIVE_INFINITY;
};
const idOf = (raw: unknown) => {
  const id = (raw as { id?: unknown } | null)?.id;
  return typeof id === "string" ? id : "";
};

/** Oldest first; a record without a usable time sorts first and is dead-lettered by the parser. */
export const byTime = (a: unknown, b: unknown) =>
  effectiveAt(a) - effectiveAt(b) || (idOf(a) < idOf(b) ? -1 : idOf(a) > idOf(b) ? 1 : 0);

export async function* auditLogChunks(client: OpenAI, query: AuditLogQuery): AsyncGenerator<unknown[]> {
  const end = Math.floor(query.untilMs / 1000);
  let from = Math.floor(query.sinceMs / 1000);
  let width = DAY_S;
  const read = (to: number) => {
    const slice = { to, result: readSlice(client, from, to, query) };
    slice.result.catch(() => undefined); // a failure surfaces when the loop awaits it
    return slice;
  };
  let next = from < end ? read(Math.min(end, from + width)) : undefined;
  while (next) {
    const { to, result } = next;
    const { events, complete } = await result;
    if (!complete) {
      query.onSplit?.(from * 1000, to * 1000, events.length);
      width = Math.max(1, Math.floor((to - from) / 2));
      next = read(Math.min(end, from + width));
      continue;
    }
    from = to;
    if (events.length < query.maxEvents / 4) width = Math.min(DAY_S, width * 2);
    // The next slice is read while this one's chunks are published (at most two slices held).
    next = from < end ? read(Math.min(end, from + width)) : undefined;
    events.sort(byTime);
    for (let i = 0; i < events.length; i += query.chunk) yield events.slice(i, i + query.chunk);
  }
}

/**
 * Every event of [from, to) (Unix seconds); `complete: false` when more than `maxEvents` were
 * read before the end (the slice must be read again in halves; `events` is then what was read).
 */
async function readSlice(
  client: OpenAI,
  from: number,
  to: number,
  query: AuditLogQuery,
): Promise<{ events: unknown[]; complete: boolean }> {
  const events: unknown[] = [];
  for (const tenantOnly of [false, true]) {
    const pages = listPages(`GET /organization/audit_logs${tenantOnly ? "?tenant_only=true" : ""}`, (page) =>
      client.admin.organization.auditLogs.list({
        effective_at: { gte: from, lt: to },
        limit: query.limit,
        ...page,
        ...(tenantOnly ? { tenant_only: true } : {}),
      }),
    );
    for await (const page of pages) {
      // An event served from after the slice (outside the range asked for) belongs to a later
      // slice: taken now, it would move the cursor past events not yet read.
      events.push(...page.filter((e) => effectiveAt(e) < to));
      if (events.length > query.maxEvents && to - from > 1) return { events, complete: false };
    }
  }
  return { events, complete: true };
}
