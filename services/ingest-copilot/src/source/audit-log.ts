/**
 * GET /orgs/{org}/audit-log and /enterprises/{enterprise}/audit-log: cursor pagination
 * (`after` in the `Link` header, followed verbatim), oldest first (`order=asc`), per_page up to
 * 100, events filtered by `phrase`. See simulators/github/reference §5 and docs/design.md §2: events arrive
 * late, so each poll starts an overlap window before the newest event already published.
 */
import type { GithubClient } from "./github-client.ts";

export interface AuditLogQuery {
  scope: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  /** Search phrase without the created qualifier, e.g. `action:copilot`. */
  phrase: string;
  /** Read events created at or after this time (epoch ms). */
  sinceMs: number;
  perPage: number;
}

/** The audit-log search syntax takes ISO 8601; whole seconds, rounded down so nothing is skipped. */
export function createdQualifier(sinceMs: number): string {
  return `created:>=${new Date(Math.floor(sinceMs / 1000) * 1000).toISOString().replace(".000Z", "Z")}`;
}

/** Yields the raw events page by page; the caller publishes a page before the next is requested. */
export async function* auditLogPages(github: GithubClient, query: AuditLogQuery): AsyncGenerator<unknown[]> {
  const url = query.scope === "ENTERPRISE" ? "/enterprises/{enterprise}/audit-log" : "/orgs/{org}/audit-log";
  const pages = github.paginate.iterator({
    method: "GET",
    url,
    ...(query.scope === "ENTERPRISE" ? { enterprise: query.slug } : { org: query.slug }),
    phrase: `${query.phrase} ${createdQualifier(query.sinceMs)}`,
    order: "asc",
    per_page: query.perPage,
  } as unknown as Parameters<GithubClient["paginate"]["iterator"]>[0]);
  for await (const page of pages) {
    yield Array.isArray(page.data) ? (page.data as unknown[]) : [];
  }
}
