/**
 * A snapshot stream (users, projects, service accounts, project keys, admin keys): the whole list
 * is read first — a page that is not the documented shape fails the poll, and the previous
 * snapshot stays current — then published as one Kafka transaction with the stream's cursor:
 * BEGIN, a ROW per valid object, a dead letter per invalid one, END with the row count
 * (docs/design.md §3). An object OpenAI lists twice is published once.
 */
import {
  codecs,
  cursorKey,
  deadLetter,
  recordKey,
  type OpenaiEntity,
  type OpenaiSnapshotRecord,
  type OpenaiSnapshotRow,
  type StreamCursor,
} from "@aiaudit/contracts";
import { pseudonymizeDeep, uuidv7, type PayloadKind } from "@aiaudit/crypto";
import { ErrorCodes } from "@aiaudit/errors";
import { publishWithCursor, type StreamBase } from "@aiaudit/ingest";
import type { OutgoingRecord } from "@aiaudit/kafka";
import type { RowResult } from "../transforms/organization.ts";

export interface SnapshotStreamSettings {
  tenant: string;
  connectionId: string;
  /** The OpenAI organization id. */
  org: string;
  /** Cursor and metrics name, e.g. openai.users. */
  stream: string;
  entity: OpenaiEntity;
  topic: string;
  /** Where the objects come from, for dead letters, e.g. openai:GET /organization/users. */
  source: string;
  /** How a dead-lettered object is pseudonymized. */
  kind: PayloadKind;
  /** Every object of the list, read whole, each with its mapped row (or the reason it has none). */
  read(now: number): Promise<{ raw: unknown; result: RowResult }[]>;
}

export interface SnapshotPollResult {
  snapshotId: string;
  rows: number;
  rejected: number;
  duplicates: number;
}

const EMPTY_ROW: OpenaiSnapshotRow = { user: null, project: null, service_account: null, api_key: null };

export function createSnapshotStream(settings: SnapshotStreamSettings, deps: StreamBase) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(settings.tenant, settings.connectionId, settings.stream);
  let fenced = false;

  return async (): Promise<SnapshotPollResult> => {
    if (!fenced) {
      // Fences every earlier producer of this stream before its first snapshot.
      await deps.loadCursors();
      fenced = true;
    }
    const started = now();
    const snapshotId = uuidv7(started);
    const objects = await settings.read(started);
    const base = {
      entity: settings.entity,
      tenant: settings.tenant,
      org: settings.org,
      snapshot_id: snapshotId,
      taken_at: started,
      row_count: null,
      pseudonym_key_id: deps.pseudonymizer.keyId,
    };
    const record = (
      fields: Pick<OpenaiSnapshotRecord, "kind"> & Partial<OpenaiSnapshotRecord>,
      id: string,
    ) => ({
      topic: settings.topic,
      key: recordKey(settings.tenant, settings.org, id),
      value: codecs.openaiSnapshot.encode({ ...base, ...EMPTY_ROW, ...fields }),
      headers: { "aiaudit-snapshot-id": snapshotId, "aiaudit-kind": fields.kind },
    });
    const rows: OutgoingRecord[] = [];
    const letters: OutgoingRecord[] = [];
    const seen = new Set<string>();
    let duplicates = 0;
    for (const { raw, result } of objects) {
      if (!result.ok) {
        deps.telemetry.recordRejected({ org: settings.org, stream: settings.stream, reason: result.reason });
        letters.push(
          deadLetter({
            dlqTopic: deps.topics.dlq,
            key: recordKey(
              settings.tenant,
              settings.org,
              `snapshot/${snapshotId}/rejected/${letters.length}`,
            ),
            payload: pseudonymizeDeep(raw, deps.pseudonymizer, settings.kind),
            reason: result.reason,
            code: ErrorCodes.RECORD_INVALID,
            source: settings.source,
            sourceTopic: settings.topic,
          }),
        );
      } else if (seen.has(result.id)) {
        duplicates += 1;
      } else {
        seen.add(result.id);
        rows.push(record({ kind: "ROW", ...result.row }, `${settings.entity.toLowerCase()}/${result.id}`));
      }
    }
    const marker = `snapshot/${settings.entity.toLowerCase()}/${snapshotId}`;
    const cursor: StreamCursor = {
      tenant: settings.tenant,
      connection: settings.connectionId,
      stream: settings.stream,
      cursor: null,
      last_snapshot_id: snapshotId,
      updated_at: started,
    };
    await publishWithCursor(
      deps.producer,
      deps.topics,
      [
        record({ kind: "BEGIN" }, marker),
        ...rows,
        ...letters,
        record({ kind: "END", row_count: rows.length }, marker),
      ],
      { key, cursor },
    );
    deps.telemetry.snapshotPublished({
      org: settings.org,
      stream: settings.stream,
      snapshotId,
      rows: rows.length,
      rejected: letters.length,
      ms: now() - started,
    });
    return { snapshotId, rows: rows.length, rejected: letters.length, duplicates };
  };
}
