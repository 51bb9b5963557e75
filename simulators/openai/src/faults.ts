/**
 * Injectable faults, the same model as the GitHub simulator's. A fault matches a request by path
 * (exact string or RegExp, including `/v1`), optionally by method and by a substring of the query
 * string, and fires `times` times (default 1). It either answers with a status of its own
 * (optionally after `delayMs`, with a JSON `body` or a raw `text`), or lets the request through
 * after `delayMs` (a slow response), with its JSON body cut in half (`truncate`) or replaced by
 * `rewrite(body)`.
 */

export type FaultKind = "status" | "rate-limited" | "slow" | "truncated" | "html" | "rewrite";

export interface Fault {
  /** Request path, e.g. `/v1/organization/audit_logs`, or a RegExp tested against the path. */
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
  /** Body of the fault's own response, as JSON. @default an `ErrorResponse` for the status */
  body?: unknown;
  /** A raw body for the fault's own response instead of JSON (with `contentType`). */
  text?: string;
  /** Content type of `text`. @default "text/plain; charset=utf-8" */
  contentType?: string;
  /** Wait this long first; without `status` the request is then answered normally. */
  delayMs?: number;
  /** Answer normally but with the body cut in half (status 200 stays 200). */
  truncate?: boolean;
  /** Answer normally but with the JSON body replaced by what this returns for it. 200s only. */
  rewrite?: (body: unknown) => unknown;
  /** Recorded in `sim.requests[].fault`. Derived from the other fields when omitted. */
  kind?: FaultKind;
}

export interface FaultMatch {
  method?: string;
  query?: string;
  times?: number;
}

/** What a proxy or an SSO login page answers with a 200: HTML, not JSON. */
export const HTML_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Log in | OpenAI</title></head>' +
  "<body><main>Log in to continue to OpenAI Platform</main></body></html>\n";

function match(m: FaultMatch | undefined): FaultMatch {
  const out: FaultMatch = {};
  if (m?.method !== undefined) out.method = m.method;
  if (m?.query !== undefined) out.query = m.query;
  if (m?.times !== undefined) out.times = m.times;
  return out;
}

/** Constructors for the usual faults; pass the result to `sim.injectFault`. */
export const faults = {
  /** Any status (500, 502, 503, 404...) with an `ErrorResponse` unless `body` is given. */
  status(
    path: string | RegExp,
    status: number,
    options: FaultMatch & { body?: unknown; headers?: Record<string, string> } = {},
  ): Fault {
    const f: Fault = { path, status, kind: "status", ...match(options) };
    if (Object.hasOwn(options, "body")) f.body = options.body;
    if (options.headers) f.headers = options.headers;
    return f;
  },
  /** 429 "Rate limit reached for requests" with `retry-after` in seconds. */
  rateLimited(path: string | RegExp, retryAfterSeconds: number, options?: FaultMatch): Fault {
    return {
      path,
      ...match(options),
      kind: "rate-limited",
      status: 429,
      headers: { "retry-after": String(retryAfterSeconds) },
    };
  },
  /** Waits `delayMs`, then answers normally: lets a client's timeout fire. */
  slow(path: string | RegExp, delayMs: number, options?: FaultMatch): Fault {
    return { path, ...match(options), kind: "slow", delayMs };
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
  /** The real answer with its JSON body passed through `fn`, e.g. an object where `data` belongs. */
  rewrite(path: string | RegExp, fn: (body: unknown) => unknown, options?: FaultMatch): Fault {
    return { path, ...match(options), kind: "rewrite", rewrite: fn };
  },
};

export function faultKind(f: Fault): FaultKind {
  if (f.kind) return f.kind;
  if (f.status !== undefined) return f.status === 429 ? "rate-limited" : "status";
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

/** The `ErrorResponse` a status fault answers with when it names no body (wording from OpenAI's errors). */
export function defaultFaultBody(status: number): unknown {
  const error = (type: string, message: string, code: string | null = null) => ({
    error: { type, message, param: null, code },
  });
  if (status === 429) return error("requests", "Rate limit reached for requests", "rate_limit_exceeded");
  if (status === 503) return error("server_error", "The server is overloaded or not ready yet.");
  if (status >= 500)
    return error("server_error", "The server had an error while processing your request. Sorry about that!");
  return error("invalid_request_error", `simulated ${status}`);
}
