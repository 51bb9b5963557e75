/**
 * Octokit for one connection, with GitHub's limits honoured by the official plugins: throttling
 * waits for `retry-after` or `x-ratelimit-reset`; retry repeats 5xx with back-off. See
 * ../shared/reference/github/README.md "Rate limits" and octokit/plugin-throttling.js.
 */
import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import type { Telemetry } from "../telemetry.ts";

const GithubClient = Octokit.plugin(throttling, retry);
export type GithubClient = InstanceType<typeof GithubClient>;

export interface GithubClientSettings {
  baseUrl: string;
  token: string;
  telemetry: Telemetry;
  /** Retries after a rate limit before the poll fails. @default 3 */
  rateLimitRetries?: number;
}

export function createGithubClient(settings: GithubClientSettings): GithubClient {
  const retries = settings.rateLimitRetries ?? 3;
  return new GithubClient({
    auth: settings.token,
    baseUrl: settings.baseUrl.replace(/\/+$/, ""),
    userAgent: "aiaudit-ingest-copilot",
    headers: { "x-github-api-version": "2022-11-28" },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    throttle: {
      onRateLimit: (retryAfter, options, _octokit, retryCount) => {
        settings.telemetry.rateLimited({
          method: options.method,
          url: options.url,
          retryAfterSeconds: retryAfter,
          kind: "primary",
        });
        return retryCount < retries;
      },
      onSecondaryRateLimit: (retryAfter, options, _octokit, retryCount) => {
        settings.telemetry.rateLimited({
          method: options.method,
          url: options.url,
          retryAfterSeconds: retryAfter,
          kind: "secondary",
        });
        return retryCount < retries;
      },
    },
  });
}
