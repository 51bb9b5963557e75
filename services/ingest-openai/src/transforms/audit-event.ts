/**
 * Pure mapping from an OpenAI audit-log entry (simulators/openai/reference §2.6) to an
 * OpenaiAuditEvent: keyed on `type` (a string: OpenAI adds types often), the payload read from
 * the property named after the type, the actor — a dashboard session or an API key — as the
 * pseudonym of its person's email, its ids, and its IP address pseudonymized. The whole entry is
 * kept (`raw_json`), pseudonymized against the allow-list of `@aiaudit/crypto`.
 */
import type { OpenaiAuditEvent } from "@aiaudit/contracts";
import { pseudonymizeDeep, type Pseudonymizer } from "@aiaudit/crypto";
import { z } from "zod";
import { fromSeconds } from "./time.ts";

export interface AuditContext {
  tenant: string;
  org: string;
  pseudonymizer: Pseudonymizer;
  now: number;
}

export type AuditResult =
  | { ok: true; event: OpenaiAuditEvent }
  | { ok: false; reason: string; id: string | undefined; at: number | undefined };

const str = z.string().nullish();
const person = z.looseObject({ id: str, email: str }).nullish();
const entry = z.looseObject({
  id: z.string().min(1),
  type: z.string().min(1),
  effective_at: z.unknown().optional(),
  project: z.looseObject({ id: str, name: str }).nullish(),
  actor: z
    .looseObject({
      type: str,
      session: z.looseObject({ user: person, ip_address: str }).nullish(),
      api_key: z
        .looseObject({
          id: str,
          type: str,
          user: person,
          service_account: z.looseObject({ id: str }).nullish(),
        })
        .nullish(),
    })
    .nullish(),
});

export function toAuditEvent(raw: unknown, ctx: AuditContext): AuditResult {
  const r = entry.safeParse(raw);
  const rawId = (raw as { id?: unknown } | null)?.id;
  if (!r.success) {
    const reason = r.error.issues.map((i) => `${i.path.join(".") || "(entry)"}: ${i.message}`).join("; ");
    return {
      ok: false,
      reason: `audit log entry: ${reason}`,
      id: typeof rawId === "string" ? rawId : undefined,
      at: undefined,
    };
  }
  const e = r.data;
  const at = fromSeconds("effective_at", e.effective_at, ctx.now);
  if (!at.ok) return { ok: false, reason: at.reason, id: e.id, at: undefined };
  const p = ctx.pseudonymizer;
  const session = e.actor?.session;
  const key = e.actor?.api_key;
  const actor = session?.user ?? key?.user;
  const payload = e[e.type] as { id?: unknown } | null | undefined;
  return {
    ok: true,
    event: {
      event_id: e.id,
      tenant: ctx.tenant,
      org: ctx.org,
      type: e.type,
      effective_at: at.ms,
      project_id: e.project?.id ?? null,
      project_name: e.project?.name ?? null,
      actor_type: e.actor?.type ?? null,
      actor_pseudonym: actor?.email ? p.pseudonym(actor.email) : null,
      actor_user_id: actor?.id ?? null,
      actor_api_key_id: key?.id ?? null,
      actor_service_account_id: key?.service_account?.id ?? null,
      actor_ip_pseudonym: session?.ip_address ? p.pseudonym(session.ip_address) : null,
      resource_id: typeof payload?.id === "string" ? payload.id : null,
      raw_json: JSON.stringify(pseudonymizeDeep(raw, p, "openai-audit-log")),
      pseudonym_key_id: p.keyId,
      ingested_at: ctx.now,
    },
  };
}
