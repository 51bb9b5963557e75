/**
 * Injectable faults. A fault matches a request by path (exact string or RegExp), optionally by
 * method and by a substring of the query string, and fires `times` times (default 1). It either
 * answers with a status of its own (optionally after `delayMs`, with a JSON `body` or a raw
 * `text`), or lets the request through after `delayMs` (a slow response), with its JSON body
 * cut in half (`truncate`) or replaced by `rewrite(body)`.
 */

export type FaultKind =
  | "status"
  | "slow"
  | "truncated"
  | "secondary-rate-limit"
  | "primary-rate-limit"
  | "html"
  | "body"
  | "rewrite";

export interface Fault {
  /** Request path, e.g. `/orgs/acme/audit-log`, or a RegExp tested against the path. */
  path: string | RegExp;
  /** Only requests with this method (case-insensitive). Omitted: any method. */
  method?: string;
  /** Only requests whose query string contains this (raw or decoded), e.g. `after=`. */
  query?: string;
  /** How many matching requests the fault applies to. @default 1 (Infinity: until cleared) */
  times?: number;
  /** Answer with this status instead of the real response. */
  status?: number;
  /** Extra headers on the fault's own response (e.g. retry-after). */
  headers?: Record<string, string>;
  /** Body of the fault's own response, as JSON. @default a basic-error `{ message }` */
  body?: unknown;
  /** A raw body for the fault's own response instead of JSON (with `contentType`). */
  text?: string;
  /** Content type of `text`. @default "text/plain; charset=utf-8" */
  contentType?: string;
  /** Wait this long first; without `status` the request is then answered normally. */
  delayMs?: number;
  /** Answer normally but with the body cut in half (status 200 stays 200). */
  truncate?: boolean;
  /**
   * Answer normally (status, headers, Link) but with the JSON body replaced by what this returns
   * for the real body, e.g. a `total_seats` that disagrees with the seats. Applies to 200s only.
   */
  rewrite?: (body: unknown) => unknown;
  /**
   * Primary-limit exhaustion: headers `x-ratelimit-remaining: 0` and `x-ratelimit-reset` = now +
   * this many seconds, computed when the fault fires.
   */
  resetInSeconds?: number;
  /** Recorded in `sim.requests[].fault`. Derived from the other fields when omitted. */
  kind?: FaultKind;
}

export interface FaultMatch {
  method?: string;
  query?: string;
  times?: number;
}

export const SECONDARY_RATE_LIMIT_MESSAGE =
  "You have exceeded a secondary rate limit. Please wait a few minutes before you try again.";

export const RESOURCE_NOT_ACCESSIBLE = "Resource not accessible by personal access token";

const RATE_LIMIT_DOCS =
  "https://docs.github.com/enterprise-cloud@latest/rest/using-the-rest-api/rate-limits-for-the-rest-api";

function match(m: FaultMatch | undefined): FaultMatch {
  const out: FaultMatch = {};
  if (m?.method !== undefined) out.method = m.method;
  if (m?.query !== undefined) out.query = m.query;
  if (m?.times !== undefined) out.times = m.times;
  return out;
}

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
    const f: Fault = { path, status, kind: "status", ...match(options) };
    if (options.body !== undefined) f.body = options.body;
    if (options.headers) f.headers = options.headers;
    return f;
  },
  serverError(path: string | RegExp, status = 500, options?: FaultMatch): Fault {
    const message =
      status === 502 ? "Server Error" : status === 503 ? "Service Unavailable" : "Internal Server Error";
    return faults.status(path, status, { ...match(options), body: { message } });
  },
  badCredentials(path: string | RegExp, options?: FaultMatch): Fault {
    return faults.status(path, 401, {
      ...match(options),
      body: { message: "Bad credentials", documentation_url: "https://docs.github.com/rest", status: "401" },
    });
  },
  notFound(path: string | RegExp, options?: FaultMatch): Fault {
    return faults.status(path, 404, {
      ...match(options),
      body: { message: "Not Found", documentation_url: "https://docs.github.com/rest", status: "404" },
    });
  },
  /** 403 "Resource not accessible by personal access token" with x-accepted-github-permissions. */
  forbidden(
    path: string | RegExp,
    options: FaultMatch & { permissions?: string; message?: string } = {},
  ): Fault {
    return faults.status(path, 403, {
      ...match(options),
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
      ...match(options),
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
      ...match(options),
      kind: "primary-rate-limit",
      status: options.status ?? 403,
      resetInSeconds: options.resetInSeconds ?? 60,
    };
  },
  /** Waits `ms`, then answers normally: lets a client's timeout fire. */
  slow(path: string | RegExp, ms: number, options?: FaultMatch): Fault {
    return { path, ...match(options), kind: "slow", delayMs: ms };
  },
  /** Answers normally with the JSON body cut in half. */
  truncated(path: string | RegExp, options?: FaultMatch): Fault {
    return { path, ...match(options), kind: "truncated", truncate: true };
  },
  /** 200 `text/html` (a login page by default): a body that is not JSON at all. */
  html(path: string | RegExp, options: FaultMatch & { status?: number; text?: string } = {}): Fault {
    return {
      path,
      ...match(options),
      kind: "html",
      status: options.status ?? 200,
      text: options.text ?? HTML_PAGE,
      contentType: "text/html; charset=utf-8",
    };
  },
  /**
   * 200 with this JSON body instead of the real one: valid JSON of the wrong shape (an object
   * where an array belongs, `{}` without `seats`, `null`...). No Link header.
   */
  body(path: string | RegExp, body: unknown, options?: FaultMatch): Fault {
    return { path, ...match(options), kind: "body", status: 200, body };
  },
  /**
   * The real answer with its JSON body passed through `fn`: keeps the Link header, so a
   * traversal goes on (e.g. `(b) => ({ ...b, total_seats: 999 })` on one seats page).
   */
  rewrite(path: string | RegExp, fn: (body: unknown) => unknown, options?: FaultMatch): Fault {
    return { path, ...match(options), kind: "rewrite", rewrite: fn };
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

export function faultMatches(f: Fault, method: string, path: string, rawQuery: string): boolean {
  if (typeof f.path === "string" ? f.path !== path : !f.path.test(path)) return false;
  if (f.method !== undefined && f.method.toUpperCase() !== method.toUpperCase()) return false;
  if (f.query !== undefined) {
    let decoded = rawQuery;
    try {
      decoded = decodeURIComponent(rawQuery.replace(/\+/g, " "));
    } catch {
      // keep the raw form
    }
    if (!rawQuery.includes(f.query) && !decoded.includes(f.query)) return false;
  }
  return true;
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
