/**
 * Copilot usage-metrics reports (simulators/github/reference §7a): GET …/copilot/metrics/reports/<report>?day=
 * answers with signed, expiring `download_links` to NDJSON files (or 204: no report for that
 * day). The files are fetched without the GitHub token: the links carry their own signature and
 * may point at another host, which must never see the token.
 */
import { z } from "zod";
import { AiauditError, ErrorCodes, describeBody, isAiauditError } from "@aiaudit/errors";
import { expectShape, toVendorError, vendorCall } from "./errors.ts";
import type { GithubClient } from "./github-client.ts";

const reportAnswer = z.object({ download_links: z.array(z.string().min(1)) });

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
  const what = `GET ${url.replace("{owner}", request.slug)}?day=${request.day}`;
  let links: string[];
  try {
    const response = await vendorCall(what, () =>
      github.request({ method: "GET", url, owner: request.slug, day: request.day } as never),
    );
    if (response.status === 204) return undefined;
    links = expectShape(what, reportAnswer, response.data, response.headers["content-type"]).download_links;
  } catch (err) {
    if (isAiauditError(err, "UPSTREAM_HTTP") && err.details.status === 404) return undefined;
    throw err;
  }
  const rows: unknown[] = [];
  for (const [i, link] of links.entries()) {
    const file = `${request.report} ${request.day} download ${i + 1}`;
    let text: string;
    try {
      const response = await fetch(link, { signal: AbortSignal.timeout(timeoutMs) });
      if (!response.ok) {
        throw new AiauditError(ErrorCodes.UPSTREAM_HTTP, `${file} failed with ${response.status}`, {
          retryable: true,
          details: { status: response.status },
        });
      }
      text = await response.text();
    } catch (err) {
      throw toVendorError(file, err);
    }
    for (const [n, line] of text.split("\n").entries()) {
      if (!line.trim()) continue;
      try {
        rows.push(JSON.parse(line) as unknown);
      } catch {
        throw new AiauditError(
          ErrorCodes.UPSTREAM_INVALID,
          `${file}: line ${n + 1} is not JSON (${describeBody(line, "application/x-ndjson")})`,
          { retryable: true },
        );
      }
    }
  }
  return rows;
}
