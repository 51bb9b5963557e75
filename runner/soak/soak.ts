/**
 * The kill -9 soak of issue 6 ("Done when"), for GitHub and (issue 7) OpenAI: the vendor's ingest
 * service and the snapshotter run as separate processes, as in production, against the vendor's
 * simulator (in this process, on a fixed port) serving an audit log that repeats events across
 * pages (and, for GitHub, across polls). Each is killed with SIGKILL again and again while it
 * works, and the broker is restarted once under them. At the end, every event id must be in the
 * topic exactly once, in ClickHouse exactly once, no cursor may ever have claimed more than was
 * published, and (OpenAI) the current users, projects and keys in ClickHouse are the fixture's.
 * What differs by vendor (simulator, ingest environment, decoding, tables) is in github.ts and
 * openai.ts behind `SoakVendor` (vendor.ts).
 *
 * Kill points follow progress, not a clock: the ingest is killed after a share of the traversal's
 * pages was asked for since it (re)started, so a slow machine still kills it mid-traversal; the
 * snapshotter a few seconds after each ingest kill, while the topic grows. Not part of the test
 * suite: `scripts/kill-loop.sh`, see runner/soak/README.md.
 */
import { execFile } from "node:child_process";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";
import { randomSuffix, startServiceProcess, type ServiceProcess } from "@aiaudit/testing";
import { startGithubSource } from "./github.ts";
import { startOpenaiSource } from "./openai.ts";
import { sleep, within } from "./main.ts";
import type { SoakVendor, VendorName, VendorSetup } from "./vendor.ts";

export type { VendorName } from "./vendor.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const KAFKA_SH = `${ROOT}deploy/local/kafka/kafka.sh`;
const SNAPSHOTTER_MAIN = `${ROOT}services/snapshotter/src/main.ts`;

export interface SoakOptions {
  /** Whose simulator and ingest service. @default "github" */
  vendor?: VendorName;
  /** Audit events the simulated org holds. */
  events: number;
  /** SIGKILLs of the ingest service, each followed by a restart. */
  ingestKills: number;
  /** SIGKILLs of the snapshotter, each followed by a restart. */
  snapshotterKills: number;
  /** Restart the broker once, halfway, while both services run (`kafka.sh stop` then `start`). */
  brokerRestart: boolean;
  /** Events of the previous page served again on each page (GitHub: the simulator's `repeatAcrossPages`). */
  repeatAcrossPages: number;
  /** GitHub only: the simulator's `repeatAcrossPolls`. @default 20 */
  repeatAcrossPolls?: number;
  /** GitHub only: every n-th event is an agent event (the agent stream publishes it). @default 10 */
  agentEvery?: number;
  /** OpenAI only: ingest-openai's AUDIT_SLICE_MAX_EVENTS. @default 5000 */
  sliceMaxEvents?: number;
  /** The events are spread over this many hours (GitHub: ending an hour ago; OpenAI: a minute ago). */
  spanHours: number;
  /** The simulator's port on 127.0.0.1. */
  port: number;
  /** `host:port` of the broker; the one `kafka.sh` manages when `brokerRestart`. */
  brokers: string[];
  /** Environment for `kafka.sh` (KAFKA_PORT, KAFKA_DATA_DIR…), for the broker restart. */
  kafkaShEnv: NodeJS.ProcessEnv;
  /** Seconds to let the ingest run after the last event arrived, so a scheduled poll re-reads its window. */
  settleSeconds: number;
  /** The whole soak fails after this long. */
  timeoutMinutes: number;
  /** Progress lines. */
  say: (line: string) => void;
}

