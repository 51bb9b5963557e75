/**
 * The operator's view of a running service (docs/design.md §10): `GET /healthz` (the process
 * runs: a liveness probe), `GET /readyz` (it can do its work: a readiness probe, 200 or 503 with
 * the checks as JSON) and `GET /metrics` (Prometheus text). node:http is enough for three fixed
 * routes; requests are not logged, since probes and scrapes come every few seconds.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Registry } from "prom-client";
import { describeError } from "@aiaudit/errors";

export interface ReadinessCheck {
  ok: boolean;
  /** What an operator reads when it is not ok; never a secret. */
  detail?: string;
}

export interface Readiness {
  ready: boolean;
  checks: Record<string, ReadinessCheck>;
}

/** One readiness check: ok when `probe` resolves, else not ok with what it threw. */
export async function readinessCheck(probe: () => Promise<unknown>): Promise<ReadinessCheck> {
  try {
    await probe();
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: describeError(err) };
  }
}

export interface HttpSettings {
  /** 0 picks a free port (tests); runMain never passes 0, which there turns the server off. */
  port: number;
  /** Interface to listen on. @default all interfaces, so probes and scrapes reach it in a pod */
  host?: string;
  registry: Registry;
  readiness: () => Promise<Readiness>;
  /**
   * Time `readiness` may take before /readyz answers 503 on its own. Keep a probe's timeout
   * above it (Kubernetes' `timeoutSeconds` defaults to 1 s: set it to 3).
   * @default 2000
   */
  readinessTimeoutMs?: number;
}

export interface HttpServer {
  /** The port it listens on. */
  readonly port: number;
  close(): Promise<void>;
}

const ROUTES = ["/healthz", "/readyz", "/metrics"];

export async function serveHttp(settings: HttpSettings): Promise<HttpServer> {
  const server = createServer((req, res) => {
    handle(req, res, settings).catch((err: unknown) => json(res, 500, { error: describeError(err) }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(settings.port, settings.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // Keep-alive connections of a scraper would hold close() open.
        server.closeAllConnections();
      }),
  };
}

async function handle(req: IncomingMessage, res: ServerResponse, settings: HttpSettings): Promise<void> {
  const path = new URL(req.url ?? "/", "http://localhost").pathname;
  if (!ROUTES.includes(path)) {
    return json(res, 404, { error: `no such path ${path}: try ${ROUTES.join(", ")}` });
  }
  if (req.method !== "GET" && req.method !== "HEAD") {
    res.setHeader("allow", "GET, HEAD");
    return json(res, 405, { error: `${path} answers GET only, not ${req.method ?? "?"}` });
  }
  switch (path) {
    case "/healthz":
      return json(res, 200, { ok: true });
    case "/readyz": {
      const readiness = await checkReadiness(settings);
      return json(res, readiness.ready ? 200 : 503, readiness);
    }
    default: {
      const text = await settings.registry.metrics();
      res.writeHead(200, { "content-type": settings.registry.contentType });
      res.end(text);
    }
  }
}

/** The service's answer, or a not-ready one when it throws or takes too long. */
async function checkReadiness(settings: HttpSettings): Promise<Readiness> {
  const timeoutMs = settings.readinessTimeoutMs ?? 2000;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(() => {
      resolve(notReady(`the readiness checks took longer than ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    return await Promise.race([settings.readiness(), timeout]);
  } catch (err) {
    return notReady(`the readiness checks failed: ${describeError(err)}`);
  } finally {
    clearTimeout(timer);
  }
}

function notReady(detail: string): Readiness {
  return { ready: false, checks: { readiness: { ok: false, detail } } };
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(JSON.stringify(body));
}
