/**
 * Copilot usage records carry prompts, responses and tool calls (simulators/github/reference §6). By
 * default (docs/design.md §6) only a keyed hash and the length of each content string are kept, plus
 * the structure, the model and the tool names: enough to prove what an agent did and when,
 * without keeping what it said. Keeping the content is a per-tenant setting.
 */
import { z } from "zod";
import type { CopilotUsageRecord } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { rawRecordId, timeRangeIssue } from "@aiaudit/ingest";

export const usageRecordSchema = z.looseObject({
  type: z.string().min(1),
  user_id: z.number().int().nullish(),
  enterprise_id: z.number().int().nullish(),
  github_request_id: z.string().nullish(),
  endpoint: z.string().nullish(),
  body: z.string(),
  "@timestamp": z.number().int().positive(),
  event_id: z.string().min(1).nullish(),
  truncated: z.boolean().nullish(),
});

/** Keys whose string values describe the exchange rather than carry its content. */
const METADATA_KEYS = new Set([
  "role",
  "model",
  "type",
  "id",
  "finish_reason",
  "tool_call_id",
  "object",
  "endpoint",
]);

export interface UsageContext {
  tenant: string;
  enterprise: string;
  pseudonymizer: Pseudonymizer;
  keepContent: boolean;
  now: number;
}

/**
 * A rejected record carries an id whenever it can (usageRecordId, else a keyed hash of the raw
 * record) and its `@timestamp` only when plausible (see toAuditEvent).
 */
export type UsageRecordResult =
  | { ok: true; record: CopilotUsageRecord }
  | { ok: false; reason: string; id: string; timestamp: number | undefined };

/** The record's id: GitHub's event_id, or request id and type (the reference's example has no event_id). */
export function usageRecordId(raw: {
  event_id?: unknown;
  github_request_id?: unknown;
  type?: unknown;
}): string | undefined {
  if (typeof raw.event_id === "string" && raw.event_id) return raw.event_id;
  if (typeof raw.github_request_id === "string" && typeof raw.type === "string")
    return `${raw.github_request_id}:${raw.type}`;
  return undefined;
}

export function toUsageRecord(raw: unknown, ctx: UsageContext): UsageRecordResult {
  const partial = (raw !== null && typeof raw === "object" ? raw : {}) as {
    event_id?: unknown;
    github_request_id?: unknown;
    type?: unknown;
    "@timestamp"?: unknown;
  };
  const id = usageRecordId(partial);
  const parsed = usageRecordSchema.safeParse(raw);
  const at = partial["@timestamp"];
  const timeIssue = typeof at === "number" ? timeRangeIssue("@timestamp", at, ctx.now) : undefined;
  if (!parsed.success || id === undefined || timeIssue !== undefined) {
    const issues = parsed.success
      ? []
      : parsed.error.issues.map((i) => `${i.path.join(".") || "(record)"}: ${i.message}`);
    if (parsed.success && id === undefined) issues.push("event_id or github_request_id with type: missing");
    if (timeIssue !== undefined) issues.push(timeIssue);
    return {
      ok: false,
      reason: `usage record failed validation: ${issues.join("; ")}`,
      id: id ?? rawRecordId(raw, ctx.pseudonymizer),
      timestamp:
        typeof at === "number" && Number.isSafeInteger(at) && timeIssue === undefined ? at : undefined,
    };
  }
  const r = parsed.data;
  const hmac = (text: string) => ctx.pseudonymizer.mac(text);
  const tools: string[] = [];
  let model = null as string | null;
  let body: unknown;
  try {
    body = JSON.parse(r.body) as unknown;
  } catch {
    body = r.body; // a truncated body is not valid JSON: digest it as one string
  }
  const digest = (value: unknown, key: string | undefined, underFunction: boolean): unknown => {
    if (Array.isArray(value)) return value.map((v) => digest(v, key, underFunction));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value as Record<string, unknown>).map(([k, v]) => [
          k,
          digest(v, k, k === "function" || (underFunction && k !== "arguments")),
        ]),
      );
    }
    if (typeof value !== "string") return value;
    if (key === "model") model ??= value;
    // A tool's name is metadata; a `name` elsewhere may name a person, so it is hashed.
    if (key === "name" && underFunction) {
      if (!tools.includes(value)) tools.push(value);
      return value;
    }
    if (key !== undefined && METADATA_KEYS.has(key)) return value;
    return { hmac: hmac(value), length: value.length };
  };
  return {
    ok: true,
    record: {
      record_id: id,
      tenant: ctx.tenant,
      enterprise: ctx.enterprise,
      type: r.type,
      user_pseudonym:
        r.user_id === null || r.user_id === undefined ? null : ctx.pseudonymizer.pseudonym(`id:${r.user_id}`),
      enterprise_id: r.enterprise_id ?? null,
      github_request_id: r.github_request_id ?? null,
      endpoint: r.endpoint ?? null,
      created_at: r["@timestamp"],
      truncated: r.truncated ?? false,
      model,
      tool_names: tools,
      body_hmac: hmac(r.body),
      body_length: r.body.length,
      body_digest_json: JSON.stringify(digest(body, undefined, false)),
      body: ctx.keepContent ? r.body : null,
      pseudonym_key_id: ctx.pseudonymizer.keyId,
      ingested_at: ctx.now,
    },
  };
}
