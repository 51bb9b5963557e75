/**
 * N Copilot audit events of tenant `bench`, org `acme`, as ingest-copilot writes them: realistic
 * `raw_json` from the GitHub simulator's generator over the last day, people pseudonymized with a
 * fixed key. For the benchmarks that start from the audit-events topic (sink, SIEM forwarders).
 */
import type { CopilotAuditEvent } from "@aiaudit/contracts";
import { createPseudonymizer } from "@aiaudit/crypto";
import { auditEvents } from "@aiaudit/sim-github";

export function benchAuditEvents(count: number, now: number): CopilotAuditEvent[] {
  const p = createPseudonymizer(Buffer.alloc(32, 9));
  return auditEvents("acme", count, {
    startMs: now - 86_400_000,
    stepMs: Math.max(1, Math.floor(86_000_000 / count)),
  }).map((e) => ({
    event_id: String(e._document_id),
    tenant: "bench",
    org: "acme",
    scope: "ORGANIZATION",
    action: String(e.action),
    created_at: Number(e["@timestamp"]),
    actor_pseudonym: p.pseudonym(String(e.actor)),
    actor_agent: null,
    actor_is_agent: false,
    agent_session_id: null,
    user_pseudonym: typeof e.user === "string" ? p.pseudonym(e.user) : null,
    actor_country_code: "US",
    business: null,
    event_org: "acme",
    raw_json: JSON.stringify(e),
    pseudonym_key_id: p.keyId,
    ingested_at: now,
  }));
}
