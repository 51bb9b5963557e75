/**
 * The request pipeline's plumbing both API simulators share: the `Reply` a route returns, path
 * templates, the request log's common fields, writing an answer, and an HTTP server on 127.0.0.1
 * that logs each request as it arrives and answers it once its body has been read.
 *
 * Authentication, limits, error bodies and vendor headers stay in each simulator's src/server.ts.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Reply {
  status: number;
  /** Serialized as JSON. */
  body?: unknown;
  /** A raw body instead of JSON (e.g. NDJSON downloads). */
  text?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export function json(body: unknown, headers?: Record<string, string>): Reply {
  return headers ? { status: 200, body, headers } : { status: 200, body };
}

/** Compiles `/orgs/{org}/x` into a matcher returning decoded params, or undefined. */
export function compilePath(template: string): (path: string) => Record<string, string> | undefined {
  const names: string[] = [];
  const source = template
    .split("/")
    .map((part) => {
      const m = /^\{(\w+)\}$/.exec(part);
      if (!m?.[1]) return part.replace(/[.*+?^$()|[\]\\]/g, "\\$&");
      names.push(m[1]);
      return "([^/]+)";
    })
    .join("/");
  const re = new RegExp(`^${source}$`);
  return (path) => {
    const m = re.exec(path);
    if (!m) return undefined;
    const params: Record<string, string> = {};
    names.forEach((name, i) => {
      params[name] = decodeURIComponent(m[i + 1] ?? "");
    });
    return params;
  };
}

/** Finds the first of `routes` whose path template matches a request path, with its params. */
export function routeTable<T extends { path: string }>(
  routes: readonly T[],
): (path: string) => { route: T; params: Record<string, string> } | undefined {
  const compiled = routes.map((route) => ({ route, match: compilePath(route.path) }));
  return (path) => {
    for (const { route, match } of compiled) {
      const params = match(path);
      if (params) return { route, params };
    }
    return undefined;
  };
}

/** What every simulator logs of a request in `sim.requests` (each adds its own fields). */
export interface RecordedRequestBase {
  method: string;
  path: string;
  /** The status sent (0 while pending, or if the client went away before a slow answer). */
  status: number;
  /** The `Authorization` scheme only (`Bearer`), never the credential. */
  authorization: string | undefined;
  /** When the request was received, from the `now()` clock (ms). */
  at: number;
  /** Set when an injected fault applied to this request. */
  fault?: string;
}

/**
 * Sends one answer and logs its status, with `content-length` when there is a `text`; does
 * nothing once the client has gone or an answer was sent.
 */
export function writeResponse(
  res: ServerResponse,
  record: { status: number },
  status: number,
  headers: Record<string, string>,
  text?: string,
): void {
  if (res.destroyed || res.headersSent) return;
  record.status = status;
  const all =
    text === undefined ? headers : { ...headers, "content-length": String(Buffer.byteLength(text)) };
  res.writeHead(status, all);
  res.end(text);
}

export interface SimPipeline<R> {
  /** Runs as a request arrives: builds its record and adds it to the request log. */
  record(req: IncomingMessage, url: URL): R;
  /** Answers the request once its body (ignored) has been read. */
  handle(req: IncomingMessage, res: ServerResponse, record: R, url: URL): Promise<void>;
  /** Answers a request whose `handle` threw; `message` is `simulator error: <why>`. */
  fail(res: ServerResponse, record: R, message: string): void;
}

export interface SimServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** Drops open connections and stops listening. */
  close(): Promise<void>;
}

/** Listens on 127.0.0.1 at `port` (0: any free port). */
export async function startSimServer<R>(port: number, pipeline: SimPipeline<R>): Promise<SimServer> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const record = pipeline.record(req, url);
    req.resume();
    req.on("end", () => {
      pipeline.handle(req, res, record, url).catch((err: unknown) => {
        pipeline.fail(res, record, `simulator error: ${err instanceof Error ? err.message : String(err)}`);
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((err) => (err ? reject(err) : resolve()));
      }),
  };
}
