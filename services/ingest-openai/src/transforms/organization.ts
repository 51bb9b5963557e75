/**
 * Pure mapping from OpenAI's organization objects (simulators/openai/reference §2.1–2.5) to the
 * snapshot rows of schemas/avro/openai-snapshot.avsc. People are kept as keyed pseudonyms of
 * their email (the value `aiaudit pseudonym` computes), with the domain in clear for the
 * external-users view and a masked form for display; names are not kept. An object that lacks
 * what its row needs is rejected with the reason (it goes to the dead-letter topic).
 */
import type {
  OpenaiApiKey,
  OpenaiProject,
  OpenaiServiceAccount,
  OpenaiSnapshotRow,
  OpenaiUser,
} from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { z } from "zod";
import { isArchived } from "../source/organization.ts";
import { fromSeconds, fromSecondsOrNull } from "./time.ts";

export type RowResult = { ok: true; id: string; row: OpenaiSnapshotRow } | { ok: false; reason: string };

const EMPTY_ROW: OpenaiSnapshotRow = { user: null, project: null, service_account: null, api_key: null };
const str = z.string().nullish();

/** The email's parts: lower-case domain in clear, a display form that shows two characters. */
export function emailParts(email: string) {
  const at = email.lastIndexOf("@");
  if (at <= 0) return { domain: null, display: null };
  const domain = email
    .slice(at + 1)
    .trim()
    .toLowerCase();
  return { domain: domain || null, display: `${email.slice(0, Math.min(2, at))}…@${domain}` };
}

