/**
 * Issue 9's crash test of the snapshotter ("Done when"): N Copilot audit events are published
 * beforehand, in Kafka transactions, to the audit-events topic of a fresh prefix; the snapshotter
 * then sinks them into ClickHouse as a child process (`node services/snapshotter/src/main.ts`,
 * configured by environment as in production), is killed with SIGKILL at random points of its
 * work (`KillAfter`: right after an insert, at random after its join, at random after a commit),
 * again and again, and restarted. Each time it is dead, the group's committed offsets are
 * read and every event below them must already be in ClickHouse: with no snapshotter running,
 * "no offset was committed before its insert" is checked at each kill exactly, not sampled (a
 * commit request still on the wire may land after the check, but the snapshotter sends one only
 * after ClickHouse acknowledged the insert it covers). At the end (`snapshotter --once`, to the end of the topic) ClickHouse
 * holds every event exactly once, `count()` without FINAL included, and nothing was dead-lettered.
 *
 * The embedded engine (chdb) lets one process at a time open a data directory: this process
 * opens the snapshotter's directory only while no snapshotter runs, and closes it before the
 * next start. With CLICKHOUSE_URL both use that server, in a database of the run's own.
 *
 * Background merges are switched off for the run's table (unless `keepMerges`): it is a
 * ReplacingMergeTree, and a merge folds an event inserted twice into one row, within seconds,
 * before `count()` can see it, hiding the very defect this test looks for.
 *
 * Also the command line behind `scripts/sink-crash.sh` (README.md here); the suite's small
 * version is runner/test/issues/9-sink-crash.test.ts.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { Kafka, logLevel } from "kafkajs";
import { createClickHouse, migrate, type ClickHouse, type ClickHouseSettings } from "@aiaudit/clickhouse";
import { codecs, recordKey, topicNames, topicSpecs, type CopilotAuditEvent } from "@aiaudit/contracts";
import { createPseudonymizer, pseudonymizeDeep, type Pseudonymizer } from "@aiaudit/crypto";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";
import { auditEvents } from "@aiaudit/sim-github";
import { randomSuffix, startServiceProcess, type ProcessExit, type ServiceProcess } from "@aiaudit/testing";
import { integerFlag, sleep, soakMain, UsageError, within } from "./main.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const SNAPSHOTTER_MAIN = `${ROOT}services/snapshotter/src/main.ts`;
const TABLE = "copilot_audit_events";
const TENANT = "crash";
const ORG = "acme";
const HOUR_MS = 3_600_000;
/** How often the group's committed offsets are read while the snapshotter works. */
const WATCH_MS = 100;
/** What the snapshotter logs (at debug) once a batch is in ClickHouse, before it commits it. */
const BATCH_WRITTEN = '"event":"batch_sunk"';

export interface SinkCrashOptions {
  /** Audit events published before the snapshotter first starts. */
  records: number;
  /** SIGKILLs of the snapshotter, each followed by a check and a restart. */
  kills: number;
  /** Events per Kafka transaction when publishing. @default 500 */
  transactionSize?: number;
  /**
   * Join and commit kills (`KillAfter`) come after a random pause of up to this long, ms.
   * @default 1000
   */
  maxKillDelayMs?: number;
  /** Leave background merges on (the production table): a duplicate may then be merged away unseen. @default false */
  keepMerges?: boolean;
  /**
   * More of the snapshotter's environment, over the run's own (e.g. its fetch sizes, to give a
   * small run the batch shapes of a large one). @default {}
   */
  snapshotterEnv?: Record<string, string>;
  /** `host:port` of the broker. */
  brokers: string[];
  /** A ClickHouse server (CLICKHOUSE_URL…); unset: the embedded engine in a directory of the run's own. */
  clickhouse?: { url: string; username: string; password: string } | undefined;
  /** The whole run fails after this long. */
  timeoutMinutes: number;
  /** Keep the run's directory (chdb, logs) and server database after a clean run. @default false */
  keepData?: boolean;
  /** Progress lines. */
  say: (line: string) => void;
}

/**
 * What a kill waits for, in this order, round and round: the process logging that a batch is in
 * ClickHouse (killed at once: its commit is on its way, the kill races it); the restarted process
 * joining the group (then a random pause: it fetches, decodes and inserts its first batches); the
 * group's committed offsets passing k/(kills+1) of the events, by a commit of this process
 * (then a random pause: the run moves on). A process started with nothing left to do gets a join
 * kill.
 */
