/**
 * Seat records shaped exactly like GitHub's `copilot-seat-details` (reference/github, schema and
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
