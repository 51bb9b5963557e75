/**
 * An OpenAI Administration API simulator built from simulators/openai/reference (docs/design.md
 * §8): the read endpoints an audit ingester calls, with OpenAI's cursor lists and
 * `ErrorResponse` envelope, admin keys by organization, keys that are valid but not admin keys,
 * a per-key requests-per-minute limit answering 429 with `retry-after`, injectable faults, and a
 * log of every request that tests read.
 *
 * The pipeline for one request: record it → apply a matching fault → authenticate (401 / 403) →
 * count it against the per-minute limit (429) → find the route (404) → run the handler → rewrite
 * or truncate the body. Endpoints live in src/routes/*.ts.
 */
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  authScheme,
  bearer,
  incorrectKeyMessage,
  MISSING_KEY_MESSAGE,
  NOT_ADMIN_KEY_MESSAGE,
  orgForKey,
} from "./auth.ts";
import { defaultFaultBody, faultKind, faultMatches, type Fault } from "./faults.ts";
import { apiError, compilePath, invalidUrl, type Reply } from "./http.ts";
import { routes } from "./routes/index.ts";
import type { OpenaiAuditLog, SimState, SimulatedOpenaiOrg } from "./state.ts";

export type { Fault, FaultKind, FaultMatch } from "./faults.ts";
export type * from "./state.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  /** Query parameters; a repeated one (`event_types[]`) as an array. */
  query: Record<string, string | string[]>;
  /** The status sent (0 while pending, or if the client went away before a slow answer). */
  status: number;
  /** The `Authorization` scheme only (`Bearer`), never the key. */
  authorization: string | undefined;
  /** When the request was received, from the `now()` clock (ms). */
  at: number;
  /** Set when an injected fault applied to this request. */
  fault?: string;
}

export interface OpenaiSimulatorOptions {
  /** By organization id, e.g. `org-acme`. */
  orgs: Record<string, SimulatedOpenaiOrg>;
  /** Keys valid for the API but not admin keys (e.g. `sk-proj-...`): every admin endpoint answers 403. */
  restrictedKeys?: string[];
  /** Clock in epoch ms, for the rate-limit window and the request log. @default Date.now */
  now?: () => number;
  /** Port on 127.0.0.1. @default 0 (any free port) */
  port?: number;
  /** Requests per key per minute before 429 with retry-after. @default Infinity */
  rateLimitPerMinute?: number;
}

export interface OpenaiSimulator {
  /** `http://127.0.0.1:PORT`, without `/v1`: clients use `${sim.url}/v1`. */
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly orgs: Map<string, SimulatedOpenaiOrg>;
  /** Appends events (any timestamps: late arrivals included) to an org's audit log. */
  addAuditLogs(orgId: string, events: OpenaiAuditLog[]): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const MINUTE_MS = 60_000;

export async function startOpenaiSimulator(options: OpenaiSimulatorOptions): Promise<OpenaiSimulator> {
  const now = options.now ?? Date.now;
  const orgs = new Map(Object.entries(options.orgs));
  const restricted = new Set(options.restrictedKeys ?? []);
  const perMinute = options.rateLimitPerMinute ?? Infinity;
  const windows = new Map<string, { used: number; endsAt: number }>();
  const requests: RecordedRequest[] = [];
  const injected: Fault[] = [];
  const timers = new Set<NodeJS.Timeout>();
  const compiled = routes.map((route) => ({ route, match: compilePath(route.path) }));
  const state: SimState = { orgs, now };

  function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  function takeFault(method: string, path: string, rawQuery: string): Fault | undefined {
    const fault = injected.find((f) => faultMatches(f, method, path, rawQuery));
    if (!fault) return undefined;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) injected.splice(injected.indexOf(fault), 1);
    return fault;
  }

  function send(res: ServerResponse, record: RecordedRequest, reply: Reply) {
    if (res.destroyed || res.headersSent) return;
    record.status = reply.status;
    const text = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
    const contentType =
      reply.text === undefined ? "application/json" : (reply.contentType ?? "text/plain; charset=utf-8");
    res.writeHead(reply.status, {
      "content-type": contentType,
      "content-length": String(Buffer.byteLength(text)),
      "x-request-id": `req_${randomBytes(16).toString("hex")}`,
      ...reply.headers,
    });
    res.end(text);
  }

