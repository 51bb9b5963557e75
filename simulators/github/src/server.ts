/**
 * A GitHub REST API simulator built from simulators/github/reference (docs/design.md §8): the
 * endpoints the ingest service calls, with GitHub's pagination (`Link` header, page or cursor),
 * primary and audit-log rate limits, ETags with 304 for conditional requests, bearer tokens with
 * classic scopes and expiry, injectable faults, and a log of every request that tests read.
 *
 * The pipeline for one request: record it → apply a matching fault → (public routes skip to
 * the handler) check User-Agent, API version and token → count it against the primary limit →
 * find the route → check scopes and the route's query limit → run the handler → ETag / 304.
 * Endpoints live in src/routes/*.ts.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import {
  authScheme,
  bearer,
  expirationHeader,
  hasScope,
  registerTokens,
  type RegisteredToken,
  type TokenSpec,
} from "./auth.ts";
import { defaultFaultBody, faultKind, faultMatches, RESOURCE_NOT_ACCESSIBLE, type Fault } from "./faults.ts";
import type { GithubSeat } from "./fixtures.ts";
import { compilePath, error, notFound, type Reply, type Route, type RouteRequest } from "./http.ts";
import { routes as allRoutes } from "./routes/index.ts";
import type {
  AuditEvent,
  MetricsReports,
  SimState,
  SimulatedEnterprise,
  SimulatedOrg,
  UsageRecord,
} from "./state.ts";

export type { Fault, FaultKind, FaultMatch } from "./faults.ts";
export type { TokenOptions, TokenSpec } from "./auth.ts";
export type {
  AuditEvent,
  CopilotOrgSettings,
  MetricsReports,
  SimulatedEnterprise,
  SimulatedOrg,
  UsageRecord,
} from "./state.ts";

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The status sent (0 while pending, or if the client went away before a slow answer). */
  status: number;
  ifNoneMatch: string | undefined;
  /** The `Authorization` scheme only (`Bearer`), never the token. */
  authorization: string | undefined;
  /** When the request was received, from the `now()` clock (ms). */
  at: number;
  /** The `x-github-request-id` sent back. */
  requestId: string;
  /** Set when an injected fault applied to this request. */
  fault?: string;
}

export interface GithubSimulatorOptions {
  /** Tokens that authenticate; any other token gets 401. Strings have every scope. */
  tokens: TokenSpec[];
  orgs?: Record<string, SimulatedOrg>;
  enterprises?: Record<string, SimulatedEnterprise>;
  /** Primary rate limit per token and hour. @default 5000 */
  rateLimit?: number;
  /** Queries per token and hour on each audit-log endpoint. @default 1750 */
  auditLogLimit?: number;
  /** Clock in epoch ms, for rate-limit windows, token expiry, usage-record age and link expiry. @default Date.now */
  now?: () => number;
  /** How long a metrics report download link is valid. @default 3_600_000 (1 h) */
  downloadLinkTtlMs?: number;
  /** NDJSON rows per report file; more rows give several `download_links`. @default 1000 */
  reportRowsPerFile?: number;
  /** Usage records older than this are not served. @default 172_800_000 (48 h) */
  usageRecordsWindowMs?: number;
  /** Port on 127.0.0.1 (a fixed one lets processes started elsewhere find it). @default 0 (any free port) */
  port?: number;
}

