/**
 * GET /orgs/{org}/audit-log and /enterprises/{enterprise}/audit-log: cursor pagination
 * (`after` in the `Link` header, followed verbatim), oldest first (`order=asc`), per_page up to
 * 100, events filtered by `phrase`. See simulators/github/reference §5 and docs/design.md §2: events arrive
 * late, so each poll starts an overlap window before the newest event already published.
 */
import { z } from "zod";
import { expectShape, vendorCall } from "./errors.ts";
import type { GithubClient } from "./github-client.ts";

/** A page of the audit log or of usage records is a JSON array; anything else fails the poll. */
export const eventPage = z.array(z.unknown());

/**
 * Pages of a cursor-paginated list, each checked to be an array: an object, HTML or truncated
 * JSON where the array belongs fails the poll instead of reading as an empty page.
 */
export async function* arrayPages(
  github: GithubClient,
  what: string,
  request: Record<string, unknown>,
): AsyncGenerator<unknown[]> {
  // Followed by hand rather than with octokit's paginate, which reads an empty body as an empty
  // page and fails on a string body with a TypeError.
  let options = request;
  for (;;) {
    const response = await vendorCall(what, () => github.request(options as never));
    yield expectShape(what, eventPage, response.data, response.headers["content-type"]);
    const next = /<([^<>]+)>;\s*rel="next"/.exec(response.headers.link ?? "")?.[1];
    if (!next) return;
    options = { method: "GET", url: next };
  }
}

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
  yield* arrayPages(github, `GET ${url.replace(/\{\w+\}/, query.slug)}`, {
    method: "GET",
    url,
    ...(query.scope === "ENTERPRISE" ? { enterprise: query.slug } : { org: query.slug }),
    phrase: `${query.phrase} ${createdQualifier(query.sinceMs)}`,
    order: "asc",
    per_page: query.perPage,
  });
}
