/** Records as ingest writes them, for the snapshotter's tests. */
import type { CopilotAuditEvent, CopilotUsageRecord } from "@aiaudit/contracts";

export const HOUR = 60 * 60 * 1000;

export function auditEvent(id: string, overrides: Partial<CopilotAuditEvent> = {}): CopilotAuditEvent {
  const now = Date.now();
  return {
    event_id: id,
    tenant: "tenant-a",
    org: "acme",
    scope: "ORGANIZATION",
    action: "copilot.cfb_seat_added",
    created_at: now - HOUR,
    actor_pseudonym: "a".repeat(64),
    actor_agent: null,
    actor_is_agent: false,
    agent_session_id: null,
    user_pseudonym: "b".repeat(64),
    actor_country_code: null,
    business: null,
    event_org: "acme",
    raw_json: JSON.stringify({ _document_id: id, action: "copilot.cfb_seat_added" }),
    pseudonym_key_id: "k1",
    ingested_at: now,
    ...overrides,
  };
}

export function usageRecord(id: string, overrides: Partial<CopilotUsageRecord> = {}): CopilotUsageRecord {
  const now = Date.now();
  return {
    record_id: id,
    tenant: "tenant-a",
    enterprise: "acme-ent",
    type: "request",
    user_pseudonym: "c".repeat(64),
    enterprise_id: 7,
    github_request_id: `req-${id}`,
    endpoint: "/chat/completions",
    created_at: now - HOUR,
    truncated: false,
    model: "gpt-x",
    tool_names: [],
    body_hmac: "d".repeat(64),
    body_length: 42,
    body_digest_json: "{}",
    body: null,
    pseudonym_key_id: "k1",
    ingested_at: now,
    ...overrides,
  };
}
