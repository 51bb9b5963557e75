/** Pure mapping from a decoded audit event to a copilot_audit_events row (schemas/clickhouse/002). */
import type { CopilotAuditEvent } from "@aiaudit/contracts";

export function auditEventRow(e: CopilotAuditEvent): object {
  return {
    ...e,
    created_at: new Date(e.created_at).toISOString(),
    ingested_at: new Date(e.ingested_at).toISOString(),
  };
}
