/**
 * The child process of bench/pack.ts: one job per process, so that each side's peak RSS is its own
 * (chdb runs inside the process and binds one data directory per process: the parent opens none,
 * and starts the next child only once this one has exited).
 *
 *   node bench/pack-worker.ts fill     <dataDir> <events>
 *   node bench/pack-worker.ts idle     <dataDir>             chdb opened, `SELECT 1`: the floor
 *   node bench/pack-worker.ts pack     <dataDir|url> <storeDir>  buildPack of the month (embedded,
 *                                     or against bench/chdb-http.ts at an http:// URL)
 *   node bench/pack-worker.ts baseline <dataDir|url> <outFile>   the events query, JSONEachRow, gzip
 *   node bench/pack-worker.ts verify   <pack>                verifyPack
 *
 * Each prints one JSON line (WorkerResult) on stdout: the job's own wall time (not the engine's
 * start), and the process's peak RSS (`process.resourceUsage().maxRSS`, the kernel's high-water
 * mark) and peak anonymous RSS (RssAnon of /proc/self/status, sampled every 20 ms: RSS without the
 * pages of code and files mapped, ~210 MB of which are chdb's library).
 */
import { createWriteStream, readFileSync, statSync } from "node:fs";
import { Transform, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants as zlibConstants, createGzip } from "node:zlib";
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";
import { keyPairFromSeed, verifyPack } from "@aiaudit/evidence-pack";
import { buildPack, parsePeriod } from "@aiaudit/packer";
import {
  BENCH_DATABASE,
  BENCH_KEY_SEED,
  BENCH_TENANT,
  EVENT_COLUMNS,
  EVENTS_ORDER_BY,
  PERIOD,
  fill,
} from "./pack-data.ts";

export interface WorkerResult {
  job: string;
  ms: number;
  /** Events: in the pack's events.jsonl, or read by the baseline. */
  rows: number;
  /** Uncompressed JSON: events.jsonl's bytes, or the baseline's JSONEachRow text. */
  jsonBytes: number;
  /** The file written: the pack, or the baseline's .json.gz. */
  outBytes: number;
  maxRssKiB: number;
  peakAnonKiB: number;
  /** The pack's path (pack), or the table's active parts (fill). */
  path?: string;
  parts?: number;
}

/** The pack writer's gzip settings (packages/evidence-pack/src/write.ts). */
const GZIP = { level: 9, memLevel: 8, strategy: zlibConstants.Z_DEFAULT_STRATEGY };

const anonKiB = (): number => Number(/RssAnon:\s+(\d+)/.exec(readFileSync("/proc/self/status", "utf8"))?.[1]);
let peakAnon = anonKiB();
const sampler = setInterval(() => (peakAnon = Math.max(peakAnon, anonKiB())), 20);

const [job = "", ...args] = process.argv.slice(2);

function arg(i: number, what: string): string {
  const value = args[i];
  if (value === undefined) throw new Error(`pack-worker ${job}: missing ${what}`);
  return value;
}

/** The embedded engine on a data directory, or a server at an http:// URL (bench/chdb-http.ts). */
const open = (where: string): Promise<ClickHouse> =>
  createClickHouse(
    where.startsWith("http://")
      ? { database: BENCH_DATABASE, url: where }
      : { database: BENCH_DATABASE, dataDir: where },
  );

type Job = Omit<WorkerResult, "job" | "maxRssKiB" | "peakAnonKiB">;

async function timed(ch: ClickHouse, work: () => Promise<Omit<Job, "ms">>): Promise<Job> {
  try {
    const start = performance.now();
    const done = await work();
    return { ms: performance.now() - start, ...done };
  } finally {
    await ch.close();
  }
}