export type KillAfter = "insert" | "join" | "commit";
const KILL_ORDER: readonly KillAfter[] = ["insert", "join", "commit"];

/** One kill, and what the check after it found. */
export interface KillPoint {
  /** Seconds since the run began. */
  atSeconds: number;
  /** What the kill waited for. */
  after: KillAfter;
  /** Events below the group's committed offsets when the kill was decided. */
  committedBefore: number;
  /** The random pause between the join or commit and the kill, ms (0 after an insert). */
  delayMs: number;
  /** Events below the committed offsets after the kill. */
  committed: number;
  /**
   * Events in ClickHouse at or above the committed offsets: inserted, not yet committed (they
   * are delivered again after the restart).
   */
  insertedAhead: number;
  /**
   * Of those, events the killed process inserted itself (not in ClickHouse at the check
   * before): the kill fell between its insert and its commit.
   */
  insertedAheadHere: number;
  /** Events below the committed offsets that are not in ClickHouse (must be 0). */
  missing: number;
  /**
   * Parts the kill left half-written (`tmp_insert_*` in the table's directory, renamed when
   * complete; the next start removes them). Embedded engine only.
   */
  unfinishedParts: number | undefined;
}

export interface SinkCrashSummary {
  prefix: string;
  records: number;
  /** Events in each partition of the topic. */
  partitions: number[];
  kills: number;
  killPoints: KillPoint[];
  /** Comparisons of the committed offsets with ClickHouse: after each kill or own exit, and at the end. */
  checks: number;
  /** Kills while events were left to sink (the others hit a snapshotter with nothing left to do). */
  killsMidRun: number;
  /**
   * Kills that caught ClickHouse writing an insert's part (`unfinishedParts`; embedded engine
   * only, undefined on a server). Most of an insert is sending and parsing rows, which leaves no
   * trace: this counts only kills in its last step.
   */
  killsDuringInsert: number | undefined;
  /** Kills after which ClickHouse held events the killed process inserted and did not commit. */
  killsBetweenInsertAndCommit: number;
  /** The most events found inserted but not committed at one kill: how far commits trailed inserts. */
  maxCommitLag: number;
  /** Snapshotter processes that exited without being killed (restarted, as a supervisor would). */
  unexpectedExits: string[];
  /** The table at the end: count() without FINAL, distinct event ids, events missing, ids never published. */
  clickhouse: { rows: number; distinct: number; missing: number; unexpected: number };
  /** Whether background merges ran (`keepMerges`). */
  merges: boolean;
  /** Records on the dead-letter topic (none of the events is invalid: any is a violation). */
  deadLetters: number;
  seconds: { publish: number; kills: number; final: number; wall: number };
  /** Where each snapshotter's output was written (removed with the rest after a clean run). */
  logDir: string;
  violations: string[];
}

/** Where each event is in the topic: per partition, its offsets ascending and the id at each. */
interface Positions {
  partitions: Map<number, { offsets: number[]; ids: string[] }>;
  ids: Set<string>;
}

/** What ClickHouse holds. */
interface Stored {
  ids: Set<string>;
  rows: number;
  distinct: number;
}

/** The committed offsets held against ClickHouse. */
interface Comparison {
  /** Events below the committed offsets. */
  committed: number;
  missing: number;
  /** A few missing events, `partition/offset id`. */
  examples: string[];
  insertedAhead: number;
  /** Of those, the ones not in ClickHouse at the check before. */
  insertedAheadHere: number;
  /** Ids in ClickHouse that were never published. */
  unexpected: number;
  stored: Stored;
}

