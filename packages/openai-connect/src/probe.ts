/**
 * Checks an OpenAI admin key before it is stored (docs/design.md §6): one `GET
 * /organization/users?limit=1`, the cheapest admin read, without retries, and any failure turned
 * into a message a person can act on. What the statuses mean (simulators/openai/reference/README.md
 * §1 "Error envelope"): 401 a key that is wrong, revoked or not accepted; 403 a key without admin
 * rights (only Organization Owners can use admin keys) or a region OpenAI does not serve; 429 a
 * rate limit with `retry-after` in seconds. A 404, or an answer that is not JSON, means the base
 * URL is not OpenAI's API (a proxy, a login page, a missing `/v1`). A message never holds the key.
 */
import { APIConnectionTimeoutError, APIError } from "openai";
import { describeError } from "@aiaudit/errors";
import { createOpenaiClient } from "./client.ts";
import { ADMIN_KEYS_PAGE } from "./key.ts";

export interface ProbeTarget {
  /** The API base URL with its `/v1`. */
  baseUrl: string;
  adminKey: string;
  /** Time the request may take before the probe gives up. @default 15000 */
  timeoutMs?: number;
}

export type ProbeResult = { ok: true } | { ok: false; status: number; message: string };

/**
 * What a 401 means: the same words at connect time and when the ingest service finds the key
 * refused while polling (it writes them as the status_message of the BROKEN connection).
 */
export const REJECTED_ADMIN_KEY =
  "OpenAI rejected the admin key (401): it is mistyped, revoked or expired, or it is not an Organization Admin Key. " +
  `An Organization Owner creates a new one at platform.openai.com → Settings → Organization → Admin keys (${ADMIN_KEYS_PAGE}); then connect again with aiaudit connect openai.`;

/**
 * What an ACTIVE connection's status_message says while the organization's audit log cannot be
 * read because logging is off ("To log events, you must activate logging in the Organization
 * Settings"; once on, it cannot be switched off: reference §2.6).
 */
export const AUDIT_LOGGING_OFF =
  "Audit logging is switched off in this OpenAI organization's settings, so no audit events can be read. " +
  "An Organization Owner switches it on at platform.openai.com → Settings → Organization → Data controls (Audit logging: Enable); " +
  "events are recorded from then on. Users, projects and API keys are collected meanwhile.";

const DEFAULT_TIMEOUT_MS = 15_000;

const isJson = (contentType: string | null | undefined) =>
  contentType != null && /\bjson\b/i.test(contentType);

/** A vendor message may quote part of a key ("Incorrect API key provided: sk-ab***cd"): never repeat it. */
const withoutKeys = (text: string) => text.replace(/\bsk-[^\s"'.,;)]*/g, "(key)");

/** A base URL that does not answer like OpenAI's API: a web page, a proxy, a typo, a missing `/v1`. */
function notTheApi(baseUrl: string, answered: string): string {
  const hint = /\/v1\/*$/.test(baseUrl) ? "" : " (it should end in /v1)";
  return (
    `${baseUrl} does not answer like OpenAI's API (${answered})` +
    ` — check --base-url${hint}: https://api.openai.com/v1, or a proxy's URL up to and including /v1`
  );
}

/** The status, headers and body of an SDK error that carries an answer; undefined when none came. */
function answerOf(
  err: unknown,
): { status: number; headers: Headers | undefined; error: unknown } | undefined {
  if (!(err instanceof APIError)) return undefined;
  // `instanceof` narrows to APIError<any, any, any>: name the fields' types.
  const status = err.status as number | undefined;
  if (status === undefined) return undefined;
  return { status, headers: err.headers as Headers | undefined, error: err.error as unknown };
}

/** Why a request got no answer at all, from the error and its causes; undefined when it got one. */
function unreachable(err: unknown, timeoutMs: number): string | undefined {
  if (answerOf(err) !== undefined) return undefined;
  if (err instanceof APIConnectionTimeoutError) return `no answer within ${timeoutMs / 1000} s`;
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 6; e = e.cause) chain.push(e);
  const codes = chain.map((e) => (e as NodeJS.ErrnoException).code ?? "");
  const has = (...wanted: string[]) => codes.some((code) => wanted.includes(code));
  const tls = codes.find((code) => /CERT|SSL|TLS/.test(code));
  if (chain.some((e) => e.name === "TimeoutError") || has("ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT"))
    return `no answer within ${timeoutMs / 1000} s`;
  if (has("ECONNREFUSED")) return "connection refused";
  if (has("ENOTFOUND", "EAI_AGAIN")) return "the host name does not resolve";
  if (has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET")) return "the connection was closed";
  if (tls !== undefined) return `its TLS certificate is not accepted (${tls})`;
  // Any other failure without an answer (e.g. a port fetch refuses to use): the innermost error.
  if (err instanceof APIError) return chain[chain.length - 1]?.message ?? err.message;
  return undefined;
}

/** `retry-after-ms`, then `retry-after` (seconds or an HTTP date), as whole seconds from now. */
function retryAfterSeconds(headers: Headers | undefined): number | undefined {
  const ms = Number(headers?.get("retry-after-ms") ?? NaN);
  if (Number.isFinite(ms) && ms >= 0) return Math.ceil(ms / 1000);
  const value = headers?.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.ceil(seconds);
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - Date.now()) / 1000));
}

