/**
 * The `err` serializer: what of an error may reach a log line (docs/design.md §6: vendor response
 * bodies are never logged). A vendor body names people, and a truncated or HTML one may hold
 * anything; octokit's RequestError carries it twice: in `response.data` and, when the body is not
 * JSON, as the error's message itself (@octokit/request's `toErrorMessage` returns a string body
 * as it is). So, for the error and every error in its `cause` chain:
 *
 * - fields that carry a body or headers (`response`, `request`, `body`, `data`, `headers`,
 *   `config`) are dropped, at any depth;
 * - an HTTP error (one with a `request` or `response`) is described by its status, method, URL
 *   (query values withheld, except paging) and `describeBody` of its body (content type, size,
 *   hash): that replaces its message, since the message may be the body, and GitHub's own
 *   messages can name the token's user ("API rate limit exceeded for user ID …");
 * - a JSON SyntaxError loses the excerpt of the text V8 quotes in its message.
 *
 * Type, stack frames, `code`, `retryable`, `details` and the like stay. As with pino's own
 * serializer, messages and stacks of causes are appended to the error's (`: ` and `caused by: `).
 */
import { describeBody } from "@aiaudit/errors";

export interface SerializedError {
  type: string;
  message: string;
  stack: string;
  /** HTTP errors: the response status. */
  status?: number;
  method?: string;
  url?: string;
  /** HTTP errors with a body: `describeBody` of it, never the body. */
  body?: string;
  /** GitHub's `x-github-request-id`, which its support asks for. */
  requestId?: string;
  [field: string]: unknown;
}

type ErrorLike = Error & Record<string, unknown>;

/** Fields that carry a payload or headers: never copied from an error, at any depth. */
const PAYLOAD_FIELDS = new Set(["response", "request", "body", "data", "headers", "config"]);
/** Fields rebuilt from the error itself rather than copied. */
const OWN_FIELDS = new Set(["message", "stack", "name", "cause", "errors"]);
/** Query parameters whose values only page through a listing. */
const PAGING_PARAMETERS = new Set(["page", "per_page", "order", "include", "day"]);
const MAX_CAUSES = 10;
const MAX_DEPTH = 5;

const isRecord = (value: unknown): value is Record<string, unknown> =>
  value !== null && typeof value === "object";
const isErrorLike = (value: unknown): value is ErrorLike =>
  isRecord(value) && typeof value.message === "string";

export function serializeError(err: unknown): unknown {
  if (!isErrorLike(err)) return isRecord(err) ? withoutPayloads(err, 0, new WeakSet()) : err;
  const chain = [err];
  for (let cause = err.cause; isErrorLike(cause) && chain.length < MAX_CAUSES; cause = cause.cause) {
    if (chain.includes(cause)) break;
    chain.push(cause);
  }
  const parts = chain.map((e) => ({ type: typeOf(e), message: safeMessage(e), frames: framesOf(e) }));
  const out: SerializedError = {
    type: typeOf(err),
    message: parts.map((p) => p.message).join(": "),
    stack: parts
      .map((p, i) => `${i === 0 ? "" : "caused by: "}${p.type}: ${p.message}${p.frames}`)
      .join("\n"),
  };
  const http = httpFacts(err);
  if (http) {
    for (const [key, value] of Object.entries(http)) if (value !== undefined) out[key] = value;
  }
  for (const key in err) {
    if (OWN_FIELDS.has(key) || PAYLOAD_FIELDS.has(key) || key in out) continue;
    const value = err[key];
    out[key] = isErrorLike(value) ? serializeError(value) : withoutPayloads(value, 0, new WeakSet());
  }
  if (Array.isArray(err.errors)) out.aggregateErrors = err.errors.map(serializeError);
  return out;
}

function typeOf(err: ErrorLike): string {
  const ctor = (err as { constructor?: unknown }).constructor;
  return typeof ctor === "function" && ctor.name ? ctor.name : err.name;
}

/** The stack's frames only: the stack's first line repeats the message. */
function framesOf(err: ErrorLike): string {
  const frames = (typeof err.stack === "string" ? err.stack : "")
    .split("\n")
    .filter((l) => /^\s+at /.test(l));
  return frames.length === 0 ? "" : `\n${frames.join("\n")}`;
}

function safeMessage(err: ErrorLike): string {
  const http = httpFacts(err);
  if (http) {
    const where = [http.method, http.url].filter(Boolean).join(" ");
    return `HTTP ${http.status ?? "error"}${where ? ` from ${where}` : ""}${http.body ? `; body: ${http.body}` : ""}`;
  }
  // V8 quotes the start of the text it could not parse: `Unexpected token 'o', "[{"login":"oc"... is not valid JSON`.
  if (err instanceof SyntaxError || err.name === "SyntaxError") {
    const quote = err.message.indexOf('"');
    return quote < 0 ? err.message : `${err.message.slice(0, quote)}(text withheld)`;
  }
  return err.message;
}

interface HttpFacts {
  status: number | undefined;
  method: string | undefined;
  url: string | undefined;
  body: string | undefined;
  requestId: string | undefined;
}

/** What may be said of an HTTP error (octokit's RequestError and the like), or undefined if it is none. */
function httpFacts(err: ErrorLike): HttpFacts | undefined {
  const request = isRecord(err.request) ? err.request : undefined;
  const response = isRecord(err.response) ? err.response : undefined;
  if (!request && !response) return undefined;
  const headers = response && isRecord(response.headers) ? response.headers : {};
  const header = (name: string) => (typeof headers[name] === "string" ? headers[name] : undefined);
  const data = response?.data;
  const status =
    typeof err.status === "number"
      ? err.status
      : typeof response?.status === "number"
        ? response.status
        : undefined;
  const url = typeof request?.url === "string" ? request.url : response?.url;
  return {
    status,
    method: typeof request?.method === "string" ? request.method : undefined,
    url: typeof url === "string" ? safeUrl(url) : undefined,
    body:
      data === undefined || data === null || data === ""
        ? undefined
        : describeBody(data, header("content-type")),
    requestId: header("x-github-request-id"),
  };
}

/** The URL with its query values withheld, except paging: a search phrase or a signed link's signature stays out. */
function safeUrl(url: string): string {
  const [path = "", query] = url.split("?", 2);
  if (!query) return path;
  const params = query.split("&").map((pair) => {
    const [name = ""] = pair.split("=", 1);
    return PAGING_PARAMETERS.has(name) ? pair : `${name}=…`;
  });
  return `${path}?${params.join("&")}`;
}

/** A copy of a non-error value without payload fields; buffers become their size. */
function withoutPayloads(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  if (!isRecord(value)) return value;
  if (ArrayBuffer.isView(value)) return `[${value.byteLength} bytes]`;
  if (seen.has(value) || depth >= MAX_DEPTH) return "[…]";
  seen.add(value);
  if (Array.isArray(value)) return value.map((v) => withoutPayloads(v, depth + 1, seen));
  const out: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(value)) {
    if (PAYLOAD_FIELDS.has(key)) continue;
    out[key] = isErrorLike(field) ? serializeError(field) : withoutPayloads(field, depth + 1, seen);
  }
  return out;
}
