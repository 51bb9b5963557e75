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
  expirationHeader,
  hasScope,
  registerTokens,
  type RegisteredToken,
  type TokenSpec,
} from "./auth.ts";
import { defaultFaultBody, faultKind, RESOURCE_NOT_ACCESSIBLE, type Fault } from "./faults.ts";
import type { GithubSeat } from "./fixtures.ts";
import { error, notFound, type Reply, type Route, type RouteRequest } from "./http.ts";
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

export interface RecordedRequest extends RecordedRequestBase {
  query: Record<string, string>;
  ifNoneMatch: string | undefined;
  /** The `x-github-request-id` sent back. */
  requestId: string;
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
  const injected = faultQueue<Fault>(faultKind);
  const limit = options.rateLimit ?? 5000;
  const auditLogLimit = options.auditLogLimit ?? 1750;
  const primary = new Map<string, Window>();
  const buckets = new Map<string, Window>();
  const secret = randomBytes(32);
  const findRoute = routeTable(allRoutes);
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

  function write(
    res: ServerResponse,
    record: RecordedRequest,
    status: number,
    headers: Record<string, string>,
    text?: string,
  ) {
    const all = {
      "x-github-request-id": record.requestId,
      "x-github-media-type": "github.v3; format=json",
      ...headers,
    };
    writeResponse(res, record, status, all, text);
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

  /** Answers with a fault's own reply, with exhausted primary-limit headers for `resetInSeconds`. */
  function sendFault(
    res: ServerResponse,
    record: RecordedRequest,
    reply: Reply,
    fault: Fault,
    common: Record<string, string>,
  ) {
    const headers: Record<string, string> = {
      "content-type": reply.contentType ?? "application/json; charset=utf-8",
      ...common,
    };
    if (fault.resetInSeconds !== undefined) {
      Object.assign(headers, rateHeaders({ used: limit, endsAt: 0 }), {
        "x-ratelimit-reset": String(Math.floor(now() / 1000) + fault.resetInSeconds),
      });
    }
    const text = reply.text ?? (reply.body === undefined ? "" : JSON.stringify(reply.body));
    write(res, record, reply.status, { ...headers, ...reply.headers }, text);
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
    const fault = await injected.apply(record, url.search.slice(1));
    if (fault) {
      const own = faultReply(fault, (status) =>
        defaultFaultBody(fault, status, record.requestId, token?.userId),
      );
      if (own) return sendFault(res, record, own, fault, headers);
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

  const server = await startSimServer<RecordedRequest>(options.port ?? 0, {
    record(req, url) {
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
      return record;
    },
    handle,
    fail: (res, record, message) => sendReply(res, record, error(500, message), {}),
  });
  baseUrl = server.url;

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
    injectFault: injected.inject,
    clearFaults: injected.clear,
    close: () => {
      injected.cancel();
      return server.close();
    },
  };
}

/** `If-None-Match` against an ETag, with weak comparison and `*`. */
export function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  const bare = (t: string) => t.trim().replace(/^W\//, "");
  return header.split(",").some((t) => t.trim() === "*" || bare(t) === bare(etag));
}
