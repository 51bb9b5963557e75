/**
 * Stream positions on the compacted `<prefix>.control.cursors.v1` topic. The Avro value
 * (`StreamCursor`) carries a `cursor` string; its JSON has one zod schema per kind of stream, so
 * a cursor that is not what the stream expects fails loudly instead of restarting from scratch.
 *
 * Keys: `tenant/connection/stream` for the cursor itself, and, for time-ordered streams,
 * `tenant/connection/stream/seen/<minute start ms>` for the ids published in that minute of the
 * overlap window (see `docs/decisions.md`, "Dedup state in minute buckets"): the cursor record stays
 * a few hundred bytes at any event rate, and each bucket holds one minute of ids as 16-character
 * hashes (a Kafka record holds 1 MB: about 60,000 events a minute, 3.6 M an hour, per stream).
 */
import { createHash } from "node:crypto";
import { z } from "zod";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import type { StreamCursor } from "./records.ts";

export function cursorKey(tenant: string, connection: string, stream: string): string {
  return `${tenant}/${connection}/${stream}`;
}

export const BUCKET_MS = 60_000;

export function seenBucketKey(streamKey: string, bucketStartMs: number): string {
  return `${streamKey}/seen/${bucketStartMs}`;
}

/** A bucket key's stream key and start, or undefined for any other key. */
export function parseSeenBucketKey(key: string): { streamKey: string; startMs: number } | undefined {
  const match = /^(.*)\/seen\/(\d+)$/.exec(key);
  return match?.[1] && match[2] ? { streamKey: match[1], startMs: Number(match[2]) } : undefined;
}

/** A record id as kept in dedup state: 96 bits of its SHA-256, base64url (16 characters). */
export function idHash(id: string): string {
  return createHash("sha256").update(id, "utf8").digest().subarray(0, 12).toString("base64url");
}

/** Time-ordered streams (audit log, usage records). */
export const windowCursorSchema = z.object({
  v: z.literal(2),
  /** Newest record time published, epoch ms; never later than the poll's start + clock skew. */
  highWaterMs: z.number().int(),
  /** Starts of the minute buckets of seen ids on the topic, oldest first. */
  buckets: z.array(z.number().int()),
  /**
   * Ids are remembered for every record from this time on (a bucket start): a record served from
   * before it cannot be told from one published long ago. Absent in cursors written before it
   * existed: highWaterMs − overlap then.
   */
  keptFromMs: z.number().int().optional(),
  /** Hashes of records sent to the dead-letter topic recently (bounded): dead-lettered once. */
  rejected: z.array(z.string()).max(1000),
});
export type WindowCursor = z.infer<typeof windowCursorSchema>;

/** The first version kept every id of the window in the cursor (it outgrew 1 MB in a burst). */
const windowCursorV1Schema = z.object({
  highWaterMs: z.number().int(),
  seen: z.record(z.string(), z.number()),
});

/** The ids of one minute bucket: hashes separated by spaces. */
export const seenBucketSchema = z.string().regex(/^[A-Za-z0-9_-]{16}( [A-Za-z0-9_-]{16})*$|^$/);

/** Seat snapshots: the last snapshot's page ETags and counts. */
export const seatCursorSchema = z.object({
  etags: z.array(z.string()),
  rowCount: z.number().int().nonnegative(),
  totalSeats: z.number().int().nonnegative(),
});
export type SeatCursor = z.infer<typeof seatCursorSchema>;

/** Daily metrics: the last day published per report. */
export const metricsCursorSchema = z.record(z.string(), z.iso.date());
export type MetricsCursor = z.infer<typeof metricsCursorSchema>;

/** Parses a cursor's JSON with `schema`; a cursor that does not fit stops the stream with its key. */
export function parseCursor<S extends z.ZodType>(schema: S, cursor: StreamCursor): z.infer<S> {
  let json: unknown;
  try {
    json = JSON.parse(cursor.cursor ?? "null");
  } catch (cause) {
    throw invalidCursor(cursor, "not JSON", cause);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw invalidCursor(cursor, parsed.error.message, parsed.error);
  return parsed.data;
}

/**
 * A window cursor, also from the first version: its ids move into buckets (written back with the
 * stream's next commit).
 */
export function parseWindowCursor(cursor: StreamCursor): { cursor: WindowCursor; legacySeen: string[] } {
  const v1 = windowCursorV1Schema.safeParse(JSON.parse(cursor.cursor ?? "null"));
  if (v1.success && !("v" in (v1.data as object))) {
    const buckets = [...new Set(Object.values(v1.data.seen).map(bucketOf))].sort((a, b) => a - b);
    return {
      cursor: { v: 2, highWaterMs: v1.data.highWaterMs, buckets, rejected: [] },
      legacySeen: Object.entries(v1.data.seen).map(([id, at]) => `${bucketOf(at)} ${idHash(id)}`),
    };
  }
  return { cursor: parseCursor(windowCursorSchema, cursor), legacySeen: [] };
}

export function bucketOf(ms: number): number {
  return Math.floor(ms / BUCKET_MS) * BUCKET_MS;
}

function invalidCursor(cursor: StreamCursor, why: string, cause: unknown): AiauditError {
  return new AiauditError(
    ErrorCodes.CURSOR_INVALID,
    `cursor ${cursorKey(cursor.tenant, cursor.connection, cursor.stream)} cannot be read (${why}): ` +
      "the stream stops rather than start over; delete the key on the cursors topic to read back from the start",
    { cause },
  );
}
