/**
 * Vendor payloads kept whole (`raw_json`, `row_json`, dead letters) are pseudonymized against an
 * explicit allow-list (docs/design.md §6): per payload kind, the fields listed below stay in
 * clear; every other string or number becomes `hmac:<pseudonym>`. A field GitHub adds tomorrow
 * is therefore pseudonymized until someone decides it is harmless (fail closed): a numeric user
 * id turns back into a login through GitHub's public API, so "unknown" cannot mean "keep".
 *
 * - strings: `hmac:` + pseudonym of the value (a login's is the same value as the record's
 *   `*_pseudonym` column); a string of digits is taken as a numeric id, as below;
 * - numbers: `hmac:` + pseudonym of `id:<n>`, what `aiaudit pseudonym id:<n>` computes;
 * - booleans and null stay; objects and arrays are walked, their keys stay;
 * - in an object that names a person (its `login` or `email` is pseudonymized), the URL fields and
 *   `node_id` are dropped: they only spell the login or the numeric id out again;
 * - in the fields kept in clear, an email address or an IP address (IPv4 or IPv6) is still
 *   replaced by its pseudonym, wherever it appears in the text.
 *
 * Field lists come from GitHub's own descriptions in simulators/github/reference/ (the
 * `audit-log-event` and `copilot-seat-details` schemas, the usage-records operation, the metrics
 * report rows of the docs example). Adding a field: put its path in the kind's list below, with a
 * test in test/unit/payloads.test.ts showing why it names no one.
 */
import { isIP } from "node:net";
import type { Pseudonymizer } from "./pseudonym.ts";

/**
 * What a payload is. A dead letter is pseudonymized as the kind it was meant to be; `unknown`
 * keeps nothing in clear but booleans, nulls and the structure.
 */
export type PayloadKind =
  | "audit-event"
  | "seat"
  | "usage-record"
  | "metrics-row"
  | "openai-audit-log"
  | "openai-user"
  | "openai-project"
  | "openai-service-account"
  | "openai-api-key"
  | "unknown";

/**
 * The OpenAI audit-log event types with a payload schema (simulators/openai/reference §2.6): the
 * payload sits under a key named after the type. Their fields are ids, names of objects, roles
 * and scopes; an email or IP address in them (`invite.sent` data.email, a login error message)
 * is still replaced, as in every kept field. Types without a schema (`tenant.*`, …) keep nothing.
 */
const OPENAI_AUDIT_PAYLOAD_TYPES = [
  "api_key.created",
  "api_key.updated",
  "api_key.deleted",
  "checkpoint.permission.created",
  "checkpoint.permission.deleted",
  "external_key.registered",
  "external_key.removed",
  "group.created",
  "group.updated",
  "group.deleted",
  "scim.enabled",
  "scim.disabled",
  "invite.sent",
  "invite.accepted",
  "invite.deleted",
  "ip_allowlist.created",
  "ip_allowlist.updated",
  "ip_allowlist.deleted",
  "ip_allowlist.config.activated",
  "ip_allowlist.config.deactivated",
  "login.succeeded",
  "login.failed",
  "logout.succeeded",
  "logout.failed",
  "organization.updated",
  "project.created",
  "project.updated",
  "project.archived",
  "project.deleted",
  "rate_limit.updated",
  "rate_limit.deleted",
  "role.created",
  "role.updated",
  "role.deleted",
  "role.assignment.created",
  "role.assignment.deleted",
  "role.bound_to_resource",
  "role.unbound_from_resource",
  "service_account.created",
  "service_account.updated",
  "service_account.deleted",
  "workload_identity_provider.created",
  "workload_identity_provider.updated",
  "workload_identity_provider.deleted",
  "workload_identity_provider_mapping.created",
  "workload_identity_provider_mapping.updated",
  "workload_identity_provider_mapping.deleted",
  "user.added",
  "user.updated",
  "user.deleted",
  "certificate.created",
  "certificate.updated",
  "certificate.deleted",
  "certificates.activated",
  "certificates.deactivated",
];

/**
 * Fields kept in clear, per kind. A path names a field by its keys from the top, joined with `.`;
 * the elements of an array share the array's path (`totals_by_ide.ide` is the `ide` of every
 * element of `totals_by_ide`). A path ending in `.*` keeps everything under it.
 */
