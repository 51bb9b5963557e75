import { createHash } from "node:crypto";

/**
 * Seat records shaped exactly like GitHub's `copilot-seat-details` (simulators/github/reference, schema and
 * the `copilot-seats-list` example): a `nullable-simple-user` assignee with its URL fields, an
 * optional `assigning_team` without `type` (as in GitHub's own examples), and the date fields.
 */
export type GithubSeat = Record<string, unknown>;

export function simpleUser(login: string, id: number): Record<string, unknown> {
  const api = `https://api.github.com/users/${login}`;
  return {
    login,
    id,
    node_id: Buffer.from(`04:User${id}`).toString("base64"),
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    gravatar_id: "",
    url: api,
    html_url: `https://github.com/${login}`,
    followers_url: `${api}/followers`,
    following_url: `${api}/following{/other_user}`,
    gists_url: `${api}/gists{/gist_id}`,
    starred_url: `${api}/starred{/owner}{/repo}`,
    subscriptions_url: `${api}/subscriptions`,
    organizations_url: `${api}/orgs`,
    repos_url: `${api}/repos`,
    events_url: `${api}/events{/privacy}`,
    received_events_url: `${api}/received_events`,
    type: "User",
    site_admin: false,
  };
}

export function team(org: string, slug: string, id: number): Record<string, unknown> {
  return {
    id,
    node_id: Buffer.from(`04:Team${id}`).toString("base64"),
    url: `https://api.github.com/teams/${id}`,
    html_url: `https://github.com/orgs/${org}/teams/${slug}`,
    name: slug,
    slug,
    description: `The ${slug} team`,
    privacy: "closed",
    notification_setting: "notifications_enabled",
    permission: "pull",
    members_url: `https://api.github.com/teams/${id}/members{/member}`,
    repositories_url: `https://api.github.com/teams/${id}/repos`,
    parent: null,
  };
}

export interface SeatOptions {
  org: string;
  login: string;
  id: number;
  /** @default "business" */
  planType?: "business" | "enterprise" | "unknown";
  teamSlug?: string;
  createdAt?: string;
  lastActivityAt?: string | null;
  pendingCancellationDate?: string | null;
  /** Adds `organization` (organization-simple), as enterprise seat listings show the granting org. */
  orgId?: number;
}

export function seat(options: SeatOptions): GithubSeat {
  const created = options.createdAt ?? "2026-01-05T09:00:00Z";
  const lastActivity = options.lastActivityAt === undefined ? "2026-11-20T16:32:10Z" : options.lastActivityAt;
  return {
    created_at: created,
    updated_at: created,
    pending_cancellation_date: options.pendingCancellationDate ?? null,
    last_activity_at: lastActivity,
    last_activity_editor: lastActivity ? "vscode/1.105.0/copilot/1.380.0" : null,
    last_authenticated_at: lastActivity,
    plan_type: options.planType ?? "business",
    assignee: simpleUser(options.login, options.id),
    ...(options.orgId === undefined ? {} : { organization: organizationSimple(options.org, options.orgId) }),
    ...(options.teamSlug ? { assigning_team: team(options.org, options.teamSlug, 1000 + options.id) } : {}),
  };
}

/** `count` seats of `org`, logins `<prefix>-<n>`, every third one granted by a team. */
export function seats(org: string, count: number, prefix = `${org}-dev`): GithubSeat[] {
  return Array.from({ length: count }, (_, i) =>
    seat({
      org,
      login: `${prefix}-${i + 1}`,
      id: 10_000 + i,
      ...(i % 3 === 0 ? { teamSlug: "copilot-users" } : {}),
      ...(i % 10 === 9 ? { pendingCancellationDate: "2026-12-01" } : {}),
      ...(i % 7 === 6 ? { lastActivityAt: null } : {}),
    }),
  );
}

export function organization(login: string, id: number): Record<string, unknown> {
  return {
    ...organizationSimple(login, id),
    name: login,
    html_url: `https://github.com/${login}`,
    has_organization_projects: true,
    has_repository_projects: true,
    public_repos: 0,
    public_gists: 0,
    followers: 0,
    following: 0,
    type: "Organization",
    created_at: "2020-01-01T00:00:00Z",
    updated_at: "2026-01-01T00:00:00Z",
    archived_at: null,
    plan: { name: "enterprise", space: 976562499, private_repos: 999999, filled_seats: 10, seats: 100 },
  };
}

