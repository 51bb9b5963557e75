/**
 * One HTTP POST to a SIEM destination, retried the way docs/siem.md says: network errors,
 * timeouts, 408, 429 and 5xx are tried again with exponential backoff and full jitter (or after
 * the answer's Retry-After), anything else is the destination's answer to the request itself and
 * is final. Redirects are never followed: a 3xx is a refusal, so a destination cannot send the
 * events, or the secret, somewhere the guard did not check.
 *
 * node:http(s) rather than fetch: its `lookup` option puts the address guard on every connection
 * the destination's agent opens, with no dependency.
 */
import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { ADDRESS_REFUSED, destinationLookup } from "./address-guard.ts";
import { DeliveryError } from "./types.ts";

/** How hard a destination tries a POST; every field has a default, tests inject the rest. */
export interface RetryOptions {
  /** Attempts in all, the first included. @default 6 */
  attempts?: number;
  /** One attempt, from connecting to the answer's last byte, ms. @default 10000 */
  timeoutMs?: number;
  /** First backoff ceiling, ms; doubles per attempt. @default 500 */
  baseDelayMs?: number;
  /** Longest pause between attempts, Retry-After included, ms. @default 30000 */
  maxDelayMs?: number;
  /** Waits between attempts; must return early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal | undefined) => Promise<void>;
  /** In [0, 1): the jitter. @default Math.random */
  random?: () => number;
  /** Epoch ms, for a Retry-After given as a date. @default Date.now */
  now?: () => number;
}

/** A destination's answer (body cut at 64 KiB, secrets blanked out). */
export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

/** What an answer means: delivered, worth another attempt, or final. */
export type Verdict = { outcome: "ok" } | { outcome: "retry" | "refuse"; reason: string };

export interface PostRequest {
  url: URL;
  /** Built for every attempt: a signature can carry the attempt's own time. */
  headers: () => Record<string, string>;
  body: string;
  /** The destination's own agent (`createDestinationAgent`): its pool and its address guard. */
  agent: HttpAgent;
  allowPrivate: boolean;
  /** @default `httpVerdict` */
  judge?: (answer: Answer, where: string) => Verdict;
  /** Strings never to appear in a reason, should the destination echo them back. */
  secrets?: readonly string[];
  /** Stops the attempts (the forwarder is stopping): a DeliveryError saying so. */
  signal?: AbortSignal;
}

const MAX_ANSWER_BYTES = 64 * 1024;
const EXCERPT_CHARS = 200;

/**
 * The agent of one destination: keep-alive, and its connections go through the address guard. One
 * per destination, never shared: a pooled socket of a destination allowed onto private networks
 * must not serve another destination with the same host.
 */
export function createDestinationAgent(url: URL, allowPrivate: boolean): HttpAgent {
  const options = { keepAlive: true, lookup: destinationLookup(allowPrivate) };
  return url.protocol === "https:" ? new HttpsAgent(options) : new HttpAgent(options);
}

/** The URL as reasons name it: no query or fragment, which may carry a token. */
export function describeUrl(url: URL): string {
  return `${url.origin}${url.pathname}`;
}

/** The start of an answer's body, on one line, for a reason. */
export function excerpt(body: string): string {
  const line = body.replace(/\s+/g, " ").trim();
  return line.length > EXCERPT_CHARS ? `${line.slice(0, EXCERPT_CHARS)}…` : line;
}

/** Plain HTTP semantics: 2xx delivered; 408, 429, 5xx retried; 3xx and other 4xx final. */
export function httpVerdict(answer: Answer, where: string): Verdict {
  const { status } = answer;
  if (status >= 200 && status < 300) return { outcome: "ok" };
  if (status >= 300 && status < 400) {
    return { outcome: "refuse", reason: `HTTP ${status} from ${where}: redirects are not followed` };
  }
  const reason = `HTTP ${status} from ${where}: ${excerpt(answer.body)}`;
  return { outcome: isRetryableStatus(status) ? "retry" : "refuse", reason };
}

/** 408, 429 and 5xx: the destination may take the same request later. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/**
 * POSTs `request.body` until the judge says delivered, then resolves with the answer. Throws a
 * DeliveryError (status = the last answer's, if the last attempt had one) once the judge refuses,
 * the attempts are spent, the guard refuses the address, or the signal aborts.
 */