export const CLEAR_FIELDS: Readonly<Record<PayloadKind, readonly string[]>> = {
  /** `audit-log-event` (reference §5), the agent fields (actor_is_agent, agent_session_id) and request metadata. */
  "audit-event": [
    "@timestamp",
    "created_at",
    "_document_id",
    "action",
    "operation_type",
    "actor_is_agent",
    "agent_session_id",
    "actor_location.country_code",
    "actor_location.country_name",
    "org",
    "org_id",
    "business",
    "business_id",
    "repo",
    "repo_id",
    "repository",
    "repository_id",
    "repository_public",
    "public_repo",
    "visibility",
    "previous_visibility",
    "team",
    "active",
    "active_was",
    "content_type",
    "read_only",
    "limited_availability",
    "transport_protocol",
    "transport_protocol_name",
    "hook_id",
    "request_id",
    "request_method",
    "request_category",
    "controller_action",
    "programmatic_access_type",
    "token_scopes",
  ],
  /** `copilot-seat-details` (reference §3): the dates and plan, the granting org and team, not the assignee. */
  seat: [
    "created_at",
    "updated_at",
    "pending_cancellation_date",
    "last_activity_at",
    "last_activity_editor",
    "last_authenticated_at",
    "plan_type",
    "assignee.type",
    "assignee.site_admin",
    "assignee.user_view_type",
    "organization.*",
    "assigning_team.*",
  ],
  /** The usage-records items (reference §6); `user_id` and the prompt-carrying `body` are not kept. */
  "usage-record": [
    "type",
    "enterprise_id",
    "github_request_id",
    "endpoint",
    "@timestamp",
    "event_id",
    "truncated",
  ],
  /** Rows of the users/organization/enterprise reports (reference §7a): days, ids of orgs, counts. */
  "metrics-row": [
    "day",
    "report_start_day",
    "report_end_day",
    "enterprise_id",
    "organization_id",
    "etl_id",
    "day_partition",
    "team_id",
    "team_slug",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
    "user_initiated_interaction_count",
    "used_agent",
    "used_chat",
    "used_cli",
    "ai_credits_used",
    "totals_by_cli.*",
    "totals_by_feature.*",
    "totals_by_ide.*",
    "totals_by_language_feature.*",
    "totals_by_language_model.*",
    "totals_by_model_feature.*",
    "day_totals.*",
    "pull_requests.*",
  ],
  /** `AuditLog` (simulators/openai/reference §2.6): the event, its project, the actor's ids, the payloads. */
  "openai-audit-log": [
    "id",
    "type",
    "effective_at",
    "object",
    "project.id",
    "project.name",
    "actor.type",
    "actor.session.user.id",
    "actor.api_key.id",
    "actor.api_key.type",
    "actor.api_key.user.id",
    "actor.api_key.service_account.id",
    ...OPENAI_AUDIT_PAYLOAD_TYPES.map((type) => `${type}.*`),
  ],
  /** `User` (§2.1): ids, role, dates and flags; not the name or email. */
  "openai-user": [
    "object",
    "id",
    "role",
    "added_at",
    "created",
    "is_default",
    "is_service_account",
    "is_scale_tier_authorized_purchaser",
    "is_scim_managed",
    "api_key_last_used_at",
    "projects.*",
  ],
  /** `Project` (§2.2): nothing in it names a person. */
  "openai-project": [
    "object",
    "id",
    "name",
    "created_at",
    "archived_at",
    "status",
    "external_key_id",
    "residency",
  ],
  /** `ProjectServiceAccount` (§2.4): not a person. */
  "openai-service-account": ["object", "id", "name", "role", "created_at"],
  /** `ProjectApiKey` and `AdminApiKey` (§2.3, §2.5): the key and its owner's ids and role; not the owner's name or email. */
  "openai-api-key": [
    "object",
    "id",
    "name",
    "redacted_value",
    "created_at",
    "last_used_at",
    "expires_at",
    "owner_project_access",
    "owner.type",
    "owner.object",
    "owner.id",
    "owner.role",
    "owner.created_at",
    "owner.user.id",
    "owner.user.role",
    "owner.user.created_at",
    "owner.service_account.*",
  ],
  unknown: [],
};

/** An agent actor (`actor_is_agent: true`, e.g. `Copilot`) is not a person: it keeps its name and id. */
const AGENT_ACTOR_FIELDS = ["actor", "actor_id"];

interface AllowList {
  exact: ReadonlySet<string>;
  /** Paths under which everything is kept (from `path.*`). */
  subtrees: ReadonlySet<string>;
}

function compile(paths: readonly string[]): AllowList {
  const exact = new Set<string>();
  const subtrees = new Set<string>();
  for (const path of paths) {
    if (path.endsWith(".*")) subtrees.add(path.slice(0, -2));
    else exact.add(path);
  }
  return { exact, subtrees };
}

