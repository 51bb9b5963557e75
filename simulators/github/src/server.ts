/**
 * A GitHub REST API simulator built from ../shared/reference/github (DESIGN.md §8): the
 * endpoints the ingest service calls, with GitHub's pagination (`Link` header), rate-limit
 * headers, ETags with 304 for conditional requests, bearer-token auth, injectable faults, and a
 * log of every request that tests read.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { organization, type GithubSeat } from "./fixtures.ts";

export interface SimulatedOrg {
  id: number;
  seats: GithubSeat[];
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  status: number;
  ifNoneMatch: string | undefined;
  at: number;
}

export interface Fault {
  /** Request path the fault applies to, e.g. /orgs/acme/copilot/billing/seats. */
  path: string;
  status: number;
  /** How many requests fail before the path answers normally again. @default 1 */
  times?: number;
  /** Extra response headers (e.g. retry-after, x-ratelimit-remaining). */
  headers?: Record<string, string>;
  body?: unknown;
}

export interface GithubSimulatorOptions {
  /** Tokens that authenticate; any other token gets 401. */
  tokens: string[];
  orgs?: Record<string, SimulatedOrg>;
  /** Primary rate limit per token and hour. @default 5000 */
  rateLimit?: number;
}

export interface GithubSimulator {
  readonly url: string;
  readonly requests: RecordedRequest[];
  readonly orgs: Map<string, SimulatedOrg>;
  setSeats(org: string, seats: GithubSeat[]): void;
  injectFault(fault: Fault): void;
  close(): Promise<void>;
}

const API_VERSION = "2022-11-28";

export async function startGithubSimulator(options: GithubSimulatorOptions): Promise<GithubSimulator> {
  const orgs = new Map(Object.entries(options.orgs ?? {}));
  const requests: RecordedRequest[] = [];
  const faults: Fault[] = [];
  const limit = options.rateLimit ?? 5000;
  const used = new Map<string, number>();
  const resetAt = Math.floor(Date.now() / 1000) + 3600;
  let baseUrl = "";

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    const text = body === undefined ? "" : JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(text);
  }

  function error(res: ServerResponse, status: number, message: string, headers: Record<string, string> = {}) {
    send(
      res,
      status,
      { message, documentation_url: "https://docs.github.com/rest", status: String(status) },
      headers,
    );
  }

  function link(path: string, query: URLSearchParams, page: number, last: number): string | undefined {
    if (last <= 1) return undefined;
    const at = (p: number) => {
      const q = new URLSearchParams(query);
      q.set("page", String(p));
      return `<${baseUrl}${path}?${q.toString()}>`;
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`${at(page - 1)}; rel="prev"`);
    if (page < last) rels.push(`${at(page + 1)}; rel="next"`);
    rels.push(`${at(last)}; rel="last"`, `${at(1)}; rel="first"`);
    return rels.join(", ");
  }

  function handle(req: IncomingMessage, res: ServerResponse, record: RecordedRequest) {
    const url = new URL(req.url ?? "/", "http://localhost");
    const path = url.pathname;

    const fault = faults.find((f) => f.path === path);
    if (fault) {
      fault.times = (fault.times ?? 1) - 1;
      if (fault.times <= 0) faults.splice(faults.indexOf(fault), 1);
      return send(res, fault.status, fault.body ?? { message: `simulated ${fault.status}` }, fault.headers);
    }

    if (!req.headers["user-agent"])
      return error(
        res,
        403,
        "Request forbidden by administrative rules. Please make sure your request has a User-Agent header",
      );
    const version = req.headers["x-github-api-version"];
    if (version !== undefined && version !== API_VERSION && version !== "2026-03-10") {
      return error(res, 400, `Invalid API version: ${String(version)}`);
    }
    const token = /^(?:Bearer|token) (.+)$/i.exec(req.headers.authorization ?? "")?.[1];
    if (!token || !options.tokens.includes(token)) return error(res, 401, "Bad credentials");

    const count = (used.get(token) ?? 0) + 1;
    used.set(token, count);
    const rate = {
      "x-ratelimit-limit": String(limit),
      "x-ratelimit-remaining": String(Math.max(0, limit - count)),
      "x-ratelimit-used": String(count),
      "x-ratelimit-reset": String(resetAt),
      "x-ratelimit-resource": "core",
      "x-github-api-version-selected": API_VERSION,
    };
    if (count > limit) return error(res, 403, "API rate limit exceeded for user.", rate);
    if (req.method !== "GET") return error(res, 404, "Not Found", rate);

    let match = /^\/orgs\/([^/]+)$/.exec(path);
    if (match) {
      const name = decodeURIComponent(match[1] ?? "");
      const org = orgs.get(name);
      if (!org) return error(res, 404, "Not Found", rate);
      return send(res, 200, organization(name, org.id), rate);
    }

    match = /^\/orgs\/([^/]+)\/copilot\/billing\/seats$/.exec(path);
    if (match) {
      const org = orgs.get(decodeURIComponent(match[1] ?? ""));
      if (!org) return error(res, 404, "Not Found", rate);
      const perPage = Math.min(100, Math.max(1, Number(url.searchParams.get("per_page") ?? 50) || 50));
      const page = Math.max(1, Number(url.searchParams.get("page") ?? 1) || 1);
      const last = Math.max(1, Math.ceil(org.seats.length / perPage));
      const body = {
        total_seats: org.seats.length,
        seats: org.seats.slice((page - 1) * perPage, page * perPage),
      };
      const etag = `W/"${createHash("sha256").update(JSON.stringify(body)).digest("hex").slice(0, 32)}"`;
      const headers: Record<string, string> = { ...rate, etag };
      const next = link(path, url.searchParams, page, last);
      if (next) headers.link = next;
      if (record.ifNoneMatch === etag) {
        // A 304 does not count against the primary rate limit.
        used.set(token, count - 1);
        headers["x-ratelimit-remaining"] = String(limit - count + 1);
        res.writeHead(304, headers);
        return res.end();
      }
      return send(res, 200, body, headers);
    }

    return error(res, 404, "Not Found", rate);
  }

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const record: RecordedRequest = {
      method: req.method ?? "GET",
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      status: 0,
      ifNoneMatch: req.headers["if-none-match"],
      at: Date.now(),
    };
    requests.push(record);
    res.on("finish", () => {
      record.status = res.statusCode;
    });
    req.resume();
    req.on("end", () => handle(req, res, record));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    url: baseUrl,
    requests,
    orgs,
    setSeats(org, seats) {
      const existing = orgs.get(org);
      orgs.set(org, { id: existing?.id ?? 1_000 + orgs.size, seats });
    },
    injectFault: (fault) => void faults.push({ ...fault }),
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
