/**
 * Pure mapping from decoded event-like records (audit events, usage records, metrics rows) to
 * ClickHouse rows: epoch-ms times become ISO strings once they passed the range check.
 */
import type { CopilotAuditEvent, CopilotMetricsRow, CopilotUsageRecord } from "@aiaudit/contracts";
import { dayMs, timeRangeViolation } from "./time-range.ts";
import { iso, type RowsResult } from "./table-rows.ts";

export function auditEventRows(event: CopilotAuditEvent, now: number): RowsResult {
  return timestampRows("copilot_audit_events", event, now);
}

export function usageRecordRows(record: CopilotUsageRecord, now: number): RowsResult {
  return timestampRows("copilot_usage_records", record, now);
}

export function metricsRowRows(row: CopilotMetricsRow, now: number): RowsResult {
  const reason = timeRangeViolation({ day: dayMs(row.day), ingested_at: row.ingested_at }, now);
  if (reason) return { ok: false, reason };
  return { ok: true, value: { copilot_metrics_rows: [{ ...row, ingested_at: iso(row.ingested_at) }] } };
}

/** One row in `table` with `created_at` and `ingested_at` (epoch ms) as DateTime64 input. */
function timestampRows(
  table: string,
  record: { created_at: number; ingested_at: number },
  now: number,
): RowsResult {
  const reason = timeRangeViolation({ created_at: record.created_at, ingested_at: record.ingested_at }, now);
  if (reason) return { ok: false, reason };
  const row = { ...record, created_at: iso(record.created_at), ingested_at: iso(record.ingested_at) };
  return { ok: true, value: { [table]: [row] } };
}
