/**
 * Benchmark (issue 8): evidence packs of N Copilot audit events of one month, against a baseline in
 * the same run, and their verification.
 *
 * For each N, an embedded ClickHouse (a data directory under .cache/bench-pack, removed afterwards)
 * is migrated and filled inside the engine (bench/pack-data.ts). Then, each round, alternating which
 * goes first, each side in a child process of its own (bench/pack-worker.ts: chdb runs in process,
 * so a child's peak RSS is that side's; one child at a time holds the data directory):
 *
 * - pack: `buildPack` of the month into a fresh store (events, seats, coverage, KPIs, signed tar.gz);
 * - baseline: the same events (the packer's columns, FINAL, WHERE and ORDER BY) as one
 *   `SELECT … FORMAT JSONEachRow`, streamed through zlib gzip at the pack writer's level (9) to a file.
 *
 * Rows/s and MB/s (10^6 bytes of uncompressed JSON: events.jsonl, or the JSONEachRow text) are
 * medians over the rounds, and the ratio pack/baseline is of those medians. Peak RSS is the
 * highest of the rounds. Then the round's pack is verified three ways, rotating the order:
 * verifyPack (a child), `python3 tools/evidence-pack-verify.py`, and `gzip -dc PACK | sha256sum`
 * (the baseline); throughput is pack bytes per second, medians, ratios to the baseline.
 *
 * Run: node bench/pack.ts [--events 1000000,5000000] [--rounds 3] [--cpu-prof]
 * (default: 100,000 events, a quick check; --cpu-prof writes the pack children's CPU profiles to
 * .cache/bench-pack/prof).
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { keyPairFromSeed } from "@aiaudit/evidence-pack";
import { BENCH_KEY_SEED } from "./pack-data.ts";
import type { WorkerResult } from "./pack-worker.ts";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "100000" },
    rounds: { type: "string", default: "3" },
    "cpu-prof": { type: "boolean", default: false },
  },
});
const sizes = values.events.split(",").map(Number);
const rounds = Number(values.rounds);
if (sizes.some((n) => !Number.isSafeInteger(n) || n < 1) || !Number.isSafeInteger(rounds) || rounds < 1) {
  throw new Error("usage: node bench/pack.ts [--events 1000000,5000000] [--rounds 3] [--cpu-prof]");
}

const ROOT = new URL("../", import.meta.url).pathname;
const WORK = join(ROOT, ".cache", "bench-pack");
const WORKER = join(ROOT, "bench", "pack-worker.ts");
const SERVER = join(ROOT, "bench", "chdb-http.ts");
const SERVER_PORT = 18_123;
const VERIFIER = join(ROOT, "tools", "evidence-pack-verify.py");
const PUBLIC_KEY = Buffer.from(keyPairFromSeed(BENCH_KEY_SEED).publicKey).toString("base64");

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const mib = (kib: number): number => Math.round(kib / 1024);
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const mbps = (bytes: number, ms: number): number => bytes / 1e6 / (ms / 1000);
const secs = (ms: number | undefined): string => ((ms ?? NaN) / 1000).toFixed(1);

/** Runs one worker job in a child of its own; its last stdout line is the result. */
function worker(job: string, args: string[], execArgv: string[] = []): Promise<WorkerResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...execArgv, WORKER, job, ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const last = out.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !last.startsWith("{")) {
        reject(new Error(`pack-worker ${job} exited with ${code}: ${err.slice(-2000)}`));
        return;
      }
      resolve(JSON.parse(last) as WorkerResult);
    });
  });
}

/**
 * Runs `work` while bench/chdb-http.ts serves the data directory. `work` gets the URL and `peak()`:
 * the server's peak RSS (VmHWM, KiB) since the last call, which then resets it (clear_refs 5), so
 * each side gets the server's peak of its own.
 */
