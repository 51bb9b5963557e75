/**
 * Octokit for one connection, with GitHub's limits honoured (simulators/github/reference "Rate limits"):
 * - @octokit/plugin-throttling waits `retry-after` on a secondary limit, and until
 *   `x-ratelimit-reset` (+1 s) when the primary limit is spent, then retries;
 * - @octokit/plugin-retry retries 5xx and network errors with growing waits;
 * - the audit-log endpoints' own limit (1,750 queries per hour per token and IP) is kept by a
 *   sliding window here, since neither plugin knows it;
 * - every request has a timeout, so a hanging GitHub fails the poll instead of stalling it.
 */
import { Octokit } from "@octokit/rest";
import { retry } from "@octokit/plugin-retry";
import { throttling } from "@octokit/plugin-throttling";
import { parseTokenExpiration } from "@aiaudit/github-connect";
import type { Telemetry } from "../telemetry.ts";

const GithubClient = Octokit.plugin(throttling, retry);
export type GithubClient = InstanceType<typeof GithubClient>;

export interface GithubClientSettings {
  baseUrl: string;
  token: string;
  telemetry: Telemetry;
  /** Retries after a rate limit before the poll fails. @default 3 */
  rateLimitRetries?: number;
  /** Per-request timeout, ms. @default 30000 */
  timeoutMs?: number;
  /** Audit-log queries allowed per window. @default 1750 */
  auditLogQueriesPerWindow?: number;
  /** @default 3600000 (one hour) */
  auditLogWindowMs?: number;
  /** Milliseconds per second of `retry-after` (tests shorten it). @default 1000 */
  retryAfterBaseValue?: number;
  /** Called with the token's expiry whenever GitHub reports it (github-authentication-token-expiration). */
  onTokenExpiration?: (expiresAt: number) => void;
}

/** Waits as long as needed to keep at most `limit` calls in any `windowMs`. */
export function slidingWindow(limit: number, windowMs: number, now = Date.now) {
  const calls: number[] = [];
  return async function acquire(): Promise<number> {
    for (;;) {
      const t = now();
      while (calls.length > 0 && (calls[0] ?? 0) <= t - windowMs) calls.shift();
      if (calls.length < limit) {
        calls.push(t);
        return calls.length;
      }
      await new Promise((resolve) => setTimeout(resolve, (calls[0] ?? t) + windowMs - t));
    }
  };
}

export function createGithubClient(settings: GithubClientSettings): GithubClient {
  const retries = settings.rateLimitRetries ?? 3;
  const timeoutMs = settings.timeoutMs ?? 30_000;
  const auditLogSlot = slidingWindow(
    settings.auditLogQueriesPerWindow ?? 1750,
    settings.auditLogWindowMs ?? 3_600_000,
  );
  const github = new GithubClient({
    auth: settings.token,
    baseUrl: settings.baseUrl.replace(/\/+$/, ""),
    userAgent: "aiaudit-ingest-copilot",
    headers: { "x-github-api-version": "2022-11-28" },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
    request: {
      fetch: (url: string, init: RequestInit = {}) => {
        const timeout = AbortSignal.timeout(timeoutMs);
        return fetch(url, {
          ...init,
          signal: init.signal ? AbortSignal.any([init.signal, timeout]) : timeout,
        });
      },
    },
    throttle: {
      retryAfterBaseValue: settings.retryAfterBaseValue ?? 1000,
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
  github.hook.before("request", async (options) => {
    if (options.url.includes("/audit-log")) await auditLogSlot();
  });
  const { onTokenExpiration } = settings;
  if (onTokenExpiration) {
    github.hook.after("request", (response) => {
      const expiry = response.headers["github-authentication-token-expiration"];
      if (typeof expiry === "string") onTokenExpiration(parseTokenExpiration(expiry));
    });
  }
  return github;
}
