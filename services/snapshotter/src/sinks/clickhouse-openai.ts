/**
 * ClickHouse sinks for the OpenAI topics (schemas/clickhouse/005). The four snapshot topics (users,
 * projects, service accounts, API keys) share one spec: entity rows, then END markers, so a marker
 * never points at rows that are not in yet. A snapshot with a poisoned row never becomes complete
 * (its rows fall short of the marker's count), so the current views keep the previous one. The
 * audit-events topic is one row per event.
 */
import { codecs } from "@aiaudit/contracts";
import {
  OPENAI_AUDIT_EVENTS_TABLE,
  OPENAI_SNAPSHOT_TABLES,
  openaiAuditEventRows,
  openaiSnapshotRows,
} from "../transforms/openai-rows.ts";
import { createClickHouseSink } from "./clickhouse-sink.ts";
import type { SinkDeps } from "./types.ts";

/** For any of `<prefix>.openai.{users,projects,service-accounts,api-keys}.v1`. */
export function createOpenaiSnapshotSink(deps: SinkDeps) {
  return createClickHouseSink(deps, {
    codec: codecs.openaiSnapshot,
    tables: OPENAI_SNAPSHOT_TABLES,
    rows: (value, record, now) =>
      openaiSnapshotRows(value, { partition: record.partition, offset: record.offset }, now),
    landed(value) {
      if (value.kind !== "END") return;
      deps.telemetry.snapshotCompleted({
        tenant: value.tenant,
        org: value.org,
        entity: value.entity,
        snapshotId: value.snapshot_id,
        rows: value.row_count ?? 0,
      });
    },
  });
}

/** For `<prefix>.openai.audit-events.v1`. */
export function createOpenaiAuditEventSink(deps: SinkDeps) {
  return createClickHouseSink(deps, {
    codec: codecs.openaiAuditEvent,
    tables: [OPENAI_AUDIT_EVENTS_TABLE],
    rows: (event, _record, now) => openaiAuditEventRows(event, now),
  });
}