export async function runSinkCrash(options: SinkCrashOptions): Promise<SinkCrashSummary> {
  const began = Date.now();
  const deadline = began + options.timeoutMinutes * 60_000;
  const prefix = `crash-${randomSuffix()}`;
  const dataDir = `${ROOT}.cache/sink-crash/${prefix}`;
  const logDir = `${dataDir}/logs`;
  mkdirSync(logDir, { recursive: true });
  const seconds = (from: number) => Math.round((Date.now() - from) / 1000);
  const say = (line: string) =>
    options.say(`[sink-crash ${((Date.now() - began) / 1000).toFixed(1).padStart(6)} s] ${line}`);
  const topics = topicNames(prefix);
  const topic = topics.copilotAuditEvents;
  const groupId = `${prefix}.snapshotter`;
  const kafka = createKafka({
    brokers: options.brokers,
    clientId: "aiaudit-sink-crash",
    logger: createLogger({ name: "sink-crash", level: "error" }),
  });
  const server = options.clickhouse;
  const clickhouse: ClickHouseSettings = server
    ? { ...server, database: prefix.replace("-", "_") }
    : { url: undefined, database: "aiaudit", dataDir: `${dataDir}/chdb` };
  const open = () => createClickHouse(clickhouse);
  const merges = options.keepMerges === true;

  const where = server
    ? `${server.url}, database ${clickhouse.database}`
    : `embedded, ${clickhouse.dataDir ?? ""}`;
  say(
    `${options.records} events, ${options.kills} kills; topic ${topic}; ClickHouse ${where}` +
      (merges ? "" : ", merges off"),
  );
  await kafka.ensureTopics(topicSpecs(prefix));
  const published = Date.now();
  await publish(kafka, topic, options.records, options.transactionSize ?? 500, say);
  const positions = await readPositions(kafka, topic, options.records);
  const publishSeconds = seconds(published);
  const perPartition = [...positions.partitions].sort(([a], [b]) => a - b).map(([, p]) => p.ids.length);
  say(`published and read back in ${publishSeconds} s; events per partition: ${perPartition.join(", ")}`);
  await prepareTable(open, merges);

  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_OPTIONS: process.env.NODE_OPTIONS,
    KAFKA_BROKERS: options.brokers.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    // Debug logs each batch once it is in ClickHouse, before its commit: the insert kills watch for it.
    LOG_LEVEL: "debug",
    HTTP_PORT: "0",
    CLICKHOUSE_DATABASE: clickhouse.database,
    SNAPSHOTTER_GROUP_ID: groupId,
    ...(server
      ? { CLICKHOUSE_URL: server.url, CLICKHOUSE_USER: server.username, CLICKHOUSE_PASSWORD: server.password }
      : { CLICKHOUSE_DATA_DIR: clickhouse.dataDir }),
    ...options.snapshotterEnv,
  };
  const started: ServiceProcess[] = [];
  const killed = new Set<ServiceProcess>();
  const unexpectedExits: string[] = [];
  function launch(args: string[] = []): ServiceProcess {
    const p = startServiceProcess(`snapshotter-${started.length + 1}`, SNAPSHOTTER_MAIN, { env, args });
    started.push(p);
    void p.exited.then((exit) => {
      writeFileSync(`${logDir}/${p.name}.log`, `${p.output()}\n`);
      if (!killed.has(p)) unexpectedExits.push(`${p.name}: code ${exit.code}, signal ${exit.signal}`);
    });
    return p;
  }

  const violations: string[] = [];
  const killPoints: KillPoint[] = [];
  let checks = 0;
  let storedBefore: ReadonlySet<string> = new Set();
  const group = await watchGroup(options.brokers, groupId, topic);
  /** Compares the committed offsets with ClickHouse; only while no snapshotter runs. */
  async function check(label: string): Promise<Comparison> {
    const result = compare(positions, await group.committed(), await readStored(open), storedBefore);
    storedBefore = result.stored.ids;
    checks += 1;
    const { stored } = result;
    if (result.missing > 0) {
      violations.push(
        `${label}: ${result.missing} events below the committed offsets are not in ClickHouse (${result.examples.join(", ")})`,
      );
    }
    if (stored.rows !== stored.distinct) {
      violations.push(`${label}: count() ${stored.rows} != uniqExact(event_id) ${stored.distinct}`);
    }
    if (result.unexpected > 0) violations.push(`${label}: ${result.unexpected} ids never published`);
    return result;
  }

  let killsDone = 0;
  let killPhaseSeconds = 0;
  let finalSeconds = 0;
  let final: Comparison;
  let deadLetters = 0;
  try {
    const killPhase = Date.now();
    /** Group members of processes already killed: a new member is the running process. */
    const gone = new Set<string>();
    while (killsDone < options.kills && unexpectedExits.length <= options.kills) {
      const k = killsDone + 1;
      const atStart = committedEvents(positions, await group.committed());
      // With nothing left to do, no batch is written: kill it after it joined.
      const after = atStart >= options.records ? "join" : (KILL_ORDER[(k - 1) % KILL_ORDER.length] ?? "join");
      // A commit kill waits for k/(kills+1) of the events to be committed, by this process too
      // (at least one commit of its own: it is at work).
      const mark = Math.ceil((k * options.records) / (options.kills + 1));
      const target = Math.max(mark, atStart + 1);
      const child = launch();
      const reached =
        after === "insert"
          ? await killAtBatchWritten(child, atStart)
          : await until(child, async () => {
              if (after === "join") {
                const { state, members } = await group.members();
                if (state !== "Stable" || members.length === 0 || members.some((m) => gone.has(m)))
                  return undefined;
              }
              const committed = committedEvents(positions, await group.committed());
              return after === "join" || committed >= target ? committed : undefined;
            });
      if (reached === "timeout") {
        violations.push(
          after === "commit"
            ? `the group did not commit ${target} events before the timeout`
            : `${child.name} did not ${after === "join" ? "join the group" : "write a batch"} before the timeout`,
        );
        killed.add(child);
        await child.stop("SIGKILL");
        break;
      }
      if (reached === "exited") {
        say(`${child.name} exited on its own (${unexpectedExits.at(-1) ?? ""}); checking, restarting`);
        await check(`after ${child.name} exited`);
        continue;
      }
      const delayMs = after === "insert" ? 0 : Math.round(Math.random() * (options.maxKillDelayMs ?? 1000));
      await sleep(delayMs);
      for (const member of (await group.members()).members) gone.add(member);
      killed.add(child);
      await child.stop("SIGKILL");
      killsDone = k;
      const unfinishedParts = server ? undefined : unfinishedInsertParts(clickhouse);
      const found = await check(`kill ${k}`);
      killPoints.push({
        atSeconds: seconds(began),
        after,
        committedBefore: reached,
        delayMs,
        committed: found.committed,
        insertedAhead: found.insertedAhead,
        insertedAheadHere: found.insertedAheadHere,
        missing: found.missing,
        unfinishedParts,
      });
      const cause = {
        join: `${delayMs} ms after it joined the group`,
        commit: `${delayMs} ms after the group committed ${reached}`,
        insert: "as it logged a batch written",
      }[after];
      const cut = unfinishedParts ? `, ${unfinishedParts} parts left half-written` : "";
      say(
        `kill ${k}/${options.kills} ${cause}: ${found.committed} committed, ` +
          `${found.stored.ids.size} in ClickHouse (${found.insertedAhead} inserted ahead of their commit, ` +
          `${found.insertedAheadHere} by this process)` +
          `${cut}, ${found.missing} missing`,
      );
    }
    if (unexpectedExits.length > options.kills) violations.push("the snapshotter kept exiting on its own");
    killPhaseSeconds = seconds(killPhase);

    // A final run to completion: `--once` sinks up to the end and exits 0.
    const finalPhase = Date.now();
    say("final run: snapshotter --once, to the end of the topic");
    const last = launch(["--once"]);
    killed.add(last);
    const exit: ProcessExit | undefined = await within(last.exited, Math.max(60_000, deadline - Date.now()));
    if (!exit) {
      await last.stop("SIGKILL");
      violations.push("snapshotter --once did not finish in time");
    } else if (exit.code !== 0) {
      violations.push(`snapshotter --once exited with code ${exit.code}`);
    }
    final = await check("final");
    finalSeconds = seconds(finalPhase);
    const { stored } = final;
    if (final.committed !== options.records) {
      violations.push(`the committed offsets cover ${final.committed} of ${options.records} events`);
    }
    if (stored.rows !== options.records) {
      violations.push(`ClickHouse count() (no FINAL) is ${stored.rows}, not ${options.records}`);
    }
    if (stored.distinct !== options.records) {
      violations.push(`ClickHouse holds ${stored.distinct} distinct events, not ${options.records}`);
    }
    deadLetters = (await kafka.readTopic(topics.dlq, { idleMs: 2000 })).length;
    if (deadLetters > 0) violations.push(`${deadLetters} records on the dead-letter topic`);
  } finally {
    for (const p of started) {
      if (p.exit()) continue;
      killed.add(p);
      await p.stop("SIGKILL");
    }
    await group.close();
  }

  if (violations.length === 0 && options.keepData !== true) {
    if (server) await dropDatabase(open);
    rmSync(dataDir, { recursive: true, force: true });
  }
  const inserted = killPoints.filter((p) => p.insertedAheadHere > 0);
  const { stored } = final;
  return {
    prefix,
    records: options.records,
    partitions: perPartition,
    kills: killsDone,
    killPoints,
    checks,
    killsMidRun: killPoints.filter((p) => p.committed < options.records).length,
    killsDuringInsert: server ? undefined : killPoints.filter((p) => (p.unfinishedParts ?? 0) > 0).length,
    killsBetweenInsertAndCommit: inserted.length,
    maxCommitLag: Math.max(0, ...killPoints.map((p) => p.insertedAhead)),
    unexpectedExits,
    clickhouse: {
      rows: stored.rows,
      distinct: stored.distinct,
      missing: [...positions.ids].filter((id) => !stored.ids.has(id)).length,
      unexpected: final.unexpected,
    },
    merges,
    deadLetters,
    seconds: { publish: publishSeconds, kills: killPhaseSeconds, final: finalSeconds, wall: seconds(began) },
    logDir,
    violations,
  };

  /**
   * `probe`'s value once it has one (asked every WATCH_MS), "exited" when the snapshotter exits
   * first, "timeout" at the deadline.
   */
  async function until<T>(
    child: ServiceProcess,
    probe: () => Promise<T | undefined>,
  ): Promise<T | "exited" | "timeout"> {
    for (;;) {
      if (child.exit()) return "exited";
      const value = await probe();
      if (value !== undefined) return value;
      if (Date.now() > deadline) return "timeout";
      await sleep(WATCH_MS);
    }
  }

  /**
   * Kills `child` the moment it logs a batch written to ClickHouse (its commit follows within
   * milliseconds: the kill races it) and resolves `committed`; "exited" when it exits first,
   * "timeout" at the deadline.
   */
  function killAtBatchWritten(
    child: ServiceProcess,
    committed: number,
  ): Promise<number | "exited" | "timeout"> {
    const stdout = child.child.stdout;
    return new Promise((resolve) => {
      let tail = "";
      const timer = setTimeout(() => finish("timeout"), Math.max(0, deadline - Date.now()));
      const onData = (chunk: Buffer) => {
        const text = tail + chunk.toString("utf8");
        tail = text.slice(-BATCH_WRITTEN.length);
        if (!text.includes(BATCH_WRITTEN)) return;
        killed.add(child);
        child.child.kill("SIGKILL");
        finish(committed);
      };
      function finish(outcome: number | "exited" | "timeout") {
        clearTimeout(timer);
        stdout?.off("data", onData);
        resolve(outcome);
      }
      stdout?.on("data", onData);
      void child.exited.then(() => finish("exited"));
    });
  }
}