export interface SoakSummary {
  vendor: VendorName;
  prefix: string;
  events: number;
  kills: { ingest: number; snapshotter: number; brokerRestarts: number };
  /** Processes that exited without being killed (restarted, as a supervisor would). */
  unexpectedExits: string[];
  /**
   * Requests on the audit-log endpoint; the pages the kills followed (GitHub: the Copilot
   * stream's; OpenAI: all); events served again at the top of a page (OpenAI only).
   */
  requests: { auditLog: number; streamPages: number; repeatsServed: number | undefined };
  topic: { records: number; distinct: number; duplicates: number; missing: number; unexpected: number };
  clickhouse: { rows: number; distinct: number } | undefined;
  /** ClickHouse views and the count they must have (OpenAI: current users, projects, project keys). */
  views: { name: string; rows: number; expected: number }[];
  cursors: { read: number; newestEventMs: number; maxHighWaterMs: number; ahead: number };
  /**
   * Records on the dead-letter topic (not a violation: a repeat served from before the dedup
   * window is dead-lettered, not published; the fixtures hold no invalid event).
   */
  deadLetters: number;
  wallSeconds: number;
  /** Where each process's output was written. */
  logDir: string;
  violations: string[];
}

const run = promisify(execFile);

/** What the soak process itself logs through the packages (kafkajs warnings during the broker restart). */
function quietLogger() {
  return createLogger({ name: "soak", level: "error" });
}