export interface GithubSimulator {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly orgs: Map<string, SimulatedOrg>;
  readonly enterprises: Map<string, SimulatedEnterprise>;
  setSeats(org: string, seats: GithubSeat[]): void;
  /** Appends events (any timestamps: late arrivals included) to an org's or enterprise's audit log. */
  addAuditEvents(orgOrEnterprise: string, events: AuditEvent[], options?: { enterprise?: boolean }): void;
  addUsageRecords(enterprise: string, records: UsageRecord[]): void;
  /** Sets the NDJSON rows of one report (`users-1-day`, `organization-1-day`, ...) for a day. */
  setReport(
    owner: string,
    report: string,
    day: string,
    rows: Record<string, unknown>[],
    options?: { enterprise?: boolean },
  ): void;
  injectFault(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const API_VERSIONS = new Set(["2022-11-28", "2026-03-10"]);
const NO_USER_AGENT =
  "Request forbidden by administrative rules. Please make sure your request has a User-Agent header";
const HOUR_MS = 3_600_000;

interface Window {
  used: number;
  /** Epoch ms when the window ends. */
  endsAt: number;
}

export async function startGithubSimulator(options: GithubSimulatorOptions): Promise<GithubSimulator> {
  const now = options.now ?? Date.now;
  const orgs = new Map(Object.entries(options.orgs ?? {}));
  const enterprises = new Map(Object.entries(options.enterprises ?? {}));
  const tokens = registerTokens(options.tokens);
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const limit = options.rateLimit ?? 5000;
  const auditLogLimit = options.auditLogLimit ?? 1750;
  const primary = new Map<string, Window>();
  const buckets = new Map<string, Window>();
  const timers = new Set<NodeJS.Timeout>();
  const secret = randomBytes(32);
  const compiled = allRoutes.map((route) => ({ route, match: compilePath(route.path) }));
  let sequence = 0;
  let baseUrl = "";

  const state: SimState = {
    orgs,
    enterprises,
    get baseUrl() {
      return baseUrl;
    },
    now,
    downloadLinkTtlMs: options.downloadLinkTtlMs ?? HOUR_MS,
    reportRowsPerFile: options.reportRowsPerFile ?? 1000,
    usageRecordsWindowMs: options.usageRecordsWindowMs ?? 48 * HOUR_MS,
    sign: (payload) => createHmac("sha256", secret).update(payload).digest("base64url"),
    served: new Map(),
  };

  function windowFor(map: Map<string, Window>, key: string): Window {
    const t = now();
    let w = map.get(key);
    if (!w || t >= w.endsAt) {
      w = { used: 0, endsAt: t + HOUR_MS };
      map.set(key, w);
    }
    return w;
  }

  function rateHeaders(w: Window): Record<string, string> {
    return {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - w.used)),
      "x-ratelimit-used": String(w.used),
      "x-ratelimit-reset": String(Math.ceil(w.endsAt / 1000)),
      "x-ratelimit-resource": "core",
    };
  }