const ALLOW_LISTS = Object.fromEntries(
  Object.entries(CLEAR_FIELDS).map(([kind, paths]) => [kind, compile(paths)]),
) as Record<PayloadKind, AllowList>;
const AGENT_AUDIT_EVENT = compile([...CLEAR_FIELDS["audit-event"], ...AGENT_ACTOR_FIELDS]);

/** In a person object, the fields that only restate the login or id (GitHub's user URLs, node_id). */
const isPersonLink = (key: string) =>
  key === "url" || key.endsWith("_url") || key === "node_id" || key === "gravatar_id";

/** An email address inside any text. */
const EMAIL = /[^\s@<>()[\]{}"',;:/=]+@[^\s@<>()[\]{}"',;:/=]+\.[^\s@<>()[\]{}"',;:/=.]{2,}/g;
/** Candidates for an IP address inside any text (`isIP` decides); an IPv4 may be followed by a port. */
const IPV6_CANDIDATE = /(?<![\w:])[0-9a-f.]*:[0-9a-f.]*:[0-9a-f:.]*(?![\w:])/gi;
const IPV4_CANDIDATE = /(?<!\d)(?:\d{1,3}\.){3}\d{1,3}(?!\d)/g;
const DIGITS = /^\s*\d+\s*$/;

/**
 * A copy of `value` safe to keep: see the top of this file. `kind` picks the allow-list; without
 * one nothing is kept in clear.
 */
export function pseudonymizeDeep(
  value: unknown,
  pseudonymizer: Pseudonymizer,
  kind: PayloadKind = "unknown",
): unknown {
  const isAgentEvent =
    kind === "audit-event" &&
    value !== null &&
    typeof value === "object" &&
    (value as { actor_is_agent?: unknown }).actor_is_agent === true;
  const allow = isAgentEvent ? AGENT_AUDIT_EVENT : ALLOW_LISTS[kind];
  return walk(value, "", false, allow, pseudonymizer);
}

/**
 * `inSubtree`: `value` lies under a `path.*` entry. An exact path keeps a string or number (or
 * an array of them), never a whole object: a field that turns into an object is walked.
 */
function walk(value: unknown, path: string, inSubtree: boolean, allow: AllowList, p: Pseudonymizer): unknown {
  if (Array.isArray(value)) return value.map((item) => walk(item, path, inSubtree, allow, p));
  if (typeof value === "string") {
    return inSubtree || allow.exact.has(path) ? scrubText(value, p) : pseudonymText(value, p);
  }
  if (typeof value === "number") {
    return inSubtree || allow.exact.has(path) ? value : `hmac:${p.pseudonym(`id:${value}`)}`;
  }
  if (value === null || typeof value !== "object") return value;
  const input = value as Record<string, unknown>;
  const prefix = path === "" ? "" : `${path}.`;
  const kept = (key: string) =>
    inSubtree || allow.exact.has(prefix + key) || allow.subtrees.has(prefix + key);
  const isPerson =
    (typeof input.login === "string" && !kept("login")) ||
    (typeof input.email === "string" && !kept("email"));
  const output: Record<string, unknown> = {};
  for (const key of Object.keys(input)) {
    if (isPerson && isPersonLink(key)) continue;
    const at = prefix + key;
    output[key] = walk(input[key], at, inSubtree || allow.subtrees.has(at), allow, p);
  }
  return output;
}

/** A value that is not on the allow-list: a string of digits is an id, anything else an identity. */
function pseudonymText(text: string, p: Pseudonymizer): string {
  return `hmac:${p.pseudonym(DIGITS.test(text) ? `id:${text.trim()}` : text)}`;
}

/** A value kept in clear, with any email or IP address in it replaced by its pseudonym. */
function scrubText(text: string, p: Pseudonymizer): string {
  if (isIP(text.trim()) !== 0) return `hmac:${p.pseudonym(text)}`;
  const ip = (candidate: string) => {
    const address = candidate.replace(/\.+$/, ""); // the full stop of a sentence
    return isIP(address) === 0 ? candidate : `hmac:${p.pseudonym(address)}${candidate.slice(address.length)}`;
  };
  // Most values hold no `@`, or no `:` or `.`: skip the expressions that cannot match.
  let out = text;
  if (out.includes("@")) out = out.replace(EMAIL, (email) => `hmac:${p.pseudonym(email)}`);
  if (out.includes(":")) out = out.replace(IPV6_CANDIDATE, ip);
  if (out.includes(".")) out = out.replace(IPV4_CANDIDATE, ip);
  return out;
}
