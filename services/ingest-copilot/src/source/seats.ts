/**
 * GET /orgs/{org}/copilot/billing/seats (and the enterprise variant), page by page (`page`,
 * `per_page`, following `Link` rel="next"), keeping each page's ETag. With the ETags of the last
 * poll it first asks every page conditionally: when all answer 304 the list is unchanged and
 * cost no rate limit (GitHub does not count 304s).
 */
import { z } from "zod";
import { isAiauditError } from "@aiaudit/errors";
import { expectShape, invalidAnswer, vendorCall } from "./errors.ts";
import type { GithubClient } from "./github-client.ts";

/** A page of `/copilot/billing/seats`: both fields are documented as always there. */
const seatPage = z.object({
  total_seats: z.number().int().nonnegative(),
  seats: z.array(z.unknown()),
});

export interface SeatListing {
  /** total_seats as GitHub reported it on the first page. */
  totalSeats: number;
  /** Raw seat objects, unvalidated. */
  seats: unknown[];
  /** ETag of every page, in order. */
  etags: string[];
}

export interface SeatSource {
  scope: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  perPage: number;
}

interface SeatPage {
  status: 200 | 304;
  totalSeats: number;
  seats: unknown[];
  etag: string;
  hasNext: boolean;
}

async function fetchPage(
  github: GithubClient,
  source: SeatSource,
  page: number,
  etag?: string,
): Promise<SeatPage> {
  const route =
    source.scope === "ENTERPRISE"
      ? "GET /enterprises/{enterprise}/copilot/billing/seats"
      : "GET /orgs/{org}/copilot/billing/seats";
  const what = `GET ${route.slice(4).replace(/\{\w+\}/, source.slug)}`;
  try {
    const response = await vendorCall(what, () =>
      github.request(route, {
        ...(source.scope === "ENTERPRISE" ? { enterprise: source.slug } : { org: source.slug }),
        page,
        per_page: source.perPage,
        headers: etag ? { "if-none-match": etag } : {},
      } as never),
    );
    const data = expectShape(what, seatPage, response.data, response.headers["content-type"]);
    return {
      status: 200,
      totalSeats: data.total_seats,
      seats: data.seats,
      etag: response.headers.etag ?? "",
      hasNext: /rel="next"/.test(response.headers.link ?? ""),
    };
  } catch (err) {
    if (isAiauditError(err, "UPSTREAM_HTTP") && err.details.status === 304) {
      return { status: 304, totalSeats: 0, seats: [], etag: etag ?? "", hasNext: false };
    }
    throw err;
  }
}

/** True when every page still has the ETag it had; stops at the first page that changed. */
export async function seatsUnchanged(
  github: GithubClient,
  source: SeatSource,
  etags: string[],
): Promise<boolean> {
  if (etags.length === 0 || etags.some((e) => e === "")) return false;
  for (const [i, etag] of etags.entries()) {
    if ((await fetchPage(github, source, i + 1, etag)).status !== 304) return false;
  }
  return true;
}

export async function fetchSeats(github: GithubClient, source: SeatSource): Promise<SeatListing> {
  const listing: SeatListing = { totalSeats: 0, seats: [], etags: [] };
  for (let page = 1; ; page++) {
    const result = await fetchPage(github, source, page);
    if (page === 1) listing.totalSeats = result.totalSeats;
    listing.seats.push(...result.seats);
    listing.etags.push(result.etag);
    if (!result.hasNext) break;
  }
  // An enterprise lists a person once per granting org or team; total_seats counts people.
  const people = new Set(listing.seats.map(assigneeOf)).size;
  const expected = source.scope === "ENTERPRISE" ? people : listing.seats.length;
  if (expected !== listing.totalSeats) {
    throw invalidAnswer(
      `GET ${source.scope === "ENTERPRISE" ? "/enterprises" : "/orgs"}/${source.slug}/copilot/billing/seats`,
      `total_seats is ${listing.totalSeats} but the pages held ${expected} ${source.scope === "ENTERPRISE" ? "people" : "seats"}`,
    );
  }
  return listing;
}

function assigneeOf(seat: unknown): string {
  const assignee = (seat as { assignee?: { login?: unknown; id?: unknown } } | null)?.assignee;
  if (typeof assignee?.login === "string") return assignee.login.toLowerCase();
  if (typeof assignee?.id === "number") return `id:${assignee.id}`;
  return JSON.stringify(seat);
}
