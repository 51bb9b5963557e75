/**
 * GET /enterprises/{enterprise}/copilot/usage-records (public preview, EMU enterprises): cursor
 * pagination (`after` in `Link`), per_page clamped to [1, 25], `phrase` with `created:`, oldest
 * first. GitHub is reported to keep records for 48 hours only (simulators/github/reference §6).
 */
import { arrayPages, createdQualifier } from "./audit-log.ts";
import type { GithubClient } from "./github-client.ts";

export const USAGE_RECORDS_PER_PAGE = 25;

export async function* usageRecordPages(
  github: GithubClient,
  enterprise: string,
  sinceMs: number,
): AsyncGenerator<unknown[]> {
  yield* arrayPages(github, `GET /enterprises/${enterprise}/copilot/usage-records`, {
    method: "GET",
    url: "/enterprises/{enterprise}/copilot/usage-records",
    enterprise,
    phrase: createdQualifier(sinceMs),
    order: "asc",
    per_page: USAGE_RECORDS_PER_PAGE,
  });
}