/**
 * Parts of an insert that never finished in the table's directory of the embedded engine: a
 * part is written as `tmp_insert_*` and renamed when complete, so one left over after a kill
 * means the kill cut that insert short.
 */
function unfinishedInsertParts(settings: ClickHouseSettings): number {
  try {
    const dir = `${settings.dataDir ?? ""}/data/${settings.database}/${TABLE}`;
    return readdirSync(dir).filter((name) => name.startsWith("tmp_insert")).length;
  } catch {
    return 0;
  }
}

/** N Copilot audit events as ingest-copilot publishes them: GitHub's fixture shape, people pseudonymized. */
function copilotEvents(count: number, now: number): CopilotAuditEvent[] {
  const p = createPseudonymizer(Buffer.alloc(32, 0x5a));
  const raw = auditEvents(ORG, count, { startMs: now - 25 * HOUR_MS, spanMs: 24 * HOUR_MS, agentEvery: 10 });
  return raw.map((event) => copilotEvent(event, p, now));
}

function copilotEvent(raw: Record<string, unknown>, p: Pseudonymizer, now: number): CopilotAuditEvent {
  const text = (value: unknown) => (typeof value === "string" ? value : null);
  const isAgent = raw.actor_is_agent === true;
  const actor = text(raw.actor);
  const user = text(raw.user);
  const location = raw.actor_location as { country_code?: unknown } | undefined;
  const at = raw["@timestamp"];
  return {
    event_id: text(raw._document_id) ?? "",
    tenant: TENANT,
    org: ORG,
    scope: "ORGANIZATION",
    action: text(raw.action) ?? "",
    created_at: typeof at === "number" ? at : 0,
    actor_pseudonym: !isAgent && actor ? p.pseudonym(actor) : null,
    actor_agent: isAgent ? actor : null,
    actor_is_agent: isAgent,
    agent_session_id: text(raw.agent_session_id),
    user_pseudonym: user ? p.pseudonym(user) : null,
    actor_country_code: text(location?.country_code),
    business: text(raw.business),
    event_org: text(raw.org),
    raw_json: JSON.stringify(pseudonymizeDeep(raw, p, "audit-event")),
    pseudonym_key_id: p.keyId,
    ingested_at: now,
  };
}