export async function runSoak(options: SoakOptions): Promise<SoakSummary> {
  const began = Date.now();
  const deadline = began + options.timeoutMinutes * 60_000;
  const prefix = `soak-${randomSuffix()}`;
  const dataDir = `${ROOT}.cache/soak/${prefix}`;
  const logDir = `${dataDir}/logs`;
  mkdirSync(logDir, { recursive: true });
  const elapsed = () => ((Date.now() - began) / 1000).toFixed(1).padStart(6);
  const say = (line: string) => options.say(`[soak ${elapsed()} s] ${line}`);
  const topics = topicNames(prefix);
  const kafka = createKafka({ brokers: options.brokers, clientId: "aiaudit-soak", logger: quietLogger() });

  const setup: VendorSetup = {
    events: options.events,
    spanHours: options.spanHours,
    port: options.port,
    repeatAcrossPages: options.repeatAcrossPages,
    repeatAcrossPolls: options.repeatAcrossPolls ?? 20,
    agentEvery: options.agentEvery ?? 10,
    sliceMaxEvents: options.sliceMaxEvents ?? 5000,
    dataDir,
  };
  const vendor = await startVendor(options.vendor ?? "github", setup);
  const expected = vendor.expected;
  const eventTopic = vendor.eventTopic(topics);
  say(`${options.events} events over ${options.spanHours} h; ${vendor.description}; topic prefix ${prefix}`);

  const base = { PATH: process.env.PATH, HOME: process.env.HOME, NODE_OPTIONS: process.env.NODE_OPTIONS };
  const kafkaEnv = {
    KAFKA_BROKERS: options.brokers.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    LOG_LEVEL: "info",
  };
  const ingestEnv = { ...base, ...kafkaEnv, HTTP_PORT: "0", ...vendor.ingestEnv };
  const snapshotterEnv = {
    ...base,
    ...kafkaEnv,
    HTTP_PORT: "0",
    CLICKHOUSE_DATA_DIR: `${dataDir}/chdb`,
    CLICKHOUSE_DATABASE: "aiaudit",
    SNAPSHOTTER_GROUP_ID: `${prefix}.snapshotter`,
  };

  /** Where the running ingest started: pages asked for by then, and when. */
  let ingestStart = { pages: 0, at: Date.now() };
  const unexpectedExits: string[] = [];
  const started: ServiceProcess[] = [];
  const killed = new Set<ServiceProcess>();
  const counts = { ingest: 0, snapshotter: 0, brokerRestarts: 0 };
  function launch(kind: "ingest" | "snapshotter", args: string[] = []): ServiceProcess {
    const n = started.filter((p) => p.name.startsWith(kind)).length + 1;
    const p = startServiceProcess(`${kind}-${n}`, kind === "ingest" ? vendor.ingestMain : SNAPSHOTTER_MAIN, {
      env: kind === "ingest" ? ingestEnv : snapshotterEnv,
      args,
    });
    started.push(p);
    if (kind === "ingest" && args.length === 0) ingestStart = { pages: vendor.streamPages(), at: Date.now() };
    void p.exited.then((exit) => {
      writeFileSync(`${logDir}/${p.name}.log`, `${p.output()}\n`);
      if (!killed.has(p)) unexpectedExits.push(`${p.name}: code ${exit.code}, signal ${exit.signal}`);
    });
    return p;
  }
  async function kill(p: ServiceProcess, signal: NodeJS.Signals): Promise<void> {
    killed.add(p);
    await p.stop(signal);
  }
  /** The running process of a kind, restarted first if it exited on its own. */
  const current = { ingest: launch("ingest"), snapshotter: launch("snapshotter") };
  function alive(kind: "ingest" | "snapshotter"): ServiceProcess {
    if (current[kind].exit()) {
      say(`${current[kind].name} exited on its own; restarting it`);
      current[kind] = launch(kind);
    }
    return current[kind];
  }

  const violations: string[] = [];
  let clickhouse: SoakSummary["clickhouse"];
  let cursors: SoakSummary["cursors"] = { read: 0, newestEventMs: 0, maxHighWaterMs: 0, ahead: 0 };
  let views: SoakSummary["views"] = [];
  let deadLetters = 0;
  let topic: SoakSummary["topic"] = {
    records: 0,
    distinct: 0,
    duplicates: 0,
    missing: expected.size,
    unexpected: 0,
  };

  try {
    // The kill loop.
    const rounds = Math.max(options.ingestKills, options.snapshotterKills);
    // A restart first reads the slices it throws away (OpenAI), then `step` pages of its own.
    const step =
      vendor.restartPages + Math.max(3, Math.floor(vendor.traversalPages / (options.ingestKills + 1)));
    for (let round = 1; round <= rounds; round++) {
      if (Date.now() > deadline) throw new Error("timed out in the kill loop");
      if (round <= options.ingestKills) {
        const ingest = alive("ingest");
        // `step` pages after its start; or, once the traversal is done, 20 s after its start
        // when it asked for a page (a restart polls at once) and then none for 2 s (it waits for
        // its next poll: a long traversal still asking for pages is killed at `step`); or after
        // 2 minutes regardless.
        let seen = { pages: 0, at: Date.now() };
        for (;;) {
          const pages = vendor.streamPages() - ingestStart.pages;
          if (pages !== seen.pages) seen = { pages, at: Date.now() };
          const waited = Date.now() - ingestStart.at;
          const idle = Date.now() - seen.at;
          if (pages >= step || (pages > 0 && waited > 20_000 && idle > 2000)) break;
          if (waited > 120_000 || ingest.exit()) break;
          await sleep(20);
        }
        const pages = vendor.streamPages() - ingestStart.pages;
        await kill(alive("ingest"), "SIGKILL");
        counts.ingest += 1;
        say(`ingest killed (${counts.ingest}/${options.ingestKills}) after ${pages} pages`);
        current.ingest = launch("ingest");
      }
      if (round <= options.snapshotterKills) {
        await sleep(2000 + Math.random() * 4000);
        await kill(alive("snapshotter"), "SIGKILL");
        counts.snapshotter += 1;
        say(`snapshotter killed (${counts.snapshotter}/${options.snapshotterKills})`);
        current.snapshotter = launch("snapshotter");
      }
      if (options.brokerRestart && counts.brokerRestarts === 0 && round === Math.ceil(rounds / 2)) {
        say("broker: stop");
        await run("bash", [KAFKA_SH, "stop"], { env: options.kafkaShEnv });
        await sleep(3000);
        say("broker: start");
        await run("bash", [KAFKA_SH, "start"], { env: options.kafkaShEnv });
        counts.brokerRestarts += 1;
      }
    }

    // Until every event is in the topic, then a scheduled poll or two re-reading the window.
    say(`kill loop done; waiting for all ${expected.size} events in the topic`);
    for (;;) {
      alive("ingest");
      alive("snapshotter");
      const ids = await publishedIds(kafka, eventTopic, vendor);
      if (new Set(ids).size >= expected.size) break;
      if (Date.now() > deadline) {
        violations.push(`only ${new Set(ids).size} of ${expected.size} events reached the topic in time`);
        break;
      }
      await sleep(5000);
    }
    if (options.settleSeconds > 0) {
      say(`all in the topic; letting the ingest poll for ${options.settleSeconds} s more`);
      await sleep(options.settleSeconds * 1000);
    }
    await kill(alive("ingest"), "SIGTERM");
    await kill(alive("snapshotter"), "SIGTERM");

    // The snapshotter sinks what is left, then exits: its ClickHouse directory is then ours.
    say("draining the topic into ClickHouse (snapshotter --once)");
    const drain = launch("snapshotter", ["--once"]);
    killed.add(drain);
    const drained = await within(drain.exited, Math.max(60_000, deadline - Date.now()));
    if (!drained) {
      await drain.stop("SIGKILL");
      violations.push("snapshotter --once did not finish in time");
    } else if (drained.code !== 0) {
      violations.push(`snapshotter --once exited with code ${drained.code}`);
    }

    const { newestEventMs, ...counted } = await checkTopic(kafka, eventTopic, vendor);
    topic = counted;
    if (topic.duplicates > 0) violations.push(`${topic.duplicates} event ids in the topic more than once`);
    if (topic.missing > 0) violations.push(`${topic.missing} event ids missing from the topic`);
    if (topic.unexpected > 0)
      violations.push(`${topic.unexpected} ids in the topic that the source never had`);

    cursors = await checkCursors(kafka, topics.cursors, newestEventMs, vendor);
    if (cursors.ahead > 0) {
      violations.push(`${cursors.ahead} cursor records ahead of the newest published event`);
    }

    deadLetters = (await kafka.readTopic(topics.dlq, { idleMs: 2000 })).length;

    ({ clickhouse, views } = await readClickHouse(`${dataDir}/chdb`, vendor));
    if (clickhouse.rows !== clickhouse.distinct) {
      violations.push(
        `ClickHouse: count() ${clickhouse.rows} != count(DISTINCT event_id) ${clickhouse.distinct}`,
      );
    }
    if (clickhouse.distinct !== expected.size) {
      violations.push(`ClickHouse holds ${clickhouse.distinct} distinct events, not ${expected.size}`);
    }
    for (const view of views) {
      if (view.rows !== view.expected) {
        violations.push(`ClickHouse ${view.name} holds ${view.rows} rows, not ${view.expected}`);
      }
    }
  } finally {
    for (const p of started) if (!p.exit()) await kill(p, "SIGKILL");
    await vendor.close();
  }

  return {
    vendor: vendor.name,
    prefix,
    events: options.events,
    kills: counts,
    unexpectedExits,
    requests: {
      auditLog: vendor.auditLogRequests(),
      streamPages: vendor.streamPages(),
      repeatsServed: vendor.repeatsServed(),
    },
    topic,
    clickhouse,
    views,
    cursors,
    deadLetters,
    wallSeconds: Math.round((Date.now() - began) / 1000),
    logDir,
    violations,
  };
}

