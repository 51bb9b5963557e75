/**
 * Validate a raw GitHub audit-log event (audit-log-event, simulators/github/reference §5) and map it to the
 * contract record. The schema has no required fields and unrestricted additional properties;
 * we need `_document_id`, `@timestamp` (epoch milliseconds) and `action`, keep everything else
 * in `raw_json` with people pseudonymized.
 */
import { z } from "zod";
import type { CopilotAuditEvent } from "@aiaudit/contracts";
import { pseudonymizeDeep, type Pseudonymizer } from "@aiaudit/crypto";

export const auditEventSchema = z.looseObject({
  _document_id: z.string().min(1),
  "@timestamp": z.number().int().positive(),
  action: z.string().min(1),
  actor: z.string().nullish(),
  actor_is_agent: z.boolean().nullish(),
  agent_session_id: z.string().nullish(),
  user: z.string().nullish(),
  org: z.string().nullish(),
  business: z.string().nullish(),
  actor_location: z.looseObject({ country_code: z.string().nullish() }).nullish(),
});

export interface AuditContext {
  tenant: string;
  org: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  pseudonymizer: Pseudonymizer;
  now: number;
}

export type AuditEventResult =
  | { ok: true; event: CopilotAuditEvent }
  | { ok: false; reason: string; id: string | undefined; timestamp: number | undefined };

export function toAuditEvent(raw: unknown, ctx: AuditContext): AuditEventResult {
  const parsed = auditEventSchema.safeParse(raw);
  if (!parsed.success) {
    const partial = (raw ?? {}) as { _document_id?: unknown; "@timestamp"?: unknown };
    return {
      ok: false,
      reason: `audit event failed validation: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`).join("; ")}`,
      id: typeof partial._document_id === "string" ? partial._document_id : undefined,
      timestamp: typeof partial["@timestamp"] === "number" ? partial["@timestamp"] : undefined,
    };
  }
  const e = parsed.data;
  const isAgent = e.actor_is_agent === true;
  const p = ctx.pseudonymizer;
  return {
    ok: true,
    event: {
      event_id: e._document_id,
      tenant: ctx.tenant,
      org: ctx.org,
      scope: ctx.scope,
      action: e.action,
      created_at: e["@timestamp"],
      actor_pseudonym: !isAgent && e.actor ? p.pseudonym(e.actor) : null,
      actor_agent: isAgent ? (e.actor ?? null) : null,
      actor_is_agent: isAgent,
      agent_session_id: e.agent_session_id ?? null,
      user_pseudonym: e.user ? p.pseudonym(e.user) : null,
      actor_country_code: e.actor_location?.country_code ?? null,
      business: e.business ?? null,
      event_org: e.org ?? null,
      raw_json: JSON.stringify(pseudonymizeAuditPayload(raw, isAgent, p)),
      pseudonym_key_id: p.keyId,
      ingested_at: ctx.now,
    },
  };
}

/** pseudonymizeDeep, except that an agent actor keeps its name: an agent is not a person. */
function pseudonymizeAuditPayload(raw: unknown, isAgent: boolean, p: Pseudonymizer): unknown {
  const out = pseudonymizeDeep(raw, p) as Record<string, unknown>;
  const actor = (raw as { actor?: unknown }).actor;
  if (isAgent && typeof actor === "string") out.actor = actor;
  return out;
}
