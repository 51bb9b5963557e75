/**
 * A cursor stream over an API that lists records by time (the audit logs, the usage records).
 * Each poll reads from an overlap window before the newest record already published (records
 * arrive late), skips every id already published — whether it comes again in the window, on the
 * next page or in the next poll — and publishes page by page, each page with its dead letters,
 * the advanced cursor and the dedup state it changed in one Kafka transaction. A restart resumes
 * from the last committed state: every id reaches the topic once.
 *
 * Dedup state is bounded at any event rate: the ids of each minute of the window live in a
 * record of their own on the cursors topic (`tenant/connection/stream/seen/<minute>`), as
 * 16-character hashes, and leave with their minute. Records that failed validation are
 * remembered (bounded) so that re-reading the window dead-letters them once.
 */
import {
  bucketOf,
  cursorKey,
  deadLetter,
  idHash,
  parseWindowCursor,
  seenBucketKey,
  seenBucketSchema,
  type StreamCursor,
  type WindowCursor,
} from "@aiaudit/contracts";
import { pseudonymizeDeep, type PayloadKind } from "@aiaudit/crypto";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import type { OutgoingRecord } from "@aiaudit/kafka";
import { decodeCursor, type CursorRecords } from "./cursors.ts";
import { publishWithCursor } from "./publish.ts";
import { withCommittedState, type StreamBase } from "./stream.ts";

export type Parsed<T> =
  | { ok: true; value: T; id: string; at: number }
  | { ok: false; reason: string; id: string | undefined; at: number | undefined };

export interface WindowedStreamSettings<T> {
  tenant: string;
  /** Scopes the cursor (an org and an enterprise may share a slug). */
  connectionId: string;
  slug: string;
  /** Cursor name, e.g. copilot.audit-events. */
  stream: string;
  /** How far before the newest published record each poll starts again, ms. */
  overlapMs: number;
  /** Where a stream without a cursor starts, ms before now. */
  initialLookbackMs: number;
  /** Raw records from `sinceMs` on, oldest first, page by page; a page not of the documented shape throws. */
  pages(sinceMs: number): AsyncGenerator<unknown[]>;
  parse(raw: unknown, now: number): Parsed<T>;
  /** Records another stream publishes. */
  skip?: (value: T) => boolean;
  /** The Kafka records of a page's values. */
  toRecords(values: T[]): OutgoingRecord[];
  /** Where the records come from, for dead letters, e.g. github:GET /orgs/acme/audit-log. */
  source: string;
  /** Topic the values are meant for, for dead letters. */
  topic: string;
  /** Which fields of a dead-lettered payload stay in clear. */
  kind: PayloadKind;
}

export interface WindowedPollResult {
  pages: number;
  published: number;
  /** Records skipped because they were published (or dead-lettered) before. */
  duplicates: number;
  rejected: number;
  /** When the previous successful poll ended (epoch ms), if there was one. */
  previousPollAt: number | undefined;
}

/** The cursor never gets further ahead of the clock than this, whatever time a record claims. */
export const CLOCK_SKEW_MS = 5 * 60_000;
/** Dead-lettered ids remembered, newest first. */
const REJECTED_KEPT = 1000;

interface WindowState {
  cursor: WindowCursor;
  /** Minute start → hashes of the ids published in that minute. */
  buckets: Map<number, Set<string>>;
  updatedAt: number | undefined;
}