/** Publishes `count` events in transactions of `size`; keys spread them over the topic's partitions. */
async function publish(
  kafka: KafkaClient,
  topic: string,
  count: number,
  size: number,
  say: (line: string) => void,
): Promise<void> {
  const events = copilotEvents(count, Date.now());
  const producer = await kafka.transactionalProducer(`${topic}.publisher`);
  try {
    for (let from = 0; from < events.length; from += size) {
      const records = events.slice(from, from + size).map((event) => ({
        topic,
        key: recordKey(event.tenant, event.org, event.event_id),
        value: codecs.copilotAuditEvent.encode(event),
      }));
      await producer.transaction((tx) => tx.send(records));
      const done = Math.min(from + size, count);
      if (Math.floor(done / 50_000) > Math.floor(from / 50_000)) say(`published ${done}`);
    }
  } finally {
    await producer.disconnect();
  }
}

/** Each event's partition and offset, read back read_committed (again while a read stopped short). */
async function readPositions(kafka: KafkaClient, topic: string, expected: number): Promise<Positions> {
  let records = await kafka.readTopic(topic, { idleMs: 3000 });
  for (let i = 0; i < 5 && records.length < expected; i++) {
    records = await kafka.readTopic(topic, { idleMs: 3000 });
  }
  const partitions = new Map<number, { offsets: number[]; ids: string[] }>();
  const ids = new Set<string>();
  for (const record of records) {
    const id = codecs.copilotAuditEvent.decode(record.value ?? Buffer.alloc(0)).event_id;
    const partition = partitions.get(record.partition) ?? { offsets: [], ids: [] };
    partitions.set(record.partition, partition);
    partition.offsets.push(Number(record.offset)); // readTopic sorts by partition and offset
    partition.ids.push(id);
    ids.add(id);
  }
  if (records.length !== expected || ids.size !== expected) {
    throw new Error(`the topic holds ${records.length} records, ${ids.size} ids; ${expected} were published`);
  }
  return { partitions, ids };
}