/** Maps a failed request to the message a person can act on. */
export function explain(err: unknown, target: ProbeTarget): { status: number; message: string } {
  const why = unreachable(err, target.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (why !== undefined)
    return { status: 0, message: `cannot reach ${target.baseUrl}: ${why} — check --base-url` };
  const answer = answerOf(err);
  if (answer === undefined)
    return {
      status: 0,
      message: `the check of ${target.baseUrl} failed: ${withoutKeys(describeError(err))}`,
    };
  const { status, headers, error } = answer;
  const contentType = headers?.get("content-type");
  if (status === 404 || !isJson(contentType))
    return {
      status,
      message: notTheApi(target.baseUrl, `it answered ${status} with ${contentType ?? "no content type"}`),
    };
  const said =
    typeof error === "object" && error !== null ? (error as { message?: unknown }).message : undefined;
  const quoted = typeof said === "string" && said ? ` OpenAI said: "${withoutKeys(said)}"` : "";
  switch (status) {
    case 401:
      return { status: 401, message: REJECTED_ADMIN_KEY };
    case 403:
      return {
        status: 403,
        message:
          "OpenAI refused the key at the admin endpoints (403): it has no admin rights — it is a restricted key, " +
          "or its owner is not an Organization Owner of the organization (only Organization Owners can use admin keys). " +
          `An Organization Owner creates an admin key at ${ADMIN_KEYS_PAGE}.${quoted}`,
      };
    case 429: {
      const seconds = retryAfterSeconds(headers);
      return {
        status: 429,
        message: `OpenAI rate-limited the check (429); retry in ${seconds === undefined ? "a minute" : `${seconds} seconds`}.${quoted}`,
      };
    }
    default:
      return {
        status,
        message: `OpenAI answered ${status} when listing the organization's users; try again later.${quoted}`,
      };
  }
}

export async function probeOpenai(target: ProbeTarget): Promise<ProbeResult> {
  const client = createOpenaiClient({
    baseUrl: target.baseUrl,
    adminKey: target.adminKey,
    timeoutMs: target.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    maxRetries: 0,
  });
  try {
    // The raw answer, not the SDK's page: the SDK hands a non-JSON 200 (a login page, a proxy's
    // greeting) through as text, and any JSON as a page. Only the documented list counts as OpenAI.
    const response = await client.admin.organization.users.list({ limit: 1 }).asResponse();
    const answered = (what: string) => ({
      ok: false as const,
      status: response.status,
      message: notTheApi(target.baseUrl, `it answered ${response.status} with ${what}`),
    });
    const contentType = response.headers.get("content-type");
    if (!isJson(contentType)) return answered(contentType ?? "no content type");
    let body: unknown;
    try {
      body = JSON.parse(await response.text());
    } catch {
      return answered("a JSON content type and a body that is not JSON");
    }
    if (typeof body !== "object" || body === null || !Array.isArray((body as { data?: unknown }).data))
      return answered("JSON that is not a list of users");
    return { ok: true };
  } catch (err) {
    return { ok: false, ...explain(err, target) };
  }
}