export function createWindowedStream<T>(settings: WindowedStreamSettings<T>, deps: StreamBase) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(settings.tenant, settings.connectionId, settings.stream);

  function restore(records: CursorRecords): WindowState | undefined {
    const stored = decodeCursor(records, key);
    if (!stored) return undefined;
    const { cursor, legacySeen } = parseWindowCursor(stored);
    const buckets = new Map<number, Set<string>>();
    for (const start of cursor.buckets) {
      const value = records.get(seenBucketKey(key, start));
      const ids = value === undefined ? undefined : seenBucketSchema.safeParse(value.toString("utf8"));
      if (!ids?.success) {
        throw new AiauditError(
          ErrorCodes.CURSOR_INVALID,
          `cursor ${key} names dedup bucket ${start}, which is missing or malformed on the cursors topic`,
        );
      }
      buckets.set(start, new Set(ids.data ? ids.data.split(" ") : []));
    }
    for (const entry of legacySeen) {
      const [start, hash] = entry.split(" ") as [string, string];
      const set = buckets.get(Number(start)) ?? new Set<string>();
      buckets.set(Number(start), set.add(hash));
    }
    return { cursor, buckets, updatedAt: stored.updated_at };
  }

  const initial = (started: number): WindowState => ({
    cursor: {
      v: 2,
      highWaterMs: started - settings.initialLookbackMs,
      // Nothing was published before the stream began: every record from its first window on is new.
      keptFromMs: bucketOf(started - settings.initialLookbackMs - settings.overlapMs),
      buckets: [],
      rejected: [],
    },
    buckets: new Map(),
    updatedAt: undefined,
  });

  /** Where the ids a state remembers begin. */
  const keptFrom = (state: WindowState) =>
    state.cursor.keptFromMs ?? bucketOf(state.cursor.highWaterMs - settings.overlapMs);

  /**
   * The state after a page, given the buckets it touched and the ids it dead-lettered. Buckets are
   * kept back to an overlap before where the traversal is (the page's last record), or before the
   * high-water mark if that is older: records served out of order (a repeat at the top of a page)
   * can be far ahead of the traversal, which goes on through the time between.
   */
  function advance(
    state: WindowState,
    highWaterMs: number,
    pageAtMs: number,
    touched: Map<number, Set<string>>,
    rejected: string[],
  ): { next: WindowState; writes: Map<string, Buffer | null> } {
    const keepFrom = Math.max(
      keptFrom(state),
      bucketOf(Math.min(highWaterMs, pageAtMs) - settings.overlapMs),
    );
    const buckets = new Map([...state.buckets, ...touched]);
    const writes = new Map<string, Buffer | null>();
    for (const start of [...buckets.keys()]) {
      if (start >= keepFrom) continue;
      buckets.delete(start);
      // Only buckets the topic holds need a tombstone.
      if (state.buckets.has(start)) writes.set(seenBucketKey(key, start), null);
    }
    for (const [start, ids] of touched) {
      if (buckets.has(start)) writes.set(seenBucketKey(key, start), Buffer.from([...ids].join(" "), "utf8"));
    }
    const cursor: WindowCursor = {
      v: 2,
      highWaterMs,
      keptFromMs: keepFrom,
      buckets: [...buckets.keys()].sort((a, b) => a - b),
      rejected: [...rejected, ...state.cursor.rejected].slice(0, REJECTED_KEPT),
    };
    return { next: { cursor, buckets, updatedAt: now() }, writes };
  }

  async function commit(
    records: OutgoingRecord[],
    step: { next: WindowState; writes: Map<string, Buffer | null> },
  ): Promise<void> {
    const cursor: StreamCursor = {
      tenant: settings.tenant,
      connection: settings.connectionId,
      stream: settings.stream,
      cursor: JSON.stringify(step.next.cursor),
      last_snapshot_id: null,
      updated_at: step.next.updatedAt ?? now(),
    };
    await publishWithCursor(deps.producer, deps.topics, records, { key, cursor, state: step.writes });
  }

  return withCommittedState(deps.loadCursors, restore, async (stored, committed) => {
    const started = now();
    let state = stored ?? initial(started);
    const result: WindowedPollResult = {
      pages: 0,
      published: 0,
      duplicates: 0,
      rejected: 0,
      previousPollAt: stored?.updatedAt,
    };
    const sinceMs = state.cursor.highWaterMs - settings.overlapMs;
    const pages = settings.pages(sinceMs);
    // Fetch the next page while this one is published: the HTTP round trip and the Kafka
    // transaction overlap. Nothing is committed ahead: the state moves only with its page.
    let next = pages.next();
    for (;;) {
      const current = await next;
      if (current.done) break;
      next = pages.next();
      next.catch(() => undefined); // a failure surfaces when the loop awaits it
      result.pages += 1;
      const values: T[] = [];
      const letters: OutgoingRecord[] = [];
      const touched = new Map<number, Set<string>>();
      const rejected: string[] = [];
      const rejectedBefore = new Set(state.cursor.rejected);
      let highWaterMs = state.cursor.highWaterMs;
      let pageAtMs = Number.NEGATIVE_INFINITY;
      const reject = (raw: unknown, id: string, hash: string, reason: string) => {
        rejectedBefore.add(hash);
        rejected.unshift(hash);
        deps.telemetry.recordRejected({ org: settings.slug, stream: settings.stream, reason });
        letters.push(
          deadLetter({
            dlqTopic: deps.topics.dlq,
            key: `${settings.tenant}/${settings.slug}/${id}`,
            payload: pseudonymizeDeep(raw, deps.pseudonymizer, settings.kind),
            reason,
            code: ErrorCodes.RECORD_INVALID,
            source: settings.source,
            sourceTopic: settings.topic,
          }),
        );
      };
      for (const raw of current.value) {
        const parsed = settings.parse(raw, started);
        const id = parsed.id ?? `raw:${deps.pseudonymizer.mac(JSON.stringify(raw))}`;
        const hash = idHash(id);
        if (rejectedBefore.has(hash)) {
          result.duplicates += 1;
          continue;
        }
        if (!parsed.ok) {
          reject(raw, id, hash, parsed.reason);
          continue;
        }
        if (parsed.at < keptFrom(state)) {
          // Older than any id remembered: whether it was published before cannot be told. Not
          // published (it may be a repeat), not lost (the dead-letter topic keeps it, once).
          reject(
            raw,
            id,
            hash,
            `record at ${new Date(parsed.at).toISOString()} served from before the dedup window (${new Date(keptFrom(state)).toISOString()}): a repeat or a very late record`,
          );
          continue;
        }
        const minute = bucketOf(parsed.at);
        let ids = touched.get(minute);
        if (!ids) {
          ids = new Set(state.buckets.get(minute));
          touched.set(minute, ids);
        }
        if (ids.has(hash)) {
          result.duplicates += 1;
          continue;
        }
        ids.add(hash);
        // Where the traversal is: the page's last record (pages are oldest first; a repeat served
        // out of order at the top of a page must not move it).
        pageAtMs = parsed.at;
        highWaterMs = Math.max(highWaterMs, Math.min(parsed.at, started + CLOCK_SKEW_MS));
        if (!settings.skip?.(parsed.value)) values.push(parsed.value);
      }
      if (values.length === 0 && letters.length === 0 && touched.size === 0) continue;
      const step = advance(state, highWaterMs, pageAtMs, touched, rejected);
      await commit([...settings.toRecords(values), ...letters], step);
      state = step.next;
      committed(state);
      result.published += values.length;
      result.rejected += letters.length;
    }
    // A poll that found nothing new still records that it ran: the time of the last successful
    // poll is what tells whether records may have aged out of the API's window.
    if (result.published === 0 && result.rejected === 0) {
      const step = advance(state, state.cursor.highWaterMs, state.cursor.highWaterMs, new Map(), []);
      await commit([], step);
      committed(step.next);
    }
    deps.telemetry.streamPolled({
      org: settings.slug,
      stream: settings.stream,
      pages: result.pages,
      published: result.published,
      duplicates: result.duplicates,
      rejected: result.rejected,
      ms: now() - started,
    });
    return result;
  });
}
