/**
 * GET /orgs/{org}/copilot/billing/seats, every page (`page`/`per_page`, following the `Link`
 * header verbatim through octokit's paginator). The list is a full snapshot: the caller publishes
 * it whole or not at all.
 */
import type { GithubClient } from "./github-client.ts";

export interface SeatPage {
  totalSeats: number;
  seats: unknown[];
}

export interface SeatListing {
  /** total_seats as GitHub reported it on the first page. */
  totalSeats: number;
  /** Raw seat objects, unvalidated. */
  seats: unknown[];
  pages: number;
}

export async function fetchOrgSeats(
  github: GithubClient,
  org: string,
  perPage: number,
): Promise<SeatListing> {
  const listing: SeatListing = { totalSeats: 0, seats: [], pages: 0 };
  const pages = github.paginate.iterator("GET /orgs/{org}/copilot/billing/seats", { org, per_page: perPage });
  for await (const response of pages) {
    // The paginator flattens list responses into `data`; total_seats is carried alongside.
    const data = response.data as unknown as { total_seats?: number; seats?: unknown[] } | unknown[];
    const seats = Array.isArray(data) ? data : (data.seats ?? []);
    if (listing.pages === 0) {
      listing.totalSeats = Array.isArray(data) ? seats.length : (data.total_seats ?? seats.length);
    }
    listing.seats.push(...seats);
    listing.pages += 1;
  }
  return listing;
}
