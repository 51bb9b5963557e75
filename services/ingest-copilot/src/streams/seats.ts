/**
 * The seat-snapshot stream: a full snapshot published as one transaction, or, when every page
 * answers 304 to its last ETag, an UNCHANGED marker that confirms the previous snapshot for
 * today (so the daily count goes on) at no rate-limit cost.
 */
import {
  cursorKey,
  parseCursor,
  seatCursorSchema,
  type CopilotSeat,
  type SeatCursor,
  type StreamCursor,
} from "@aiaudit/contracts";
import { pseudonymizeDeep, uuidv7 } from "@aiaudit/crypto";
import { snapshotRecords, unchangedRecords } from "../sinks/snapshot-publisher.ts";
import { fetchSeats, seatsUnchanged, type SeatSource } from "../source/seats.ts";
import { toSeatRecord } from "../transforms/seat.ts";
import { decodeCursor, publishWithCursor, withCommittedState } from "@aiaudit/ingest";
import type { StreamDeps } from "./types.ts";

export const SEATS_STREAM = "copilot.seats";

export type SeatStreamDeps = StreamDeps;

export interface SeatPollResult {
  snapshotId: string;
  rows: number;
  rejected: number;
  unchanged: boolean;
}

export function createSeatStream(
  tenant: string,
  connectionId: string,
  source: SeatSource,
  deps: SeatStreamDeps,
) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(tenant, connectionId, SEATS_STREAM);

  function restore(records: ReadonlyMap<string, Buffer>) {
    const previous = decodeCursor(records, key);
    return previous ? { previous, state: parseCursor(seatCursorSchema, previous) } : undefined;
  }

  return withCommittedState(deps.loadCursors, restore, async (stored, committed): Promise<SeatPollResult> => {
    const started = now();
    const base = {
      tenant,
      org: source.slug,
      scope: source.scope,
      takenAt: started,
      pseudonymKeyId: deps.pseudonymizer.keyId,
    };
    const snapshotId = stored?.previous.last_snapshot_id;
    if (stored && snapshotId && (await seatsUnchanged(deps.github, source, stored.state.etags))) {
      const cursor: StreamCursor = { ...stored.previous, updated_at: started };
      const records = unchangedRecords(deps.topics, {
        ...base,
        snapshotId,
        rowCount: stored.state.rowCount,
        totalSeats: stored.state.totalSeats,
      });
      await publishWithCursor(deps.producer, deps.topics, records, { key, cursor });
      committed({ previous: cursor, state: stored.state });
      deps.telemetry.seatsUnchanged({ org: source.slug, snapshotId, requests: stored.state.etags.length });
      return { snapshotId, rows: stored.state.rowCount, rejected: 0, unchanged: true };
    }

    const newId = uuidv7(started);
    // A page that is not the documented shape, or a total that disagrees, throws here: the poll
    // fails and the previous snapshot stays current.
    const listing = await fetchSeats(deps.github, source);
    const seats: CopilotSeat[] = [];
    const rejected = [];
    for (const raw of listing.seats) {
      const result = toSeatRecord(raw, deps.pseudonymizer, started);
      if (result.ok) {
        seats.push(result.seat);
      } else {
        deps.telemetry.recordRejected({ org: source.slug, stream: SEATS_STREAM, reason: result.reason });
        rejected.push({ payload: pseudonymizeDeep(raw, deps.pseudonymizer, "seat"), reason: result.reason });
      }
    }
    const state: SeatCursor = {
      etags: listing.etags,
      rowCount: seats.length,
      totalSeats: listing.totalSeats,
    };
    const cursor: StreamCursor = {
      tenant,
      connection: connectionId,
      stream: SEATS_STREAM,
      cursor: JSON.stringify(state),
      last_snapshot_id: newId,
      updated_at: started,
    };
    const records = snapshotRecords(deps.topics, {
      ...base,
      snapshotId: newId,
      totalSeats: listing.totalSeats,
      seats,
      rejected,
      source: `github:GET ${source.scope === "ENTERPRISE" ? "/enterprises" : "/orgs"}/${source.slug}/copilot/billing/seats`,
    });
    await publishWithCursor(deps.producer, deps.topics, records, { key, cursor });
    committed({ previous: cursor, state });
    deps.telemetry.snapshotPublished({
      org: source.slug,
      stream: SEATS_STREAM,
      snapshotId: newId,
      rows: seats.length,
      rejected: rejected.length,
      ms: now() - started,
    });
    return { snapshotId: newId, rows: seats.length, rejected: rejected.length, unchanged: false };
  });
}