export async function postWithRetry(request: PostRequest, options: RetryOptions = {}): Promise<Answer> {
  const attempts = Math.max(1, options.attempts ?? 6);
  const timeoutMs = options.timeoutMs ?? 10_000;
  const sleep = options.sleep ?? abortableSleep;
  const judge = request.judge ?? httpVerdict;
  const where = describeUrl(request.url);
  const redact = redactor(request.secrets ?? []);
  const { signal } = request;
  let last: { reason: string; status?: number; cause?: unknown } | undefined;

  for (let attempt = 0; attempt < attempts; attempt++) {
    if (signal?.aborted) throw aborted(where, attempt, last?.reason);
    let retryAfterMs: number | undefined;
    try {
      const answer = await once(request, timeoutMs, where);
      answer.body = redact(answer.body);
      const verdict = judge(answer, where);
      if (verdict.outcome === "ok") return answer;
      const reason = redact(verdict.reason);
      if (verdict.outcome === "refuse") throw new DeliveryError(reason, { status: answer.status });
      last = { reason, status: answer.status };
      retryAfterMs = retryAfter(answer.headers["retry-after"], options.now ?? Date.now);
    } catch (err) {
      if (err instanceof DeliveryError) throw err;
      if (signal?.aborted) throw aborted(where, attempt + 1, last?.reason);
      const reason = redact(`${describeError(err)} (${where})`);
      if ((err as NodeJS.ErrnoException).code === ADDRESS_REFUSED) throw new DeliveryError(reason);
      last = { reason, cause: err };
    }
    if (attempt + 1 < attempts) await sleep(backoff(attempt, retryAfterMs, options), signal);
  }
  const detail = last?.status === undefined ? { cause: last?.cause } : { status: last.status };
  throw new DeliveryError(`${attempts} attempts failed, last: ${last?.reason ?? "none"}`, detail);
}

/** The pause before attempt `attempt + 2`: Retry-After when given, else full jitter, both capped. */
function backoff(attempt: number, retryAfterMs: number | undefined, options: RetryOptions): number {
  const cap = options.maxDelayMs ?? 30_000;
  if (retryAfterMs !== undefined) return Math.min(cap, retryAfterMs);
  const ceiling = Math.min(cap, (options.baseDelayMs ?? 500) * 2 ** attempt);
  return Math.floor((options.random ?? Math.random)() * ceiling);
}

/** Retry-After as ms: delay-seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfter(header: string | undefined, now: () => number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now());
}

function aborted(where: string, attempts: number, lastReason: string | undefined): DeliveryError {
  const tried = attempts === 0 ? "" : ` after ${attempts} attempt${attempts === 1 ? "" : "s"}`;
  const last = lastReason === undefined ? "" : `, last: ${lastReason}`;
  return new DeliveryError(`delivery to ${where} aborted${tried}${last}`);
}

/** One attempt: resolves with any answer, rejects on a network error, a timeout or the signal. */
function once(request: PostRequest, timeoutMs: number, where: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = Buffer.from(request.body, "utf8");
    const send = request.url.protocol === "https:" ? httpsRequest : httpRequest;
    const req = send(request.url, {
      method: "POST",
      agent: request.agent,
      lookup: destinationLookup(request.allowPrivate),
      headers: { ...request.headers(), "content-length": String(body.length) },
    });
    let settled = false;
    const timer = setTimeout(
      () => req.destroy(new Error(`no answer from ${where} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onAbort = (): void => {
      req.destroy(new Error("aborted"));
    };
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const settle = (): boolean => {
      if (settled) return false;
      settled = true;
      clearTimeout(timer);
      request.signal?.removeEventListener("abort", onAbort);
      return true;
    };
    const fail = (err: unknown): void => {
      if (settle()) reject(err instanceof Error ? err : new Error(String(err)));
    };
    req.on("error", fail);
    req.on("response", (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        if (size >= MAX_ANSWER_BYTES) return;
        chunks.push(chunk);
        size += chunk.length;
      });
      res.on("error", fail);
      res.on("end", () => {
        if (!settle()) return;
        const text = Buffer.concat(chunks).subarray(0, MAX_ANSWER_BYTES).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text });
      });
    });
    req.end(body);
  });
}

/** A network error as one line; an AggregateError (both address families refused) names each. */
function describeError(err: unknown): string {
  if (err instanceof AggregateError && err.message === "") {
    return err.errors.map(describeError).join("; ");
  }
  if (err instanceof Error)
    return err.message !== "" ? err.message : ((err as NodeJS.ErrnoException).code ?? err.name);
  return String(err);
}

function redactor(secrets: readonly string[]): (text: string) => string {
  const hidden = secrets.filter((s) => s.length >= 4);
  return (text) => hidden.reduce((t, s) => t.split(s).join("[redacted]"), text);
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}
