/**
 * Test helpers (docs/conventions.md §9): the real broker and the real ClickHouse engine, isolated per
 * test by random topic prefixes and databases, with cleanup registered by the factory itself.
 */
import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { Writable } from "node:stream";
import { createClickHouse, migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import { createLogger, type Logger } from "@aiaudit/logger";

/** The broker started by deploy/local/kafka/kafka.sh (KAFKA_BROKERS overrides). */
export const TEST_BROKERS = (process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(",");

export function randomSuffix(): string {
  return randomBytes(4).toString("hex");
}

/** A topic prefix no other test uses. */
export function uniquePrefix(name = "t"): string {
  return `${name}-${randomSuffix()}`;
}

export interface CapturedLogger {
  logger: Logger;
  /** Every line written so far. */
  lines: string[];
}

/** A real pino logger (redaction included) whose lines are kept for assertions. */
export function captureLogger(name = "test"): CapturedLogger {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(...chunk.toString("utf8").split("\n").filter(Boolean));
      callback();
    },
  });
  return { logger: createLogger({ name, level: "debug", destination }), lines };
}

export function testKafka(logger: Logger): KafkaClient {
  return createKafka({ brokers: TEST_BROKERS, clientId: "aiaudit-test", logger });
}

type Cleanup = (fn: () => Promise<void> | void) => void;

/**
 * A migrated database in this process's embedded ClickHouse (or CLICKHOUSE_URL's server).
 * chdb binds one data directory per process; node's test runner runs each file in its own
 * process, so each file gets its own directory.
 */
export async function testClickHouse(after: Cleanup): Promise<ClickHouse> {
  const dataDir = `.cache/test-chdb/${process.pid}`;
  const ch = await createClickHouse({
    url: process.env.CLICKHOUSE_URL,
    database: `test_${randomSuffix()}`,
    dataDir,
  });
  await migrate(ch);
  after(async () => {
    await ch.command(`DROP DATABASE IF EXISTS \`${ch.database}\``);
    await ch.close();
    if (ch.embedded) rmSync(dataDir, { recursive: true, force: true });
  });
  return ch;
}

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs = 30_000,
  intervalMs = 200,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`, { cause: last });
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

export {
  escapesRoot,
  findOutsidePaths,
  repositoryFiles,
  scanRepository,
  IGNORE_MARKER,
  type PathProblem,
} from "./repository-paths.ts";
export {
  startServiceProcess,
  withProcessOutput,
  type ProcessExit,
  type ServiceProcess,
  type ServiceProcessOptions,
} from "./processes.ts";
export { CHROMIUM_PATH, launchChromium } from "./browser.ts";
export { apiCall, publishControl, revocation, tenantWithToken, type ControlRecord } from "./tenants.ts";
export { insertSeatSnapshot, type TestSeat } from "./rows.ts";