  /** 429 once a key has made more than `rateLimitPerMinute` requests in its current minute. */
  function rateLimited(key: string): Reply | undefined {
    if (!Number.isFinite(perMinute)) return undefined;
    const t = now();
    let w = windows.get(key);
    if (!w || t >= w.endsAt) {
      w = { used: 0, endsAt: t + MINUTE_MS };
      windows.set(key, w);
    }
    w.used += 1;
    if (w.used <= perMinute) return undefined;
    const retryAfter = Math.max(1, Math.ceil((w.endsAt - t) / 1000));
    return apiError(
      429,
      `Rate limit reached for requests per min (RPM): Limit ${perMinute}, Used ${perMinute}, Requested 1. Please try again in ${retryAfter}s.`,
      { type: "requests", code: "rate_limit_exceeded", headers: { "retry-after": String(retryAfter) } },
    );
  }

  function answer(method: string, path: string, url: URL, authorization: string | undefined): Reply {
    const key = bearer(authorization);
    if (key === undefined) return apiError(401, MISSING_KEY_MESSAGE, { code: "invalid_api_key" });
    const org = orgForKey(orgs, key);
    if (!org && !restricted.has(key))
      return apiError(401, incorrectKeyMessage(key), { code: "invalid_api_key" });
    const limited = rateLimited(key);
    if (limited) return limited;
    if (!org) return apiError(403, NOT_ADMIN_KEY_MESSAGE);
    if (method !== "GET") return invalidUrl(method, path);
    for (const { route, match } of compiled) {
      const params = match(path);
      if (params) return route.handle({ params, query: url.searchParams, path, org, state });
    }
    return invalidUrl(method, path);
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, url: URL) {
    const fault = takeFault(record.method, record.path, url.search.slice(1));
    if (fault) {
      record.fault = faultKind(fault);
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.status !== undefined) {
        if (fault.text !== undefined) {
          const reply: Reply = { status: fault.status, text: fault.text };
          if (fault.contentType) reply.contentType = fault.contentType;
          if (fault.headers) reply.headers = fault.headers;
          return send(res, record, reply);
        }
        // `body: null` is a body of its own (JSON null), not "no body".
        const body = Object.hasOwn(fault, "body") ? fault.body : defaultFaultBody(fault.status);
        return send(res, record, { status: fault.status, body, headers: fault.headers ?? {} });
      }
    }
    let reply = answer(record.method, record.path, url, req.headers.authorization);
    if (fault?.rewrite && reply.status === 200) reply = { ...reply, body: fault.rewrite(reply.body) };
    if (fault?.truncate && reply.body !== undefined) {
      const text = JSON.stringify(reply.body);
      reply = {
        status: reply.status,
        text: text.slice(0, Math.floor(text.length / 2)),
        contentType: "application/json",
      };
    }
    send(res, record, reply);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const query: Record<string, string | string[]> = {};
    for (const name of new Set(url.searchParams.keys())) {
      const values = url.searchParams.getAll(name);
      query[name] = values.length === 1 ? (values[0] ?? "") : values;
    }
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      status: 0,
      authorization: authScheme(req.headers.authorization),
      at: now(),
    };
    requests.push(record);
    req.resume();
    req.on("end", () => {
      handle(req, res, record, url).catch((err: unknown) => {
        const message = `simulator error: ${err instanceof Error ? err.message : String(err)}`;
        send(res, record, apiError(500, message, { type: "server_error" }));
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    orgs,
    addAuditLogs(orgId, events) {
      const org = orgs.get(orgId);
      if (!org) throw new Error(`unknown org: ${orgId}`);
      org.auditLogs = [...org.auditLogs, ...events];
    },
    injectFault: (fault) => void injected.push({ ...fault }),
    clearFaults: () => void injected.splice(0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
