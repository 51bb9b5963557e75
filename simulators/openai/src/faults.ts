/**
 * Injectable faults, the same model as the GitHub simulator's. A fault matches a request by path
 * (exact string or RegExp, including `/v1`), optionally by method and by a substring of the query
 * string, and fires `times` times (default 1). It either answers with a status of its own
 * (optionally after `delayMs`, with a JSON `body` or a raw `text`), or lets the request through
 * after `delayMs` (a slow response), with its JSON body cut in half (`truncate`) or replaced by
 * `rewrite(body)`. The model and the common constructors are @aiaudit/sim-kit's; OpenAI's kinds and
 * `ErrorResponse` bodies are here.
 */
import { commonFaults, pickMatch, type FaultMatch, type SimFault } from "@aiaudit/sim-kit";

export type FaultKind = "status" | "rate-limited" | "slow" | "truncated" | "html" | "rewrite";

export type Fault = SimFault<FaultKind>;

export type { FaultMatch };

/** What a proxy or an SSO login page answers with a 200: HTML, not JSON. */
export const HTML_PAGE =
  '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Log in | OpenAI</title></head>' +
  "<body><main>Log in to continue to OpenAI Platform</main></body></html>\n";

/** Constructors for the usual faults; pass the result to `sim.injectFault`. */
export const faults = {
  /** Any status (500, 502, 503, 404...) with an `ErrorResponse` unless `body` is given. */
  status(
    path: string | RegExp,
    status: number,
    options: FaultMatch & { body?: unknown; headers?: Record<string, string> } = {},
  ): Fault {
    const f: Fault = { path, status, kind: "status", ...pickMatch(options) };
    if (Object.hasOwn(options, "body")) f.body = options.body;
    if (options.headers) f.headers = options.headers;
    return f;
  },
  /** 429 "Rate limit reached for requests" with `retry-after` in seconds. */
  rateLimited(path: string | RegExp, retryAfterSeconds: number, options?: FaultMatch): Fault {
    return {
      path,
      ...pickMatch(options),
      kind: "rate-limited",
      status: 429,
      headers: { "retry-after": String(retryAfterSeconds) },
    };
  },
  ...commonFaults<Fault>(HTML_PAGE),
};

export function faultKind(f: Fault): FaultKind {
  if (f.kind) return f.kind;
  if (f.status !== undefined) return f.status === 429 ? "rate-limited" : "status";
  if (f.truncate) return "truncated";
  if (f.rewrite) return "rewrite";
  return "slow";
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