async function fillJob(dataDir: string, events: number): Promise<Job> {
  const ch = await open(dataDir);
  return timed(ch, async () => {
    await fill(ch, events);
    const [parts] = await ch.rows<{ n: number }>(
      `SELECT count() AS n FROM system.parts WHERE database = '${BENCH_DATABASE}' AND table = 'copilot_audit_events' AND active`,
    );
    return { rows: events, jsonBytes: 0, outBytes: 0, parts: Number(parts?.n) };
  });
}

async function idleJob(dataDir: string): Promise<Job> {
  const ch = await open(dataDir);
  return timed(ch, async () => {
    await ch.rows("SELECT 1");
    return { rows: 0, jsonBytes: 0, outBytes: 0 };
  });
}

async function packJob(dataDir: string, storeDir: string): Promise<Job> {
  const ch = await open(dataDir);
  return timed(ch, async () => {
    const built = await buildPack(
      ch,
      { tenant: BENCH_TENANT, module: "copilot", ...PERIOD },
      {
        storeDir,
        privateKey: BENCH_KEY_SEED,
        producer: { name: "aiaudit-bench", version: "0" },
      },
    );
    const events = built.manifest.files.find((f) => f.name === "events.jsonl");
    const size = statSync(built.path).size;
    return { rows: events?.rows ?? 0, jsonBytes: events?.bytes ?? 0, outBytes: size, path: built.path };
  });
}

/** Counts what passes through. */
function counter(count: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      count(chunk);
      callback(null, chunk);
    },
  });
}

async function baselineJob(dataDir: string, outFile: string): Promise<Job> {
  const ch = await open(dataDir);
  return timed(ch, async () => {
    const period = parsePeriod(PERIOD.periodStart, PERIOD.periodEnd);
    const time = (ms: number): string => new Date(ms).toISOString().replace("T", " ").replace("Z", "");
    const query = `SELECT ${EVENT_COLUMNS.join(", ")} FROM ${ch.table("copilot_audit_events")} FINAL
      WHERE tenant = {tenant:String} AND created_at BETWEEN {start:DateTime64(3, 'UTC')} AND {end:DateTime64(3, 'UTC')}
      ORDER BY ${EVENTS_ORDER_BY} SETTINGS output_format_json_quote_64bit_integers = 0`;
    let rows = 0;
    let jsonBytes = 0;
    let outBytes = 0;
    await pipeline(
      ch.streamBytes(query, "JSONEachRow", {
        tenant: BENCH_TENANT,
        start: time(period.startMs),
        end: time(period.endMs),
      }),
      counter((chunk) => {
        jsonBytes += chunk.length;
        for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) rows++;
      }),
      createGzip(GZIP),
      counter((chunk) => (outBytes += chunk.length)),
      createWriteStream(outFile),
    );
    return { rows, jsonBytes, outBytes };
  });
}

async function verifyJob(pack: string): Promise<Job> {
  const start = performance.now();
  const result = await verifyPack(pack, { expectedPublicKey: keyPairFromSeed(BENCH_KEY_SEED).publicKey });
  if (!result.valid) throw new Error(`verifyPack: ${result.reason}`);
  return { ms: performance.now() - start, rows: 0, jsonBytes: 0, outBytes: statSync(pack).size };
}

async function run(): Promise<Job> {
  switch (job) {
    case "fill":
      return fillJob(arg(0, "dataDir"), Number(arg(1, "events")));
    case "idle":
      return idleJob(arg(0, "dataDir"));
    case "pack":
      return packJob(arg(0, "dataDir or url"), arg(1, "storeDir"));
    case "baseline":
      return baselineJob(arg(0, "dataDir or url"), arg(1, "outFile"));
    case "verify":
      return verifyJob(arg(0, "pack"));
    default:
      throw new Error(`pack-worker: unknown job ${JSON.stringify(job)}`);
  }
}

const done = await run();
clearInterval(sampler);
const result: WorkerResult = {
  job,
  ...done,
  maxRssKiB: process.resourceUsage().maxRSS,
  peakAnonKiB: Math.max(peakAnon, anonKiB()),
};
process.stdout.write(`${JSON.stringify(result)}\n`);