/** Applies the migrations before the first start; turns the table's background merges off unless `merges`. */
async function prepareTable(open: () => Promise<ClickHouse>, merges: boolean): Promise<void> {
  const ch = await open();
  try {
    await migrate(ch);
    if (!merges) {
      // 0 disables merges (system.merge_tree_settings): a row inserted twice stays two rows.
      await ch.command(
        `ALTER TABLE ${ch.table(TABLE)} MODIFY SETTING max_bytes_to_merge_at_max_space_in_pool = 0`,
      );
    }
  } finally {
    await ch.close();
  }
}

async function dropDatabase(open: () => Promise<ClickHouse>): Promise<void> {
  const ch = await open();
  try {
    await ch.command(`DROP DATABASE IF EXISTS \`${ch.database}\``);
  } finally {
    await ch.close();
  }
}

/** Every event id in the table, count() without FINAL and the distinct ids. */
async function readStored(open: () => Promise<ClickHouse>): Promise<Stored> {
  const ch = await open();
  try {
    const table = ch.table(TABLE);
    const ids = new Set<string>();
    for await (const row of ch.stream<{ event_id: string }>(`SELECT event_id FROM ${table}`))
      ids.add(row.event_id);
    const [counts] = await ch.rows<{ rows: string; distinct: string }>(
      `SELECT count() AS rows, uniqExact(event_id) AS distinct FROM ${table}`,
    );
    return { ids, rows: Number(counts?.rows ?? 0), distinct: Number(counts?.distinct ?? 0) };
  } finally {
    await ch.close();
  }
}

