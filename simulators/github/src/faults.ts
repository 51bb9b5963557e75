/**
 * Injectable faults. A fault matches a request by path (exact string or RegExp), optionally by
 * method and by a substring of the query string, and fires `times` times (default 1). It either
 * answers with a status of its own (optionally after `delayMs`, with a JSON `body` or a raw
 * `text`), or lets the request through after `delayMs` (a slow response), with its JSON body
 * cut in half (`truncate`) or replaced by `rewrite(body)`. The model and the common constructors are
 * @aiaudit/sim-kit's; GitHub's kinds, error bodies and rate-limit faults are here.
 */
import { commonFaults, pickMatch, type FaultMatch, type SimFault } from "@aiaudit/sim-kit";

export type FaultKind =
  | "status"
  | "slow"
  | "truncated"
  | "secondary-rate-limit"
  | "primary-rate-limit"
  | "html"
  | "body"
  | "rewrite";

export interface Fault extends SimFault<FaultKind> {
  /**
   * Primary-limit exhaustion: headers `x-ratelimit-remaining: 0` and `x-ratelimit-reset` = now +
   * this many seconds, computed when the fault fires.
   */
  resetInSeconds?: number;
}

export type { FaultMatch };

export const SECONDARY_RATE_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

export const RESOURCE_NOT_ACCESSIBLE = "Resource not accessible by personal access token";

const RATE_LIMIT_DOCS =
  "https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/rate-limits-for-the-rest-api";

/**
 * What a proxy, a captive portal or an SSO login page answers with a 200: HTML, not JSON (GitHub's
 * own error pages look alike). A client that trusts the status reads it as data.
 */
export const HTML_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Sign in · GitHub</title></head>' +
  '<body><div class="auth-form">Sign in to continue to GitHub</div></body></html>\n';

/** Constructors for the usual faults; pass the result to `sim.injectFault`. */
export const faults = {
  /** Any status with an optional body and headers (500, 502, 404...). */
  status(
    path: string | RegExp,
    status: number,
    options: FaultMatch & { body?: unknown; headers?: Record<string, string> } = {},
  ): Fault {
    const f: Fault = { path, status, kind: "status", ...pickMatch(options) };
    if (options.body !== undefined) f.body = options.body;
    if (options.headers) f.headers = options.headers;
    return f;
  },
  serverError(path: string | RegExp, status = 500, options?: FaultMatch): Fault {
    const message =
      status === 502 ? "Server Error" : status === 503 ? "Service Unavailable" : "Internal Server Error";
    return faults.status(path, status, { ...pickMatch(options), body: { message } });
  },
  badCredentials(path: string | RegExp, options?: FaultMatch): Fault {
    return faults.status(path, 401, {
      ...pickMatch(options),
      body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" },
    });
  },
  notFound(path: string | RegExp, options?: FaultMatch): Fault {
    return faults.status(path, 404, {
      ...pickMatch(options),
      body: { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
    });
  },
  /** 403 "Resource not accessible by personal access token" with x-accepted-github-permissions. */
  forbidden(
    path: string | RegExp,
    options: FaultMatch & { permissions?: string; message?: string } = {},
  ): Fault {
    return faults.status(path, 403, {
      ...pickMatch(options),
      headers: {
        "x-accepted-github-permissions": options.permissions ?? "members=read; administration=read",
      },
      body: {
        message: options.message ?? RESOURCE_NOT_ACCESSIBLE,
        documentation_url: "https://docs.github.com/rest",
        status: "403",
      },
    });
  },
  /** 403 (or 429) naming the secondary rate limit, with `retry-after`. */
  secondaryRateLimit(
    options: FaultMatch & { path: string | RegExp; retryAfterSeconds?: number; status?: 403 | 429 },
  ): Fault {
    return {
      path: options.path,
      ...pickMatch(options),
      kind: "secondary-rate-limit",
      status: options.status ?? 403,
      headers: { "retry-after": String(options.retryAfterSeconds ?? 60) },
    };
  },
  /** 403 (or 429) "API rate limit exceeded for user ID …", remaining 0, reset = now + N s. */
  primaryRateLimit(
    options: FaultMatch & { path: string | RegExp; resetInSeconds?: number; status?: 403 | 429 },
  ): Fault {
    return {
      path: options.path,
      ...pickMatch(options),
      kind: "primary-rate-limit",
      status: options.status ?? 403,
      resetInSeconds: options.resetInSeconds ?? 60,
    };
  },
  ...commonFaults<Fault>(HTML_PAGE),
  /**
   * 200 with this JSON body instead of the real one: valid JSON of the wrong shape (an object
   * where an array belongs, `{}` without `seats`, `null`...). No Link header.
   */
  body(path: string | RegExp, body: unknown, options?: FaultMatch): Fault {
    return { path, ...pickMatch(options), kind: "body", status: 200, body };
  },
};

export function faultKind(f: Fault): FaultKind {
  if (f.kind) return f.kind;
  if (f.resetInSeconds !== undefined) return "primary-rate-limit";
  if (f.status !== undefined) return "status";
  if (f.truncate) return "truncated";
  if (f.rewrite) return "rewrite";
  return "slow";
}

/** The body a fault answers with when it names none. */
export function defaultFaultBody(
  f: Fault,
  status: number,
  requestId: string,
  userId: number | undefined,
): unknown {
  const support = `If you reach out to GitHub Support for help, please include the request ID ${requestId}.`;
  switch (faultKind(f)) {
    case "secondary-rate-limit":
      return {
        message: `${SECONDARY_RATE_LIMIT_MESSAGE} ${support}`,
        documentation_url: `${RATE_LIMIT_DOCS}#about-secondary-rate-limits`,
      };
    case "primary-rate-limit":
      return {
        message: `API rate limit exceeded for user ID ${userId ?? 1}. ${support}`,
        documentation_url: `${RATE_LIMIT_DOCS}#about-the-primary-rate-limit`,
      };
    default:
      return { message: `simulated ${status}` };
  }
}

export { RATE_LIMIT_DOCS };
