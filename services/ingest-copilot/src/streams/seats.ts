/**
 * The seat-snapshot stream: a full snapshot published as one transaction, or, when every page
 * answers 304 to its last ETag, an UNCHANGED marker that confirms the previous snapshot for
 * today (so the daily count goes on) at no rate-limit cost.
 */
import type { CopilotSeat, StreamCursor } from "@aiaudit/contracts";
import { pseudonymizeDeep, uuidv7 } from "@aiaudit/crypto";
import { publishSnapshot, publishUnchanged } from "../sinks/snapshot-publisher.ts";
import { cursorKey } from "../source/cursors.ts";
import { fetchSeats, seatsUnchanged, type SeatSource } from "../source/seats.ts";
import { toSeatRecord } from "../transforms/seat.ts";
import type { StreamDeps } from "./types.ts";

export const SEATS_STREAM = "copilot.seats";

export type SeatStreamDeps = StreamDeps;

export interface SeatPollResult {
  snapshotId: string;
  rows: number;
  rejected: number;
  unchanged: boolean;
}

/** What the seats cursor remembers: the last snapshot and its pages' ETags. */
interface SeatCursorState {
  etags: string[];
  rowCount: number;
  totalSeats: number;
}

export function createSeatStream(
  tenant: string,
  connectionId: string,
  source: SeatSource,
  deps: SeatStreamDeps,
) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(tenant, connectionId, SEATS_STREAM);

  return async function pollSeats(): Promise<SeatPollResult> {
    const started = now();
    const previous = deps.cursors.get(key);
    const state = previous?.cursor ? (JSON.parse(previous.cursor) as SeatCursorState) : undefined;
    const producer = await deps.producer();
    const base = {
      tenant,
      org: source.slug,
      scope: source.scope,
      takenAt: started,
      pseudonymKeyId: deps.pseudonymizer.keyId,
    };

    if (previous?.last_snapshot_id && state && (await seatsUnchanged(deps.github, source, state.etags))) {
      const cursor: StreamCursor = { ...previous, updated_at: started };
      await publishUnchanged(producer, deps.topics, {
        ...base,
        snapshotId: previous.last_snapshot_id,
        rowCount: state.rowCount,
        totalSeats: state.totalSeats,
        cursorKey: key,
        cursor,
      });
      deps.cursors.set(key, cursor);
      deps.telemetry.seatsUnchanged({
        org: source.slug,
        snapshotId: previous.last_snapshot_id,
        requests: state.etags.length,
      });
      return { snapshotId: previous.last_snapshot_id, rows: state.rowCount, rejected: 0, unchanged: true };
    }

    const snapshotId = uuidv7(started);
    const listing = await fetchSeats(deps.github, source);
    const seats: CopilotSeat[] = [];
    const rejected = [];
    for (const raw of listing.seats) {
      const result = toSeatRecord(raw, deps.pseudonymizer);
      if (result.ok) {
        seats.push(result.seat);
      } else {
        deps.telemetry.recordRejected({ org: source.slug, stream: SEATS_STREAM, reason: result.reason });
        rejected.push({ payload: pseudonymizeDeep(raw, deps.pseudonymizer), reason: result.reason });
      }
    }
    const nextState: SeatCursorState = {
      etags: listing.etags,
      rowCount: seats.length,
      totalSeats: listing.totalSeats,
    };
    const cursor: StreamCursor = {
      tenant,
      connection: connectionId,
      stream: SEATS_STREAM,
      cursor: JSON.stringify(nextState),
      last_snapshot_id: snapshotId,
      updated_at: started,
    };
    await publishSnapshot(producer, deps.topics, {
      ...base,
      snapshotId,
      totalSeats: listing.totalSeats,
      seats,
      rejected,
      source: `github:GET ${source.scope === "ENTERPRISE" ? "/enterprises" : "/orgs"}/${source.slug}/copilot/billing/seats`,
      cursorKey: key,
      cursor,
    });
    deps.cursors.set(key, cursor);
    deps.telemetry.snapshotPublished({
      org: source.slug,
      snapshotId,
      rows: seats.length,
      rejected: rejected.length,
      ms: now() - started,
    });
    return { snapshotId, rows: seats.length, rejected: rejected.length, unchanged: false };
  };
}