function startVendor(name: VendorName, setup: VendorSetup): Promise<SoakVendor> {
  return name === "openai" ? startOpenaiSource(setup) : startGithubSource(setup);
}

/** The id and event time of every audit event in the topic, read read_committed. */
async function publishedEvents(
  kafka: KafkaClient,
  topic: string,
  vendor: SoakVendor,
): Promise<{ id: string; atMs: number }[]> {
  const records = await kafka.readTopic(topic, { idleMs: 2000 });
  return records.map((r) => vendor.decode(r.value ?? Buffer.alloc(0)));
}

async function publishedIds(kafka: KafkaClient, topic: string, vendor: SoakVendor): Promise<string[]> {
  return (await publishedEvents(kafka, topic, vendor)).map((e) => e.id);
}

/**
 * Each id's count in the topic, read read_committed, and the newest event time in it. A read can
 * stop early (an idle pause), so it is read until two reads agree.
 */
async function checkTopic(
  kafka: KafkaClient,
  topic: string,
  vendor: SoakVendor,
): Promise<SoakSummary["topic"] & { newestEventMs: number }> {
  let events = await publishedEvents(kafka, topic, vendor);
  for (let i = 0; i < 5; i++) {
    const again = await publishedEvents(kafka, topic, vendor);
    if (again.length === events.length) break;
    events = again.length > events.length ? again : events;
  }
  const distinct = new Set(events.map((e) => e.id));
  return {
    records: events.length,
    distinct: distinct.size,
    duplicates: events.length - distinct.size,
    missing: [...vendor.expected].filter((id) => !distinct.has(id)).length,
    unexpected: [...distinct].filter((id) => !vendor.expected.has(id)).length,
    newestEventMs: events.reduce((max, e) => Math.max(max, e.atMs), 0),
  };
}

