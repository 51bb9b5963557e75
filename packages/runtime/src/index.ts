/**
 * Process lifecycle shared by every service's main.ts: start, serve `/healthz`, `/readyz` and
 * `/metrics` on HTTP_PORT, run until SIGTERM/SIGINT, stop gracefully (the service finishes or
 * abandons its batch in flight without losing it). With `--once` it runs one pass of the service
 * instead (a cron job, a backfill, a test) and its exit code says whether the pass succeeded.
 *
 * Exit codes: 0 done; 1 a bad setting, a failed start, a failed `--once` pass or a failed stop;
 * 2 a usage error (an unknown argument, or `--once` for a service that has none); 128 + the
 * signal number when a second SIGTERM/SIGINT cuts a graceful stop short.
 *
 * A start failure is written twice: one readable message on stderr, for the person at the
 * terminal, and one JSON `fatal` line on stdout, for the log pipeline. A configuration error
 * never carries a stack trace.
 */
import { constants } from "node:os";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";
import { logEnv, parseEnv, runtimeEnv } from "@aiaudit/config";
import { describeError, isAiauditError } from "@aiaudit/errors";
import { createLogger, type Logger } from "@aiaudit/logger";
import { serveHttp, type HttpServer, type Readiness } from "./http.ts";

export {
  readinessCheck,
  serveHttp,
  type HttpServer,
  type HttpSettings,
  type Readiness,
  type ReadinessCheck,
} from "./http.ts";
export type { Registry } from "prom-client";

export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
  /**
   * Whether the service can do its work now (Kafka reachable, its consumer running, …), for
   * `/readyz`. Without it the service is ready once `start()` resolved.
   */
  ready?(): Promise<Readiness>;
  /**
   * One complete pass (`--once`), without `start()`: resolves true when it succeeded, false when
   * it did not (after reporting why). `stop()` is called after it either way.
   */
  runOnce?(): Promise<boolean>;
}

/** What runMain hands to the service it creates. */
export interface ServiceContext {
  /**
   * Where the service registers its counters and gauges; served on `/metrics` with the default
   * process metrics. One per service instance: several run in one process in tests and in the
   * all-in-one runner, and a global registry would mix their numbers.
   */
  registry: Registry;
}

export interface MainOptions {
  name: string;
  /** Default HTTP_PORT of this service (ingest-copilot 9464, snapshotter 9465, ingest-openai 9466, packer 9467). */
  httpPort: number;
  /** Loads the config and creates the service; throws on a bad setting. */
  create(env: NodeJS.ProcessEnv, logger: Logger, context: ServiceContext): Startable;
}

/** The parts of `process` runMain uses. */
export type MainProcess = Pick<NodeJS.Process, "argv" | "env" | "exit" | "on" | "stderr">;

const USAGE =
  "usage: main.ts [--once]\n  --once  run one pass of the service, then exit (0 succeeded, 1 failed)";

export async function runMain(proc: MainProcess, options: MainOptions): Promise<void> {
  const { name } = options;
  // LOG_LEVEL is checked with the rest of the configuration below; until then a bad one logs at info.
  const level = logEnv.LOG_LEVEL.safeParse(proc.env.LOG_LEVEL);
  const logger = createLogger({ name, level: level.success ? level.data : "info" });
  const ctx: Context = { proc, name, logger, say: (line) => proc.stderr.write(`${name}: ${line}\n`) };

  const args = proc.argv.slice(2);
  if (args.includes("--help")) {
    proc.stderr.write(`${USAGE}\n`);
    return proc.exit(0);
  }
  const unknown = args.filter((arg) => arg !== "--once");
  if (unknown.length > 0) {
    ctx.say(`unknown argument ${unknown.join(" ")}\n${USAGE}`);
    return proc.exit(2);
  }

  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  let service: Startable;
  let httpPort: number;
  try {
    service = options.create(proc.env, logger, { registry });
    // The service's own schema holds these too (and reports them with its other problems); this
    // is the backstop for a service that forgot them.
    httpPort = parseEnv(z.object({ ...logEnv, ...runtimeEnv(options.httpPort) }), proc.env).HTTP_PORT;
  } catch (err) {
    return failStart(ctx, err);
  }
  // No HTTP server with --once: a one-off pass next to a running instance must not fight for its port.
  if (args.includes("--once")) return runOnce(ctx, service);
  return runUntilSignal(ctx, service, registry, httpPort);
}

