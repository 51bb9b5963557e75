/**
 * Copilot usage-metrics reports (simulators/github/reference §7a): GET …/copilot/metrics/reports/<report>?day=
 * answers with signed, expiring `download_links` to NDJSON files (or 204: no report for that
 * day). The files are fetched without the GitHub token: the links carry their own signature and
 * may point at another host, which must never see the token.
 */
import { RequestError } from "@octokit/request-error";
import type { GithubClient } from "./github-client.ts";

export interface ReportRequest {
  scope: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  report: string;
  day: string;
}

/** The day's rows, or undefined when GitHub has no report for it (204 or 404). */
export async function fetchDailyReport(
  github: GithubClient,
  request: ReportRequest,
  timeoutMs: number,
): Promise<unknown[] | undefined> {
  const url =
    request.scope === "ENTERPRISE"
      ? `/enterprises/{owner}/copilot/metrics/reports/${request.report}`
      : `/orgs/{owner}/copilot/metrics/reports/${request.report}`;
  let links: string[];
  try {
    const response = await github.request({
      method: "GET",
      url,
      owner: request.slug,
      day: request.day,
    } as never);
    if (response.status === 204) return undefined;
    links = (response.data as { download_links?: string[] }).download_links ?? [];
  } catch (err) {
    if (err instanceof RequestError && (err.status === 404 || err.status === 204)) return undefined;
    throw err;
  }
  const rows: unknown[] = [];
  for (const link of links) {
    const response = await fetch(link, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok)
      throw new Error(`report download failed with ${response.status} (${request.report} ${request.day})`);
    for (const line of (await response.text()).split("\n")) {
      if (line.trim()) rows.push(JSON.parse(line) as unknown);
    }
  }
  return rows;
}
