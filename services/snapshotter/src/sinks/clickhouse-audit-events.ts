/** ClickHouse sink for the Copilot audit-event topic: one row per event (schemas/clickhouse/002). */
import { codecs } from "@aiaudit/contracts";
import { auditEventRows } from "../transforms/event-rows.ts";
import { createClickHouseSink } from "./clickhouse-sink.ts";
import type { SinkDeps } from "./types.ts";

export function createAuditEventSink(deps: SinkDeps) {
  return createClickHouseSink(deps, {
    codec: codecs.copilotAuditEvent,
    tables: ["copilot_audit_events"],
    rows: (event, _record, now) => auditEventRows(event, now),
  });
}