  function requestId(): string {
    sequence += 1;
    const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, "0");
    return `${hex(process.pid & 0xffff, 4)}:${hex(sequence, 6)}:${randomBytes(3).toString("hex").toUpperCase()}:${hex(Math.floor(now() / 1000) & 0xffffffff, 8)}`;
  }

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
    const fault = faults.find((f) => faultMatches(f, method, path, rawQuery));
    if (!fault) return undefined;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
    return fault;
  }

  function write(
    res: ServerResponse,
    record: RecordedRequest,
    status: number,
    headers: Record<string, string>,
    text?: string,
  ) {
    if (res.destroyed || res.headersSent) return;
    record.status = status;
    const all: Record<string, string> = {
      "x-github-request-id": record.requestId,
      "x-github-media-type": "github.v3; format=json",
      ...headers,
    };
    if (text !== undefined) all["content-length"] = String(Buffer.byteLength(text));
    res.writeHead(status, all);
    res.end(text);
  }

  function toText(reply: Reply): { text: string | undefined; contentType: string | undefined } {
    if (reply.text !== undefined)
      return { text: reply.text, contentType: reply.contentType ?? "text/plain; charset=utf-8" };
    if (reply.body !== undefined)
      return { text: JSON.stringify(reply.body), contentType: "application/json; charset=utf-8" };
    return { text: undefined, contentType: undefined };
  }

  function sendReply(
    res: ServerResponse,
    record: RecordedRequest,
    reply: Reply,
    headers: Record<string, string>,
  ) {
    const { text, contentType } = toText(reply);
    write(
      res,
      record,
      reply.status,
      { ...(contentType ? { "content-type": contentType } : {}), ...headers, ...reply.headers },
      text,
    );
  }

  function findRoute(path: string) {
    for (const { route, match } of compiled) {
      const params = match(path);
      if (params) return { route, params };
    }
    return undefined;
  }

  /** Answers a fault's own status (after its delay). */
  function sendFault(
    res: ServerResponse,
    record: RecordedRequest,
    fault: Fault & { status: number },
    token: RegisteredToken | undefined,
    common: Record<string, string>,
  ) {
    const headers: Record<string, string> = { "content-type": "application/json; charset=utf-8", ...common };
    if (fault.resetInSeconds !== undefined) {
      Object.assign(headers, rateHeaders({ used: limit, endsAt: 0 }), {
        "x-ratelimit-reset": String(Math.floor(now() / 1000) + fault.resetInSeconds),
      });
    }
    if (fault.text !== undefined) {
      headers["content-type"] = fault.contentType ?? "text/plain; charset=utf-8";
      Object.assign(headers, fault.headers);
      return write(res, record, fault.status, headers, fault.text);
    }
    Object.assign(headers, fault.headers);
    // `body: null` is a body of its own (JSON null), not "no body".
    const body: unknown = Object.hasOwn(fault, "body")
      ? fault.body
      : defaultFaultBody(fault, fault.status, record.requestId, token?.userId);
    write(res, record, fault.status, headers, body === undefined ? "" : JSON.stringify(body));
  }

  async function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest, url: URL) {
    const { method } = record;
    const path = url.pathname;
    const tokenValue = bearer(req.headers.authorization);
    const token = tokenValue === undefined ? undefined : tokens.get(tokenValue);
    const headers: Record<string, string> = {};
    if (token?.expiresAtMs !== undefined) {
      headers["github-authentication-token-expiration"] = expirationHeader(token.expiresAtMs);
    }

    // 1. Faults.
    const fault = takeFault(method, path, url.search.slice(1));
    if (fault) {
      record.fault = faultKind(fault);
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.status !== undefined)
        return sendFault(res, record, { ...fault, status: fault.status }, token, headers);
    }

    // 2. The route, behind authentication and limits unless public.
    const found = findRoute(path);
    const request = (params: Record<string, string>) => ({
      params,
      query: url.searchParams,
      path,
      state,
      requestId: record.requestId,
    });
    let reply: Reply;
    let window: Window | undefined;
    if (found?.route.public) {
      reply = method === "GET" ? await found.route.handle(request(found.params)) : notFound();
    } else {
      if (!req.headers["user-agent"]) {
        return sendReply(res, record, error(403, NO_USER_AGENT), headers);
      }
      const version = req.headers["x-github-api-version"];
      if (version !== undefined && !API_VERSIONS.has(String(version))) {
        return sendReply(res, record, error(400, `Invalid API version: ${String(version)}`), headers);
      }
      if (!token || (token.expiresAtMs !== undefined && now() >= token.expiresAtMs)) {
        return sendReply(res, record, error(401, "Bad credentials"), headers);
      }
      if (token.scopes) headers["x-oauth-scopes"] = token.scopes.join(", ");
      headers["x-github-api-version-selected"] = String(version ?? "2022-11-28");

      window = windowFor(primary, token.token);
      window.used += 1;
      if (window.used > limit) {
        window.used = limit;
        const body = defaultFaultBody(
          { path, kind: "primary-rate-limit" },
          403,
          record.requestId,
          token.userId,
        );
        return sendReply(res, record, { status: 403, body }, { ...headers, ...rateHeaders(window) });
      }
      reply =
        found && method === "GET"
          ? await guarded(found.route, token, record, headers, request(found.params))
          : notFound();
    }

    // 3. A rewritten body; ETag and conditional requests; truncation.
    if (fault?.rewrite && reply.status === 200 && reply.body !== undefined) {
      reply = { ...reply, body: fault.rewrite(reply.body) };
    }
    const { text, contentType } = toText(reply);
    const truncate = fault?.truncate === true && text !== undefined;
    if (method === "GET" && reply.status === 200 && text !== undefined && !truncate) {
      const etag = `W/"${createHash("sha256").update(text).digest("hex").slice(0, 32)}"`;
      headers.etag = etag;
      if (etagMatches(record.ifNoneMatch, etag)) {
        if (window) window.used -= 1; // a 304 does not count against the primary rate limit
        if (window) Object.assign(headers, rateHeaders(window));
        return write(res, record, 304, { ...headers, ...reply.headers });
      }
    }
    if (window) Object.assign(headers, rateHeaders(window));
    if (truncate) {
      reply = { ...reply, text: text.slice(0, Math.floor(text.length / 2)) };
      if (contentType) reply.contentType = contentType;
    }
    return sendReply(res, record, reply, headers);
  }

  /** Scope check and the route's own query limit, then the handler. */
  async function guarded(
    route: Route,
    token: RegisteredToken,
    record: RecordedRequest,
    headers: Record<string, string>,
    request: RouteRequest,
  ): Promise<Reply> {
    if (route.scopes) headers["x-accepted-oauth-scopes"] = route.scopes.join(", ");
    if (!hasScope(token, route.scopes)) {
      return error(403, RESOURCE_NOT_ACCESSIBLE, {
        "x-accepted-github-permissions": route.permissions ?? "",
        "x-oauth-scopes": (token.scopes ?? []).join(", "),
      });
    }
    if (route.queryLimitBucket) {
      const w = windowFor(buckets, `${token.token}\u0000${route.queryLimitBucket}`);
      w.used += 1;
      if (w.used > auditLogLimit) {
        const retryAfter = Math.max(1, Math.ceil((w.endsAt - now()) / 1000));
        const kind = { path: request.path, kind: "secondary-rate-limit" } as const;
        const body = defaultFaultBody(kind, 403, record.requestId, token.userId);
        return { status: 403, body, headers: { "retry-after": String(retryAfter) } };
      }
    }
    return route.handle(request);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const query = Object.fromEntries(url.searchParams);
    delete query.access_token;
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query,
      status: 0,
      ifNoneMatch: req.headers["if-none-match"],
      authorization: authScheme(req.headers.authorization),
      at: now(),
      requestId: requestId(),
    };
    requests.push(record);
    req.resume();
    req.on("end", () => {
      handle(req, res, record, url).catch((err: unknown) => {
        sendReply(
          res,
          record,
          error(500, `simulator error: ${err instanceof Error ? err.message : String(err)}`),
          {},
        );
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
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  function org(name: string): SimulatedOrg {
    let o = orgs.get(name);
    if (!o) {
      o = { id: 1_000 + orgs.size, seats: [] };
      orgs.set(name, o);
    }
    return o;
  }
  function enterprise(name: string): SimulatedEnterprise {
    let e = enterprises.get(name);
    if (!e) {
      e = { id: 1 + enterprises.size };
      enterprises.set(name, e);
    }
    return e;
  }
  function reportsOf(owner: { reports?: MetricsReports }): MetricsReports {
    owner.reports ??= {};
    return owner.reports;
  }

  return {
    url: baseUrl,
    requests,
    orgs,
    enterprises,
    setSeats(name, seats) {
      org(name).seats = seats;
    },
    addAuditEvents(name, events, opts) {
      const owner = opts?.enterprise ? enterprise(name) : org(name);
      owner.auditEvents = [...(owner.auditEvents ?? []), ...events];
    },
    addUsageRecords(name, records) {
      const e = enterprise(name);
      e.usageRecords = [...(e.usageRecords ?? []), ...records];
    },
    setReport(owner, report, day, rows, opts) {
      const reports = reportsOf(opts?.enterprise ? enterprise(owner) : org(owner));
      reports[report] = { ...reports[report], [day]: rows };
    },
    injectFault: (fault) => void faults.push({ ...fault }),
    clearFaults: () => void faults.splice(0),
    close: () =>
      new Promise<void>((resolve, reject) => {
        for (const timer of timers) clearTimeout(timer);
        timers.clear();
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}

/** `If-None-Match` against an ETag, with weak comparison and `*`. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}
