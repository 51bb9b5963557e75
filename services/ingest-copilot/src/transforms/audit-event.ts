/**
 * Validate a raw GitHub audit-log event (audit-log-event, simulators/github/reference §5) and map it to the
 * contract record. The schema has no required fields and unrestricted additional properties;
 * we need `_document_id`, `@timestamp` (epoch milliseconds, between 2008 and tomorrow) and
 * `action`, and keep everything else in `raw_json`, pseudonymized against the audit-event
 * allow-list of @aiaudit/crypto (numeric user ids and IP addresses included; an agent actor
 * keeps its name).
 */
import { z } from "zod";
import type { CopilotAuditEvent } from "@aiaudit/contracts";
import { pseudonymizeDeep, type Pseudonymizer } from "@aiaudit/crypto";
import { rawRecordId, timeRangeIssue } from "@aiaudit/ingest";

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

/**
 * A rejected event carries an id whenever it can (its `_document_id`, else a keyed hash of the raw
 * event, see rawRecordId) so the stream can remember it was dead-lettered, and its time only when
 * that time is plausible: an implausible one must not move the stream's window.
 */
export type AuditEventResult =
  | { ok: true; event: CopilotAuditEvent }
  | { ok: false; reason: string; id: string; timestamp: number | undefined };

export function toAuditEvent(raw: unknown, ctx: AuditContext): AuditEventResult {
  const p = ctx.pseudonymizer;
  const parsed = auditEventSchema.safeParse(raw);
  const partial = (raw !== null && typeof raw === "object" ? raw : {}) as {
    _document_id?: unknown;
    "@timestamp"?: unknown;
  };
  const at = partial["@timestamp"];
  const timeIssue = typeof at === "number" ? timeRangeIssue("@timestamp", at, ctx.now) : undefined;
  if (!parsed.success || timeIssue !== undefined) {
    const issues = parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join(".") || "(event)"}: ${i.message}`);
    return {
      ok: false,
      reason: `audit event failed validation: ${[...issues, ...(timeIssue ? [timeIssue] : [])].join("; ")}`,
      id:
        typeof partial._document_id === "string" && partial._document_id !== ""
          ? partial._document_id
          : rawRecordId(raw, p),
      timestamp:
        typeof at === "number" && Number.isSafeInteger(at) && timeIssue === undefined ? at : undefined,
    };
  }
  const e = parsed.data;
  const isAgent = e.actor_is_agent === true;
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
      raw_json: JSON.stringify(pseudonymizeDeep(raw, p, "audit-event")),
      pseudonym_key_id: p.keyId,
      ingested_at: ctx.now,
    },
  };
}
