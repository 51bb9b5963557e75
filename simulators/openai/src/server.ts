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
import type { IncomingMessage, ServerResponse } from "node:http";
import {
  faultQueue,
  faultReply,
  routeTable,
  startSimServer,
  writeResponse,
  type RecordedRequestBase,
} from "@aiaudit/sim-kit";
import {
  authScheme,
  bearer,
  incorrectKeyMessage,
  MISSING_KEY_MESSAGE,
  NOT_ADMIN_KEY_MESSAGE,
  orgForKey,
} from "./auth.ts";
import { defaultFaultBody, faultKind, type Fault } from "./faults.ts";
import { apiError, invalidUrl, type Reply } from "./http.ts";
import { routes } from "./routes/index.ts";
import type { OpenaiAuditLog, SimState, SimulatedOpenaiOrg } from "./state.ts";

export type { Fault, FaultKind, FaultMatch } from "./faults.ts";
export type * from "./state.ts";

export interface RecordedRequest extends RecordedRequestBase {
  /** Query parameters; a repeated one (`event_types[]`) as an array. */
  query: Record<string, string | string[]>;
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
  const injected = faultQueue<Fault>(faultKind);
  const findRoute = routeTable(routes);
  const state: SimState = { orgs, now };

  function send(res: ServerResponse, record: RecordedRequest, reply: Reply) {
    const text = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
    const contentType =
      reply.text === undefined ? "application/json" : (reply.contentType ?? "text/plain; charset=utf-8");
    const headers = {
      "content-type": contentType,
      "x-request-id": `req_${randomBytes(16).toString("hex")}`,
      ...reply.headers,
    };
    writeResponse(res, record, reply.status, headers, text);
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
    const found = findRoute(path);
    if (!found) return invalidUrl(method, path);
    return found.route.handle({ params: found.params, query: url.searchParams, path, org, state });
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, url: URL) {
    const fault = await injected.apply(record, url.search.slice(1));
    const own = fault && faultReply(fault, defaultFaultBody);
    if (own) return send(res, record, own);
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

  const server = await startSimServer<RecordedRequest>(options.port ?? 0, {
    record(req, url) {
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
      return record;
    },
    handle,
    fail: (res, record, message) => send(res, record, apiError(500, message, { type: "server_error" })),
  });

  return {
    url: server.url,
    requests,
    orgs,
    addAuditLogs(orgId, events) {
      const org = orgs.get(orgId);
      if (!org) throw new Error(`unknown org: ${orgId}`);
      org.auditLogs = [...org.auditLogs, ...events];
    },
    injectFault: injected.inject,
    clearFaults: injected.clear,
    close: () => {
      injected.cancel();
      return server.close();
    },
  };
}