/** `organization-simple`, as in `copilot-seat-details.organization`. */
export function organizationSimple(login: string, id: number): Record<string, unknown> {
  const api = `https://api.github.com/orgs/${login}`;
  return {
    login,
    id,
    node_id: Buffer.from(`04:Organization${id}`).toString("base64"),
    url: api,
    repos_url: `${api}/repos`,
    events_url: `${api}/events`,
    hooks_url: `${api}/hooks`,
    issues_url: `${api}/issues`,
    members_url: `${api}/members{/member}`,
    public_members_url: `${api}/public_members{/member}`,
    avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
    description: null,
  };
}

const digest = (text: string) => createHash("sha256").update(text).digest();

/** A deterministic UUID-shaped id. */
function uuidOf(text: string): string {
  const h = digest(text).toString("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** The actions `auditEvents` cycles through by default (all `copilot.*`). */
export const COPILOT_AUDIT_ACTIONS = [
  "copilot.cfb_seat_assignment_created",
  // GitHub writes it for every person given access, whatever the assignment (a seat granted).
  "copilot.cfb_seat_added",
  "copilot.cfb_seat_cancelled",
  "copilot.policy_updated",
] as const;

/** The actor of agent events, as GitHub's audit log shows it (`actor:Copilot`). */
export const COPILOT_AGENT_ACTOR = "Copilot";
export const COPILOT_AGENT_ACTOR_ID = 198_982_749;

export interface AuditEventsOptions {
  /** `@timestamp` of the first event (epoch ms). */
  startMs: number;
  /** Milliseconds between consecutive events (> 0 keeps timestamps strictly increasing). @default 60_000 */
  stepMs?: number;
  /**
   * Spread the events evenly over this many ms instead (a burst: 100,000 in an hour): `@timestamp`
   * = startMs + ⌊i·spanMs/count⌋, so several events may share a millisecond (ids then sort in
   * generation order). Overrides `stepMs`.
   */
  spanMs?: number;
  /** Every n-th event (n, 2n, ...) is an agent event: `actor: "Copilot"`, `actor_is_agent`, `agent_session_id`, the human in `user`. */
  agentEvery?: number;
  /**
   * `_document_id` = `<idPrefix><index>`. @default 22 characters: a base64url hash of (org,
   * startMs, stepMs or spanMs) then the index in base 36 (one hash per call, so a burst is fast)
   */
  idPrefix?: string;
  /** Actions of the human events, cycled. @default COPILOT_AUDIT_ACTIONS */
  actions?: readonly string[];
  /** Action of agent events. @default "pull_request.create" (the docs' example) */
  agentAction?: string;
  /** Affected users are `<org>-dev-<1..users>` with ids 10000.., matching `seats(org, n)`. @default 10 */
  users?: number;
  /** @default 1 */
  orgId?: number;
  /** Enterprise slug in `business`. @default `<org>-enterprise` */
  business?: string;
  /** @default 1 */
  businessId?: number;
}

/** The timestamp of the i-th of `count` records: a fixed step, or spread over `spanMs`. */
function timeline(
  count: number,
  options: { startMs: number; stepMs?: number; spanMs?: number },
  step: number,
) {
  const span = options.spanMs;
  return span === undefined
    ? (i: number) => options.startMs + i * step
    : (i: number) => options.startMs + Math.floor((i * span) / Math.max(1, count));
}

/**
 * `count` raw `audit-log-event`s of `org` with increasing `@timestamp` / `created_at` (epoch ms;
 * strictly with a positive `stepMs`) and unique `_document_id`s. Human events are done by
 * `<org>-admin` (id 9000) to `<org>-dev-<n>`; `copilot.policy_updated` has no `user`.
 */
export function auditEvents(
  org: string,
  count: number,
  options: AuditEventsOptions,
): Record<string, unknown>[] {
  const step = options.stepMs ?? 60_000;
  const actions = options.actions ?? COPILOT_AUDIT_ACTIONS;
  const users = Math.max(1, options.users ?? 10);
  const orgId = options.orgId ?? 1;
  const timeOf = timeline(count, options, step);
  const idBase = digest(
    `${org}|${options.startMs}|${options.spanMs === undefined ? step : `span${options.spanMs}`}`,
  )
    .toString("base64url")
    .slice(0, 12);
  return Array.from({ length: count }, (_, i) => {
    const ts = timeOf(i);
    const id =
      options.idPrefix !== undefined
        ? `${options.idPrefix}${i}`
        : `${idBase}${i.toString(36).padStart(10, "0")}`;
    const user = { user: `${org}-dev-${(i % users) + 1}`, user_id: 10_000 + (i % users) };
    const common = {
      "@timestamp": ts,
      _document_id: id,
      org,
      org_id: orgId,
      business: options.business ?? `${org}-enterprise`,
      business_id: options.businessId ?? 1,
      actor_location: { country_code: "US", country_name: "United States" },
      created_at: ts,
    };
    if (options.agentEvery && (i + 1) % options.agentEvery === 0) {
      return {
        ...common,
        action: options.agentAction ?? "pull_request.create",
        actor: COPILOT_AGENT_ACTOR,
        actor_id: COPILOT_AGENT_ACTOR_ID,
        actor_is_agent: true,
        agent_session_id: uuidOf(`${id}|session`),
        ...user,
        repo: `${org}/app`,
        operation_type: "create",
      };
    }
    const action = actions[i % actions.length] ?? "copilot.policy_updated";
    return {
      ...common,
      action,
      actor: `${org}-admin`,
      actor_id: 9_000,
      ...(action === "copilot.policy_updated" ? {} : user),
      operation_type: action.endsWith("_cancelled")
        ? "remove"
        : action.endsWith("_created")
          ? "create"
          : "modify",
    };
  });
}

export interface UsageRecordsOptions {
  /** `@timestamp` of the first record (epoch ms). */
  startMs: number;
  /** Milliseconds between consecutive records. @default 500 */
  stepMs?: number;
  /** Spread the records evenly over this many ms instead (see `AuditEventsOptions.spanMs`). */
  spanMs?: number;
  /** Users the sessions belong to, cycled per request/response pair. @default [10000] */
  userIds?: readonly number[];
  /** `event_id` = `<idPrefix><index>`. @default UUID-shaped: a hash of (enterpriseId, startMs, step) and the index */
  idPrefix?: string;
}

/**
 * `count` Copilot usage records: request/response pairs sharing a `github_request_id`, each
 * with a JSON-encoded `body` (request: model, prompt, messages, tools; response: choices with
 * content and tool_calls, usage), increasing `@timestamp` (strictly with a positive `stepMs`) and a
 * unique `event_id`.
 */
export function usageRecords(
  enterpriseId: number,
  count: number,
  options: UsageRecordsOptions,
): Record<string, unknown>[] {
  const step = options.stepMs ?? 500;
  const userIds = options.userIds ?? [10_000];
  const timeOf = timeline(count, options, step);
  const base = digest(`${enterpriseId}|${options.startMs}|${options.spanMs ?? step}`).toString("hex");
  return Array.from({ length: count }, (_, i) => {
    const pair = Math.floor(i / 2);
    const type = i % 2 === 0 ? "request" : "response";
    const requestId = `${base.slice(32, 40).toUpperCase()}:${pair}`;
    const n = i.toString(16).padStart(15, "0");
    const prompt = `Add input validation to handler ${pair}`;
    const body =
      type === "request"
        ? {
            model: "gpt-4.1",
            prompt,
            messages: [
              { role: "system", content: "You are GitHub Copilot, an AI coding agent." },
              { role: "user", content: prompt },
            ],
            tools: [
              { type: "function", function: { name: "read_file" } },
              { type: "function", function: { name: "edit_file" } },
            ],
          }
        : {
            choices: [
              {
                message: {
                  role: "assistant",
                  content: `I'll read the handler first.`,
                  tool_calls: [
                    {
                      id: `call_${pair}`,
                      type: "function",
                      function: {
                        name: "read_file",
                        arguments: JSON.stringify({ path: `src/handlers/h${pair}.ts` }),
                      },
                    },
                  ],
                },
                finish_reason: "tool_calls",
              },
            ],
            usage: { prompt_tokens: 812 + pair, completion_tokens: 64 },
          };
    return {
      type,
      user_id: userIds[pair % userIds.length] ?? 10_000,
      enterprise_id: enterpriseId,
      github_request_id: requestId,
      endpoint: "/chat/completions",
      body: JSON.stringify(body),
      "@timestamp": timeOf(i),
      event_id:
        options.idPrefix !== undefined
          ? `${options.idPrefix}${i}`
          : `${base.slice(0, 8)}-${base.slice(8, 12)}-4${base.slice(13, 16)}-a${n.slice(0, 3)}-${n.slice(3)}`,
    };
  });
}

export interface MetricsUser {
  login: string;
  id: number;
}

/**
 * User-level rows of a `users-1-day` report, shaped like the docs example (day, user_id,
 * user_login, the activity counts, used_agent/chat/cli, totals_by_*). Numbers derive from the
 * user's position so they are deterministic.
 */
export function userMetricsRows(
  day: string,
  users: readonly MetricsUser[],
  options: { enterpriseId?: number; organizationId?: number } = {},
): Record<string, unknown>[] {
  return users.map((u, i) => {
    const generated = 5 + (i % 7);
    const accepted = Math.floor(generated / 2);
    const counts = {
      user_initiated_interaction_count: 3 + (i % 5),
      code_generation_activity_count: generated,
      code_acceptance_activity_count: accepted,
      loc_suggested_to_add_sum: generated * 10,
      loc_suggested_to_delete_sum: generated,
      loc_added_sum: accepted * 8,
      loc_deleted_sum: accepted,
    };
    return {
      day,
      ...(options.enterpriseId === undefined ? {} : { enterprise_id: String(options.enterpriseId) }),
      ...(options.organizationId === undefined ? {} : { organization_id: String(options.organizationId) }),
      user_id: u.id,
      user_login: u.login,
      ...counts,
      used_agent: i % 2 === 0,
      used_chat: true,
      used_cli: i % 3 === 0,
      totals_by_cli: {
        prompt_count: i % 3 === 0 ? 2 : 0,
        request_count: i % 3 === 0 ? 2 : 0,
        session_count: i % 3 === 0 ? 1 : 0,
        token_usage: { avg_tokens_per_request: 4400, output_tokens_sum: 5000, prompt_tokens_sum: 3800 },
        last_known_cli_version: { cli_version: "0.0.350", sampled_at: `${day}T12:00:00Z` },
      },
      totals_by_feature: [{ feature: "code_completion", ...counts }],
      totals_by_ide: [
        {
          ide: "vscode",
          ...counts,
          last_known_ide_version: { ide_version: "1.105.0", sampled_at: `${day}T12:00:00Z` },
        },
      ],
      totals_by_language_feature: [{ language: "typescript", feature: "code_completion", ...counts }],
      totals_by_language_model: [{ language: "typescript", model: "gpt-4.1", ...counts }],
      totals_by_model_feature: [{ model: "gpt-4.1", feature: "chat_panel_agent_mode", ...counts }],
    };
  });
}

/** An `organization-1-day` row aggregating user rows into `day_totals`. */
export function organizationMetricsRow(
  day: string,
  organizationId: number,
  userRows: readonly Record<string, unknown>[],
): Record<string, unknown> {
  const sum = (key: string) => userRows.reduce((n, r) => n + (typeof r[key] === "number" ? r[key] : 0), 0);
  const keys = [
    "user_initiated_interaction_count",
    "code_generation_activity_count",
    "code_acceptance_activity_count",
    "loc_suggested_to_add_sum",
    "loc_suggested_to_delete_sum",
    "loc_added_sum",
    "loc_deleted_sum",
  ];
  return {
    report_start_day: day,
    report_end_day: day,
    organization_id: String(organizationId),
    day_totals: [
      {
        day,
        daily_active_users: userRows.length,
        weekly_active_users: userRows.length,
        monthly_active_users: userRows.length,
        ...Object.fromEntries(keys.map((k) => [k, sum(k)])),
      },
    ],
  };
}