async function withServer<T>(
  dataDir: string,
  work: (url: string, peak: () => number) => Promise<T>,
): Promise<T> {
  const server = spawn(process.execPath, [SERVER, dataDir, String(SERVER_PORT)], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  const exited = new Promise((resolve) => server.once("exit", resolve));
  const peak = (): number => {
    const kib = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${server.pid}/status`, "utf8"))?.[1]);
    writeFileSync(`/proc/${server.pid}/clear_refs`, "5");
    return kib;
  };
  try {
    await new Promise<void>((resolve, reject) => {
      server.stdout.once("data", () => resolve());
      server.once("exit", (code) => reject(new Error(`chdb-http exited with ${code}`)));
    });
    return await work(`http://127.0.0.1:${SERVER_PORT}`, peak);
  } finally {
    server.kill("SIGTERM");
    await exited;
  }
}

/** A file's sha256, hex. */
const sha256 = (path: string | undefined): string =>
  spawnSync("sha256sum", [path ?? ""], { encoding: "utf8" }).stdout.split(" ")[0] ?? "";

/** Wall time of a command that must succeed. */
function command(file: string, args: string[]): number {
  const start = performance.now();
  const result = spawnSync(file, args, { encoding: "utf8", maxBuffer: 1024 * 1024 });
  const ms = performance.now() - start;
  if (result.status !== 0) throw new Error(`${file} ${args.join(" ")}: ${result.stdout}${result.stderr}`);
  return ms;
}

interface SizeResult {
  events: number;
  parts: number;
  fillMs: number;
  idle: WorkerResult;
  pack: WorkerResult[];
  /** The pack against bench/chdb-http.ts: the packer's process alone. */
  served: WorkerResult[];
  /** The server's peak RSS (KiB) while it served those packs. */
  serverRssKiB: number[];
  baseline: WorkerResult[];
  /** The baseline against the same server, and the server's peak RSS while it served it. */
  servedBaseline: WorkerResult[];
  servedBaselineServerRssKiB: number[];
  verify: { ts: number[]; python: number[]; gzip: number[]; packBytes: number };
}

async function measure(events: number): Promise<SizeResult> {
  const dir = join(WORK, `run-${events}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, "chdb");
  try {
    const filled = await worker("fill", [dataDir, String(events)]);
    console.log(`${fmt(events)} events: filled in ${(filled.ms / 1000).toFixed(1)} s, ${filled.parts} parts`);
    const idle = await worker("idle", [dataDir]);
    const result: SizeResult = {
      events,
      parts: filled.parts ?? 0,
      fillMs: filled.ms,
      idle,
      pack: [],
      served: [],
      serverRssKiB: [],
      baseline: [],
      servedBaseline: [],
      servedBaselineServerRssKiB: [],
      verify: { ts: [], python: [], gzip: [], packBytes: 0 },
    };
    const profile = values["cpu-prof"] ? ["--cpu-prof", `--cpu-prof-dir=${join(WORK, "prof")}`] : [];
    for (let round = 1; round <= rounds; round++) {
      const store = join(dir, `store-${round}`);
      const runPack = async (): Promise<void> => {
        result.pack.push(await worker("pack", [dataDir, store], profile));
      };
      const runServed = async (): Promise<void> => {
        const served = join(dir, `served-${round}`);
        await withServer(dataDir, async (url, peak) => {
          peak(); // the server started: its own floor is not a side's
          const pack = async (): Promise<void> => {
            result.served.push(await worker("pack", [url, served], profile));
            result.serverRssKiB.push(peak());
          };
          const base = async (): Promise<void> => {
            result.servedBaseline.push(await worker("baseline", [url, join(dir, "baseline.json.gz")]));
            result.servedBaselineServerRssKiB.push(peak());
          };
          for (const side of round % 2 === 1 ? [pack, base] : [base, pack]) await side();
        });
      };
      const runBaseline = async (): Promise<void> => {
        result.baseline.push(await worker("baseline", [dataDir, join(dir, "baseline.json.gz")]));
      };
      const sides = [runPack, runBaseline, runServed];
      for (let i = 0; i < sides.length; i++) await sides[(i + round - 1) % sides.length]?.();
      const pack = result.pack.at(-1) as WorkerResult;
      const base = result.baseline.at(-1) as WorkerResult;
      const served = result.served.at(-1) as WorkerResult;
      if (pack.rows !== events || base.rows !== events || served.rows !== events) {
        throw new Error(
          `expected ${events} events, the pack has ${pack.rows}, the served pack ${served.rows}, ` +
            `the baseline read ${base.rows}`,
        );
      }
      if (sha256(pack.path) !== sha256(served.path)) {
        throw new Error("the pack built against the server differs from the embedded one");
      }
      const path = pack.path ?? "";
      const verifiers = [
        async () => result.verify.ts.push((await worker("verify", [path])).ms),
        () =>
          result.verify.python.push(command("python3", [VERIFIER, path, "--expected-pubkey", PUBLIC_KEY])),
        () =>
          result.verify.gzip.push(command("sh", ["-c", 'gzip -dc "$1" | sha256sum >/dev/null', "sh", path])),
      ];
      for (let i = 0; i < verifiers.length; i++) await verifiers[(i + round - 1) % verifiers.length]?.();
      result.verify.packBytes = pack.outBytes;
      rmSync(store, { recursive: true, force: true });
      rmSync(join(dir, `served-${round}`), { recursive: true, force: true });
      console.log(
        `  round ${round}: pack ${(pack.ms / 1000).toFixed(1)} s (${mib(pack.maxRssKiB)} MiB peak RSS), ` +
          `against the server ${secs(served.ms)} s (${mib(served.maxRssKiB)} MiB; server ` +
          `${mib(result.serverRssKiB.at(-1) ?? NaN)} MiB), ` +
          `baseline ${(base.ms / 1000).toFixed(1)} s (${mib(base.maxRssKiB)} MiB); verify: ` +
          `ts ${secs(result.verify.ts.at(-1))} s, python ${secs(result.verify.python.at(-1))} s, ` +
          `gzip|sha256sum ${secs(result.verify.gzip.at(-1))} s`,
      );
    }
    return result;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function report(results: SizeResult[]): void {
  const cpu = cpus();
  console.log(
    `\nNode ${process.version}, ${cpu.length} × ${cpu[0]?.model ?? "?"}, ${mib(totalmem() / 1024)} MiB, ` +
      `load ${loadavg()
        .map((l) => l.toFixed(1))
        .join(" ")}; medians of ${rounds} rounds\n`,
  );
  console.log(
    "| events | side | s | rows/s | MB/s (JSON) | peak RSS MiB | peak anon RSS MiB |\n| --- | --- | --- | --- | --- | --- | --- |",
  );
  for (const r of results) {
    const line = (side: string, xs: WorkerResult[]): void => {
      const ms = median(xs.map((x) => x.ms));
      const json = median(xs.map((x) => x.jsonBytes));
      const rss = Math.max(...xs.map((x) => x.maxRssKiB));
      const anon = Math.max(...xs.map((x) => x.peakAnonKiB));
      const speed =
        json > 0
          ? `${secs(ms)} | ${fmt((r.events / ms) * 1000)} | ${mbps(json, ms).toFixed(1)}`
          : "– | – | –";
      console.log(`| ${fmt(r.events)} | ${side} | ${speed} | ${mib(rss)} | ${mib(anon)} |`);
    };
    line("pack, embedded", r.pack);
    line("pack, against a server: the packer", r.served);
    console.log(
      `| ${fmt(r.events)} | … the server (chdb-http) while packing | – | – | – | ${mib(Math.max(...r.serverRssKiB))} | – |`,
    );
    line("baseline (JSONEachRow + gzip -9), embedded", r.baseline);
    line("baseline, against the server", r.servedBaseline);
    console.log(
      `| ${fmt(r.events)} | … the server while serving the baseline | – | – | – | ${mib(Math.max(...r.servedBaselineServerRssKiB))} | – |`,
    );
    line("chdb opened, `SELECT 1`", [r.idle]);
  }
  console.log(
    "\n| events | ratio pack / baseline, embedded | … against a server | parts | pack MB | events.jsonl MB |\n| --- | --- | --- | --- | --- | --- |",
  );
  for (const r of results) {
    const base = median(r.baseline.map((x) => x.ms));
    const ratio = base / median(r.pack.map((x) => x.ms));
    const servedRatio = median(r.servedBaseline.map((x) => x.ms)) / median(r.served.map((x) => x.ms));
    console.log(
      `| ${fmt(r.events)} | ${ratio.toFixed(2)} | ${servedRatio.toFixed(2)} | ${r.parts} | ${(r.verify.packBytes / 1e6).toFixed(1)} | ` +
        `${(median(r.pack.map((x) => x.jsonBytes)) / 1e6).toFixed(1)} |`,
    );
  }
  console.log(
    "\n| events | verifier | s | MB/s (pack) | ratio to gzip -dc \\| sha256sum |\n| --- | --- | --- | --- | --- |",
  );
  for (const r of results) {
    const gzip = median(r.verify.gzip);
    for (const [name, xs] of [
      ["verifyPack (TS)", r.verify.ts],
      ["evidence-pack-verify.py", r.verify.python],
      ["gzip -dc \\| sha256sum", r.verify.gzip],
    ] as const) {
      const ms = median(xs);
      console.log(
        `| ${fmt(r.events)} | ${name} | ${secs(ms)} | ${mbps(r.verify.packBytes, ms).toFixed(1)} | ` +
          `${(gzip / ms).toFixed(2)} |`,
      );
    }
  }
}

const results: SizeResult[] = [];
for (const events of sizes) results.push(await measure(events));
report(results);