/**
 * The snapshotter's group seen from outside, by a kafkajs admin client: its committed offset of
 * each partition of `topic` (absent: nothing committed), and its state and member ids.
 * `@aiaudit/kafka` hands a group's offsets only to a member of the group
 * (`GroupConsumer.committed()`), and joining the snapshotter's group to read them would take its
 * partitions and change the run being measured; so this reads them as an operator's tool does.
 */
async function watchGroup(brokers: string[], groupId: string, topic: string) {
  const admin = new Kafka({ clientId: "aiaudit-sink-crash", brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  return {
    async committed(): Promise<Map<number, number>> {
      const [entry] = await patiently(() => admin.fetchOffsets({ groupId, topics: [topic] }));
      return new Map((entry?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
    },
    async members(): Promise<{ state: string; members: string[] }> {
      // A coordinator moving under load (NOT_COORDINATOR_FOR_GROUP) is "not known yet", not a failure.
      const described = await patiently(() => admin.describeGroups([groupId])).catch(() => undefined);
      const [description] = described?.groups ?? [];
      return {
        state: description?.state ?? "Unknown",
        members: (description?.members ?? []).map((m) => m.memberId),
      };
    },
    close: () => admin.disconnect(),
  };
}

/** `request`, tried again after a pause while the broker answers with retriable errors (up to 30 s). */
async function patiently<T>(request: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    try {
      return await request();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

/** How many of `offsets` (ascending) are below `committed`. */
function countBelow(offsets: number[], committed: number): number {
  let low = 0;
  let high = offsets.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((offsets[mid] ?? Infinity) < committed) low = mid + 1;
    else high = mid;
  }
  return low;
}

function committedEvents(positions: Positions, committed: Map<number, number>): number {
  let events = 0;
  for (const [partition, { offsets }] of positions.partitions) {
    events += countBelow(offsets, committed.get(partition) ?? -1);
  }
  return events;
}

/**
 * Every event below its partition's committed offset must be in ClickHouse; those above may be.
 * `before`: the ids ClickHouse held at the check before.
 */
function compare(
  positions: Positions,
  committed: Map<number, number>,
  stored: Stored,
  before: ReadonlySet<string>,
): Comparison {
  const result: Comparison = {
    committed: 0,
    missing: 0,
    examples: [],
    insertedAhead: 0,
    insertedAheadHere: 0,
    unexpected: 0,
    stored,
  };
  for (const [partition, { offsets, ids }] of positions.partitions) {
    const end = countBelow(offsets, committed.get(partition) ?? -1);
    result.committed += end;
    ids.forEach((id, i) => {
      const inClickHouse = stored.ids.has(id);
      if (i < end && !inClickHouse) {
        result.missing += 1;
        if (result.examples.length < 5) result.examples.push(`${partition}/${offsets[i] ?? "?"} ${id}`);
      } else if (i >= end && inClickHouse) {
        result.insertedAhead += 1;
        if (!before.has(id)) result.insertedAheadHere += 1;
      }
    });
  }
  for (const id of stored.ids) if (!positions.ids.has(id)) result.unexpected += 1;
  return result;
}

// ---------------------------------------------------------------------------------------------
// The command line: scripts/sink-crash.sh [flags]. Exit 0 passed, 1 a violation, 2 usage.

const USAGE = `usage: scripts/sink-crash.sh [flags]
  --records N              audit events published beforehand (default 200000)
  --kills N                SIGKILLs of the snapshotter (default 10)
  --transaction-size N     events per Kafka transaction when publishing (default 500)
  --max-kill-delay-ms MS   join and commit kills come up to this long after the join or commit (default 1000)
  --keep-merges            leave the table's background merges on (a duplicate may be merged away unseen)
  --private-broker         run on a broker of its own (port 29192, .cache/sink-crash-kafka), started
                           and stopped here
  --timeout-minutes M      the run fails after this long (default 30)
  --keep-data              keep .cache/sink-crash/<prefix> (chdb, logs) after a clean run
  --snapshotter-env N=V    more environment for the snapshotter (repeatable), e.g. its
                           SNAPSHOTTER_FETCH_* sizes
  --small                  5,000 events, 3 kills
ClickHouse: the embedded engine, or the server at CLICKHOUSE_URL (CLICKHOUSE_USER, CLICKHOUSE_PASSWORD).`;

/** A broker of the run's own: kafka.sh's variables, away from the shared one and from kill-loop.sh's. */
const PRIVATE_BROKER = {
  KAFKA_PORT: "29192",
  KAFKA_CONTROLLER_PORT: "29193",
  KAFKA_DATA_DIR: `${ROOT}.cache/sink-crash-kafka`,
};

function parse(argv: string[]): { options: Omit<SinkCrashOptions, "say">; privateBroker: boolean } {
  const { values } = parseArgs({
    args: argv,
    options: {
      records: { type: "string" },
      kills: { type: "string" },
      "transaction-size": { type: "string" },
      "max-kill-delay-ms": { type: "string" },
      "keep-merges": { type: "boolean" },
      "private-broker": { type: "boolean" },
      "timeout-minutes": { type: "string" },
      "keep-data": { type: "boolean" },
      "snapshotter-env": { type: "string", multiple: true },
      small: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) throw new UsageError("");
  const small = values.small === true;
  const int = (name: keyof typeof values, fallback: number, min = 0): number =>
    integerFlag(values, name, fallback, min);
  const privateBroker = values["private-broker"] === true;
  const url = process.env.CLICKHOUSE_URL;
  const snapshotterEnv: Record<string, string> = {};
  for (const pair of values["snapshotter-env"] ?? []) {
    const [name = "", ...value] = pair.split("=");
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || value.length === 0) {
      throw new UsageError(`--snapshotter-env takes NAME=VALUE, not ${pair}`);
    }
    snapshotterEnv[name] = value.join("=");
  }
  return {
    privateBroker,
    options: {
      records: int("records", small ? 5000 : 200_000, 1),
      kills: int("kills", small ? 3 : 10),
      transactionSize: int("transaction-size", 500, 1),
      maxKillDelayMs: int("max-kill-delay-ms", 1000),
      keepMerges: values["keep-merges"] === true,
      snapshotterEnv,
      brokers: privateBroker
        ? [`127.0.0.1:${PRIVATE_BROKER.KAFKA_PORT}`]
        : (process.env.KAFKA_BROKERS ?? "127.0.0.1:19092").split(","),
      clickhouse: url
        ? {
            url,
            username: process.env.CLICKHOUSE_USER ?? "default",
            password: process.env.CLICKHOUSE_PASSWORD ?? "",
          }
        : undefined,
      timeoutMinutes: int("timeout-minutes", small ? 5 : 30, 1),
      keepData: values["keep-data"] === true,
    },
  };
}

function report(s: SinkCrashSummary): string {
  const kinds = KILL_ORDER.map(
    (kind) => `${s.killPoints.filter((p) => p.after === kind).length} after ${kind}`,
  ).join(", ");
  const ch =
    `count() ${s.clickhouse.rows} (no FINAL), distinct ${s.clickhouse.distinct}, ` +
    `missing ${s.clickhouse.missing}, never published ${s.clickhouse.unexpected}`;
  return [
    "",
    `sink-crash ${s.prefix}: ${s.violations.length === 0 ? "PASSED" : "FAILED"} in ${s.seconds.wall} s`,
    `  events          ${s.records} (per partition ${s.partitions.join(", ")})`,
    `  kills           ${s.kills} (${kinds}): ${s.killsMidRun} with events left to sink`,
    `                  ${s.killsDuringInsert ?? "?"} caught a part half-written, ${s.killsBetweenInsertAndCommit} fell between an insert and its commit`,
    `  checks          ${s.checks} (committed offsets against ClickHouse, snapshotter dead)`,
    `  commit lag      at most ${s.maxCommitLag} events inserted ahead of their commit at a kill`,
    `  own exits       ${s.unexpectedExits.length === 0 ? "none" : s.unexpectedExits.join("; ")}`,
    `  ClickHouse      ${ch}; merges ${s.merges ? "on" : "off"}`,
    `  dead letters    ${s.deadLetters}`,
    `  seconds         publish ${s.seconds.publish}, kills ${s.seconds.kills}, final ${s.seconds.final}`,
    `  process logs    ${s.logDir}`,
    ...s.violations.map((v) => `  VIOLATION       ${v}`),
    "",
  ].join("\n");
}

if (import.meta.main) {
  process.exitCode = await soakMain({
    usage: USAGE,
    parse,
    brokerEnv: () => ({ ...process.env, ...PRIVATE_BROKER }),
    run: (parsed, say) => runSinkCrash({ ...parsed.options, say }),
    report,
  });
}