interface Context {
  proc: MainProcess;
  name: string;
  logger: Logger;
  /** A line for the person at the terminal, on stderr. */
  say: (line: string) => void;
}

/**
 * SIGTERM/SIGINT: `stop` (the service finishes or abandons its batch in flight without losing
 * it), then exit with `code`; a second signal exits at once.
 */
function onSignals(ctx: Context, stop: () => Promise<void>, code: number): void {
  let signals = 0;
  const handle = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      ctx.logger.warn({ signal }, "second signal: exiting without waiting for the stop to finish");
      return ctx.proc.exit(128 + constants.signals[signal]);
    }
    ctx.logger.info({ signal }, "shutting down");
    stop().then(
      () => ctx.proc.exit(code),
      (err: unknown) => {
        ctx.logger.error({ err }, "shutdown failed");
        ctx.proc.exit(1);
      },
    );
  };
  ctx.proc.on("SIGTERM", handle);
  ctx.proc.on("SIGINT", handle);
}

async function runUntilSignal(
  ctx: Context,
  service: Startable,
  registry: Registry,
  httpPort: number,
): Promise<void> {
  let started = false;
  let starting: Promise<void> = Promise.resolve();
  let stopping: Promise<void> | undefined;
  let http: HttpServer | undefined;
  // Runs until a signal, whatever the service holds open: without the HTTP server, a service with
  // nothing pending (between polls, say) would let the process end on its own.
  const alive = setInterval(() => undefined, 2 ** 30);
  const stop = () =>
    (stopping ??= starting
      .catch(() => undefined)
      .then(() => service.stop())
      .finally(() => {
        clearInterval(alive);
        return http?.close();
      }));
  onSignals(ctx, stop, 0);

  const readiness = (): Promise<Readiness> => {
    if (!started || stopping) {
      const detail = stopping ? "stopping" : "starting";
      return Promise.resolve({ ready: false, checks: { service: { ok: false, detail } } });
    }
    if (!service.ready)
      return Promise.resolve({ ready: true, checks: { service: { ok: true, detail: "running" } } });
    return service.ready();
  };
  try {
    if (httpPort !== 0) {
      http = await serveHttp({ port: httpPort, registry, readiness }).catch((err: unknown) => {
        throw new Error(
          `cannot serve /healthz, /readyz and /metrics on HTTP_PORT ${httpPort} (${describeError(err)}): ` +
            "set HTTP_PORT to a free port, or to 0 to turn the server off",
          { cause: err },
        );
      });
    }
    starting = service.start();
    await starting;
  } catch (err) {
    clearInterval(alive);
    await http?.close();
    return failStart(ctx, err);
  }
  started = true;
  ctx.logger.info({ httpPort: http?.port ?? null }, "started");
}

/** `--once`: one pass, then stop; exit 0 when it succeeded. A signal stops it and exits 1. */
async function runOnce(ctx: Context, service: Startable): Promise<void> {
  if (!service.runOnce) {
    ctx.say("has no --once mode: run it without --once");
    ctx.logger.fatal("--once is not supported by this service");
    return ctx.proc.exit(2);
  }
  let stopping: Promise<void> | undefined;
  const stop = () => (stopping ??= service.stop());
  onSignals(ctx, stop, 1);
  let ok = false;
  try {
    ok = await service.runOnce();
    if (!ok) ctx.say("the --once pass failed (the log says why)");
  } catch (err) {
    ctx.say(`the --once pass failed: ${describeError(err)}`);
    ctx.logger.error({ err }, "--once pass failed");
  }
  try {
    await stop();
  } catch (err) {
    ok = false;
    ctx.say(`could not stop cleanly: ${describeError(err)}`);
    ctx.logger.error({ err }, "stop after --once failed");
  }
  ctx.logger.info({ ok }, "--once pass finished");
  ctx.proc.exit(ok ? 0 : 1);
}

/** Readable on stderr, one JSON fatal line on stdout; a configuration error without a stack. */
function failStart(ctx: Context, err: unknown): void {
  if (isAiauditError(err, "CONFIG_INVALID")) {
    ctx.say(err.message);
    ctx.logger.fatal({ code: err.code }, err.message);
  } else {
    ctx.say(`could not start: ${describeError(err)}`);
    ctx.logger.fatal({ err }, `${ctx.name} could not start`);
  }
  ctx.proc.exit(1);
}
