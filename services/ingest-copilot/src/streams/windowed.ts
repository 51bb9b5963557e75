/**
 * A cursor stream over an API that lists records by time (the audit logs, the usage records):
 * each poll reads from an overlap window before the newest record already published (records
 * arrive late), skips the ids already published (kept in the cursor for the window), and
 * publishes page by page, each page with its dead letters and the advanced cursor in one Kafka
 * transaction. A restart resumes from the last committed cursor: exactly once.
 */
import { codecs, deadLetter, type StreamCursor } from "@aiaudit/contracts";
import { pseudonymizeDeep } from "@aiaudit/crypto";
import { ErrorCodes } from "@aiaudit/errors";
import type { OutgoingRecord } from "@aiaudit/kafka";
import { cursorKey, parseWindowCursor, type WindowCursor } from "../source/cursors.ts";
import type { StreamDeps } from "./types.ts";

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
  /** Raw records from `sinceMs` on, oldest first, page by page. */
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
}

/** The windowed machinery itself needs no GitHub client: the settings' `pages` bring the data. */
export type WindowedStreamDeps = Omit<StreamDeps, "github">;

export interface WindowedPollResult {
  pages: number;
  published: number;
  duplicates: number;
  rejected: number;
  /** When the previous successful poll ended (epoch ms), if there was one. */
  previousPollAt: number | undefined;
}

export function createWindowedStream<T>(settings: WindowedStreamSettings<T>, deps: WindowedStreamDeps) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(settings.tenant, settings.connectionId, settings.stream);

  /** Publishes `records` with the cursor of `state` in one transaction, then remembers the cursor. */
  async function commit(records: OutgoingRecord[], state: WindowCursor): Promise<void> {
    const cursor: StreamCursor = {
      tenant: settings.tenant,
      connection: settings.connectionId,
      stream: settings.stream,
      cursor: JSON.stringify(state),
      last_snapshot_id: null,
      updated_at: now(),
    };
    const all = [...records, { topic: deps.topics.cursors, key, value: codecs.cursor.encode(cursor) }];
    await (await deps.producer()).transaction((tx) => tx.send(all));
    deps.cursors.set(key, cursor);
  }

  return async function poll(): Promise<WindowedPollResult> {
    const started = now();
    const previous = deps.cursors.get(key);
    const state: WindowCursor = parseWindowCursor(previous) ?? {
      highWaterMs: started - settings.initialLookbackMs,
      seen: {},
    };
    const result: WindowedPollResult = {
      pages: 0,
      published: 0,
      duplicates: 0,
      rejected: 0,
      previousPollAt: previous?.updated_at,
    };
    const pages = settings.pages(state.highWaterMs - settings.overlapMs);
    // Fetch the next page while this one is published: the HTTP round trip and the Kafka
    // transaction overlap. Nothing is committed ahead: the cursor moves only with its page.
    let next = pages.next();
    for (;;) {
      const current = await next;
      if (current.done) break;
      next = pages.next();
      next.catch(() => undefined); // a failure surfaces when the loop awaits it
      result.pages += 1;
      const values: T[] = [];
      const letters: OutgoingRecord[] = [];
      for (const raw of current.value) {
        const parsed = settings.parse(raw, started);
        if (parsed.id !== undefined && state.seen[parsed.id] !== undefined) {
          result.duplicates += 1;
          continue;
        }
        if (parsed.id !== undefined && parsed.at !== undefined) {
          state.seen[parsed.id] = parsed.at;
          state.highWaterMs = Math.max(state.highWaterMs, parsed.at);
        }
        if (!parsed.ok) {
          deps.telemetry.recordRejected({
            org: settings.slug,
            stream: settings.stream,
            reason: parsed.reason,
          });
          letters.push(
            deadLetter({
              dlqTopic: deps.topics.dlq,
              key: `${settings.tenant}/${settings.slug}/${parsed.id ?? `unidentified-${started}-${letters.length}`}`,
              payload: pseudonymizeDeep(raw, deps.pseudonymizer),
              reason: parsed.reason,
              code: ErrorCodes.RECORD_INVALID,
              source: settings.source,
              sourceTopic: settings.topic,
            }),
          );
          continue;
        }
        if (!settings.skip?.(parsed.value)) values.push(parsed.value);
      }
      if (values.length === 0 && letters.length === 0) continue;
      state.seen = Object.fromEntries(
        Object.entries(state.seen).filter(([, at]) => at >= state.highWaterMs - settings.overlapMs),
      );
      await commit([...settings.toRecords(values), ...letters], state);
      result.published += values.length;
      result.rejected += letters.length;
    }
    // A poll that found nothing new still records that it ran: the time of the last successful
    // poll is what tells whether records may have aged out of the API's window.
    if (result.published === 0 && result.rejected === 0) await commit([], state);
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
  };
}