/**
 * Every cursor record of the audit streams on the cursors topic (each version still there, not
 * only the newest), against the newest event time in the topic: a high-water mark past it means
 * a cursor once claimed events that were never published.
 */
async function checkCursors(
  kafka: KafkaClient,
  cursorTopic: string,
  newestEventMs: number,
  vendor: SoakVendor,
): Promise<SoakSummary["cursors"]> {
  let read = 0;
  let ahead = 0;
  let maxHighWaterMs = 0;
  for (const record of await kafka.readTopic(cursorTopic, { idleMs: 2000 })) {
    if (!record.key || !record.value || !vendor.cursorKeys.test(record.key)) continue;
    const state = JSON.parse(codecs.cursor.decode(record.value).cursor ?? "{}") as { highWaterMs?: unknown };
    if (typeof state.highWaterMs !== "number") continue;
    read += 1;
    maxHighWaterMs = Math.max(maxHighWaterMs, state.highWaterMs);
    if (state.highWaterMs > newestEventMs) ahead += 1;
  }
  return { read, newestEventMs, maxHighWaterMs, ahead };
}

/**
 * count() and count(DISTINCT event_id) of the vendor's event table, and the count of each of its
 * views, from the snapshotter's own directory.
 */
async function readClickHouse(
  dir: string,
  vendor: SoakVendor,
): Promise<{ clickhouse: { rows: number; distinct: number }; views: SoakSummary["views"] }> {
  const ch = await createClickHouse({ url: undefined, database: "aiaudit", dataDir: dir });
  try {
    const [row] = await ch.rows<{ rows: string; distinct: string }>(
      `SELECT count() AS rows, count(DISTINCT event_id) AS distinct FROM ${ch.table(vendor.eventTable)}`,
    );
    const views: SoakSummary["views"] = [];
    for (const view of vendor.views) {
      const where = view.where ? ` WHERE ${view.where}` : "";
      const [counted] = await ch.rows<{ rows: string }>(
        `SELECT count() AS rows FROM ${ch.table(view.name)}${where}`,
      );
      const name = view.where ? `${view.name} (${view.where})` : view.name;
      views.push({ name, rows: Number(counted?.rows ?? 0), expected: view.expected });
    }
    return { clickhouse: { rows: Number(row?.rows ?? 0), distinct: Number(row?.distinct ?? 0) }, views };
  } finally {
    await ch.close();
  }
}

/** Removes a soak's data directory (chdb files, logs). */
export function removeSoakData(prefix: string): void {
  rmSync(`${ROOT}.cache/soak/${prefix}`, { recursive: true, force: true });
}