function problems(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join(".") || "(object)"}: ${i.message}`).join("; ");
}

/** Every time field of an object, converted; the first implausible one is the reason. */
function times<K extends string>(
  raw: Partial<Record<K, unknown>>,
  fields: { required: readonly K[]; optional: readonly K[] },
  now: number,
): { ok: true; ms: Record<K, number | null> } | { ok: false; reason: string } {
  const ms = {} as Record<K, number | null>;
  for (const field of fields.required) {
    const t = fromSeconds(field, raw[field], now);
    if (!t.ok) return t;
    ms[field] = t.ms;
  }
  for (const field of fields.optional) {
    const t = fromSecondsOrNull(field, raw[field], now, field === "expires_at");
    if (!t.ok) return t;
    ms[field] = t.ms;
  }
  return { ok: true, ms };
}

const userSchema = z.looseObject({
  id: z.string().min(1),
  email: str,
  role: str,
  added_at: z.unknown().optional(),
  api_key_last_used_at: z.unknown().optional(),
  is_service_account: z.boolean().nullish(),
  is_scim_managed: z.boolean().nullish(),
});

export function toUserRow(raw: unknown, p: Pseudonymizer, now: number): RowResult {
  const u = userSchema.safeParse(raw);
  if (!u.success) return { ok: false, reason: `user: ${problems(u.error)}` };
  const t = times(u.data, { required: ["added_at"], optional: ["api_key_last_used_at"] }, now);
  if (!t.ok) return t;
  const email = u.data.email?.trim() || null;
  const parts = email ? emailParts(email) : { domain: null, display: null };
  const user: OpenaiUser = {
    user_id: u.data.id,
    email_pseudonym: email ? p.pseudonym(email) : null,
    email_domain: parts.domain,
    email_display: parts.display,
    role: u.data.role ?? null,
    added_at: t.ms.added_at as number,
    is_service_account: u.data.is_service_account ?? false,
    is_scim_managed: u.data.is_scim_managed ?? null,
    api_key_last_used_at: t.ms.api_key_last_used_at,
  };
  return { ok: true, id: user.user_id, row: { ...EMPTY_ROW, user } };
}

const projectSchema = z.looseObject({
  id: z.string().min(1),
  name: str,
  status: str,
  created_at: z.unknown().optional(),
  archived_at: z.unknown().optional(),
  residency: str,
});

export function toProjectRow(raw: unknown, now: number): RowResult {
  const r = projectSchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: `project: ${problems(r.error)}` };
  const t = times(r.data, { required: ["created_at"], optional: ["archived_at"] }, now);
  if (!t.ok) return t;
  const project: OpenaiProject = {
    project_id: r.data.id,
    name: r.data.name ?? null,
    // archived_at decides when status disagrees: a project with an archive date is archived.
    status: isArchived({ status: r.data.status ?? null, archived_at: t.ms.archived_at })
      ? "archived"
      : "active",
    created_at: t.ms.created_at as number,
    archived_at: t.ms.archived_at,
    residency: r.data.residency ?? null,
  };
  return { ok: true, id: project.project_id, row: { ...EMPTY_ROW, project } };
}

const serviceAccountSchema = z.looseObject({
  id: z.string().min(1),
  name: str,
  role: str,
  created_at: z.unknown().optional(),
});

export function toServiceAccountRow(raw: unknown, projectId: string, now: number): RowResult {
  const r = serviceAccountSchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: `service account: ${problems(r.error)}` };
  const t = times(r.data, { required: ["created_at"], optional: [] }, now);
  if (!t.ok) return t;
  const account: OpenaiServiceAccount = {
    service_account_id: r.data.id,
    project_id: projectId,
    name: r.data.name ?? null,
    role: r.data.role ?? null,
    created_at: t.ms.created_at as number,
  };
  return {
    ok: true,
    id: `${projectId}/${account.service_account_id}`,
    row: { ...EMPTY_ROW, service_account: account },
  };
}

const owner = z
  .looseObject({
    type: str,
    id: str,
    role: str,
    user: z.looseObject({ id: z.string(), email: str, role: str }).nullish(),
    service_account: z.looseObject({ id: z.string(), role: str }).nullish(),
  })
  .nullish();

const keySchema = z.looseObject({
  id: z.string().min(1),
  name: str,
  redacted_value: z.string(),
  created_at: z.unknown().optional(),
  last_used_at: z.unknown().optional(),
  expires_at: z.unknown().optional(),
  owner_project_access: str,
  owner,
});

/** A project API key (`projectId` set) or an admin API key (`projectId` null). */
export function toApiKeyRow(
  raw: unknown,
  projectId: string | null,
  p: Pseudonymizer,
  now: number,
): RowResult {
  const r = keySchema.safeParse(raw);
  if (!r.success) return { ok: false, reason: `API key: ${problems(r.error)}` };
  const t = times(r.data, { required: ["created_at"], optional: ["last_used_at", "expires_at"] }, now);
  if (!t.ok) return t;
  const o = r.data.owner;
  // Project keys name the owner in `user` or `service_account`; admin keys flatly (§2.3, §2.5).
  const ownerType = o?.type ?? (o?.user ? "user" : o?.service_account ? "service_account" : null);
  const ownerEmail = o?.user?.email ?? null;
  const api_key: OpenaiApiKey = {
    key_id: r.data.id,
    key_type: projectId === null ? "ADMIN" : "PROJECT",
    project_id: projectId,
    name: r.data.name ?? null,
    redacted_value: r.data.redacted_value,
    owner_type: ownerType,
    owner_id: o?.user?.id ?? o?.service_account?.id ?? o?.id ?? null,
    owner_pseudonym: ownerEmail ? p.pseudonym(ownerEmail) : null,
    owner_role: o?.user?.role ?? o?.service_account?.role ?? o?.role ?? null,
    owner_project_access: projectId === null ? null : (r.data.owner_project_access ?? null),
    created_at: t.ms.created_at as number,
    last_used_at: t.ms.last_used_at,
    expires_at: t.ms.expires_at,
  };
  return { ok: true, id: `${projectId ?? "admin"}/${api_key.key_id}`, row: { ...EMPTY_ROW, api_key } };
}
