/**
 * Benchmark (issue 9): records per second from Kafka into ClickHouse through the snapshotter,
 * against a raw insert of the same rows in the same run. N Copilot audit events (100,000 by
 * default; realistic `raw_json` from the GitHub simulator's generator, pseudonymized) are published
 * to the audit-events topic beforehand, in transactions of 500 as ingest would. Then, alternating
 * which goes first, each round runs:
 *
 * - sink: the snapshotter's service with its default fetch settings and a fresh consumer group,
 *   into a fresh migrated database: start → the group's committed offsets reach the end → stop
 *   (`runOnce`: Kafka fetch, Avro decode, rows, digest tokens, ClickHouse inserts, commits);
 * - raw insert: the same row objects the sink builds, inserted with `ch.insert` into another fresh
 *   database, in inserts of the sizes the sink made in that round, no Kafka, no tokens.
 *
 * Reports records/s of each (medians), their ratio (target ≥ 0.5), and the rows per insert the
 * sink made (the batch sizes it gets from the broker). Last, the batch sizes of a stream rather
 * than a backlog: the snapshotter running while LIVE_RATE records a second (default 5,000; 0
 * skips it) arrive for 10 s.
 *
 * Run: deploy/local/kafka/kafka.sh start && node bench/sink.ts [records] [rounds]
 * e.g. node bench/sink.ts 200000 3. SNAPSHOTTER_FETCH_* and SNAPSHOTTER_MAX_INSERT_ROWS in the
 * environment reach the service (kafkajs's fetch defaults, as before issue 9:
 * SNAPSHOTTER_FETCH_MIN_BYTES=1 SNAPSHOTTER_FETCH_MAX_WAIT_MS=500
 * SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION=1048576 SNAPSHOTTER_FETCH_MAX_BYTES=10485760).
 */
import { rmSync } from "node:fs";
import { applyRetention, createClickHouse, migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { codecs, recordKey, topicNames, topicSpecs, type CopilotAuditEvent } from "@aiaudit/contracts";
import type { OutgoingRecord } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";
import { createService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import { randomSuffix, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";
import { auditEventRows } from "../services/snapshotter/src/transforms/event-rows.ts";
import { benchAuditEvents } from "./audit-event-values.ts";

const count = Number(process.argv[2] ?? 100_000);
const rounds = Number(process.argv[3] ?? 3);
const logger = createLogger({ name: "bench", level: process.env.LOG_LEVEL ?? "error" });
const kafka = testKafka(logger);
const dataDir = ".cache/bench-sink-chdb";
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const TABLE = "copilot_audit_events";
/** The batch settings given to the benchmark, passed on to the service. */
const batchEnv = Object.fromEntries(
  Object.entries(process.env).filter(
    ([name]) => name.startsWith("SNAPSHOTTER_FETCH_") || name === "SNAPSHOTTER_MAX_INSERT_ROWS",
  ),
);

// The records, as ingest-copilot would have written them.
const prefix = uniquePrefix("bench-sink");
const topics = topicNames(prefix);
const now = Date.now();
const values: CopilotAuditEvent[] = benchAuditEvents(count, now);
const records: OutgoingRecord[] = values.map((v) => ({
  topic: topics.copilotAuditEvents,
  key: recordKey("bench", "acme", v.event_id),
  value: codecs.copilotAuditEvent.encode(v),
}));
const bytes = records.reduce((n, r) => n + (r.value?.length ?? 0), 0);
await kafka.ensureTopics(topicSpecs(prefix));
const t = performance.now();
const producer = await kafka.transactionalProducer(`${prefix}.ingest`);
for (let i = 0; i < records.length; i += 500) {
  await producer.transaction((tx) => tx.send(records.slice(i, i + 500)));
}
await producer.disconnect();
console.log(
  `published ${count} audit events (${(bytes / count).toFixed(0)} bytes each, Avro) in ${Math.round(performance.now() - t)} ms`,
);

// The rows the sink builds from them (the same function, the same values).
const rows = values.map((v) => {
  const result = auditEventRows(v, now);
  if (!result.ok) throw new Error(result.reason);
  const [row] = result.value[TABLE] ?? [];
  if (!row) throw new Error("no row");
  return row;
});

/** A fresh migrated database with the default retention, and a ClickHouse that records insert sizes. */
async function freshDatabase(kind: string) {
  const ch = await createClickHouse({ database: `bench_${kind}_${randomSuffix()}`, dataDir });
  await migrate(ch);
  await applyRetention(ch, 400);
  const sizes: number[] = [];
  /** When the first insert began and the last one ended (performance.now()), ms inside inserts. */
  const span = { first: NaN, last: NaN, inserting: 0 };
  const recording: ClickHouse = {
    ...ch,
    async insert(table, inserted, token) {
      sizes.push(inserted.length);
      const began = performance.now();
      if (Number.isNaN(span.first)) span.first = began;
      await ch.insert(table, inserted, token);
      span.last = performance.now();
      span.inserting += span.last - began;
    },
  };
  return { ch: recording, sizes, span };
}

async function landed(ch: ClickHouse): Promise<number> {
  const [row] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${ch.table(TABLE)} FINAL`);
  return Number(row?.n);
}

async function drop(ch: ClickHouse): Promise<void> {
  await ch.command(`DROP DATABASE IF EXISTS \`${ch.database}\``);
  await ch.close();
}

/** The snapshotter from start until its group committed the end of the topic; the insert sizes. */
/** The snapshotter on the topics of `topicPrefix`, a new consumer group, into `ch`. */
function snapshotter(topicPrefix: string, ch: ClickHouse) {
  return createService(
    loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      SNAPSHOTTER_GROUP_ID: `${topicPrefix}-${randomSuffix()}`,
      CLICKHOUSE_MIGRATE_ON_START: "false",
      LOG_LEVEL: "error",
      ...batchEnv,
    }),
    { logger, kafka, clickhouse: ch },
  );
}

async function sinkRound(): Promise<{
  ms: number;
  sizes: number[];
  before: number;
  after: number;
  inserting: number;
}> {
  const { ch, sizes, span } = await freshDatabase("sink");
  const service = snapshotter(prefix, ch);
  const started = performance.now();
  const ok = await service.runOnce();
  const ended = performance.now();
  await service.stop();
  if (!ok) throw new Error("the sink's pass failed");
  const n = await landed(ch);
  await drop(ch);
  if (n !== count) throw new Error(`the sink landed ${n} rows, expected ${count}`);
  // Fixed costs: joining the group and the first fetch before the first insert; after the last,
  // the commit and `runOnce` noticing that the committed offsets reached the end.
  return {
    ms: ended - started,
    sizes,
    before: span.first - started,
    after: ended - span.last,
    inserting: span.inserting,
  };
}

/** The same rows, inserted straight into a fresh database in inserts of `sizes` rows. */
async function rawRound(sizes: number[]): Promise<number> {
  const { ch } = await freshDatabase("raw");
  const started = performance.now();
  let at = 0;
  for (const size of sizes) {
    await ch.insert(TABLE, rows.slice(at, at + size));
    at += size;
  }
  const ms = performance.now() - started;
  const n = await landed(ch);
  await drop(ch);
  if (n !== count) throw new Error(`the raw insert landed ${n} rows, expected ${count}`);
  return ms;
}

const sinkRates: number[] = [];
const rawRates: number[] = [];
const allSizes: number[] = [];
// The raw insert's first round needs sizes before the sink has run: a warm-up pass of the sink.
let lastSizes = (await sinkRound()).sizes;
for (let round = 1; round <= rounds; round++) {
  let sink: Awaited<ReturnType<typeof sinkRound>>;
  let rawMs: number;
  if (round % 2 === 1) {
    sink = await sinkRound();
    rawMs = await rawRound(sink.sizes);
  } else {
    rawMs = await rawRound(lastSizes);
    sink = await sinkRound();
  }
  lastSizes = sink.sizes;
  allSizes.push(...sink.sizes);
  sinkRates.push(rate(count, sink.ms));
  rawRates.push(rate(count, rawMs));
  const sorted = [...sink.sizes].sort((a, b) => a - b);
  console.log(
    `round ${round}: sink ${sinkRates.at(-1)} rec/s (${Math.round(sink.ms)} ms: first insert after ` +
      `${Math.round(sink.before)} ms, ${Math.round(sink.inserting)} ms in inserts, done ${Math.round(sink.after)} ms after the last; ${sink.sizes.length} inserts, ` +
      `rows min ${sorted[0]} median ${median(sorted)} max ${sorted.at(-1)}), raw insert ${rawRates.at(-1)} rec/s (${Math.round(rawMs)} ms)`,
  );
}

/**
 * Not a backlog but a stream: the snapshotter running while `perSecond` records a second arrive
 * (a transaction every 100 ms) for `seconds`; the rows per insert it makes then.
 */
async function live(perSecond: number, seconds: number): Promise<number[]> {
  const livePrefix = uniquePrefix("bench-sink-live");
  const topic = topicNames(livePrefix).copilotAuditEvents;
  await kafka.ensureTopics(topicSpecs(livePrefix));
  const { ch, sizes } = await freshDatabase("live");
  const service = snapshotter(livePrefix, ch);
  await service.start();
  while (!(await service.ready()).checks.consumer?.ok) await new Promise((r) => setTimeout(r, 100));
  const ingest = await kafka.transactionalProducer(`${livePrefix}.ingest`);
  const perTick = Math.max(1, Math.round(perSecond / 10));
  const ticks = seconds * 10;
  const began = performance.now();
  for (let tick = 0; tick < ticks; tick++) {
    const slice = records.slice((tick * perTick) % count, ((tick * perTick) % count) + perTick);
    await ingest.transaction((tx) => tx.send(slice.map((r) => ({ ...r, topic }))));
    const wait = began + (tick + 1) * 100 - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  }
  await ingest.disconnect();
  const ok = await service.runOnce();
  await service.stop();
  await drop(ch);
  if (!ok) throw new Error("the live pass failed");
  return sizes;
}

const livePerSecond = Number(process.env.LIVE_RATE ?? 5000);
const liveSizes = livePerSecond > 0 ? await live(livePerSecond, 10) : [];
rmSync(dataDir, { recursive: true, force: true });

const sorted = [...allSizes].sort((a, b) => a - b);
const settings = Object.entries(batchEnv).map(([name, value]) => `${name}=${value}`);
console.log(
  `\n${count} audit events x ${rounds} rounds (medians), ${settings.join(" ") || "default settings"}`,
);
console.log(`  snapshotter, Kafka -> ClickHouse (start to committed): ${median(sinkRates)} records/s`);
console.log(`  raw ch.insert of the same rows, same insert sizes:     ${median(rawRates)} records/s`);
console.log(
  `  ratio sink / raw insert: ${(median(sinkRates) / median(rawRates)).toFixed(2)} (target >= 0.5)`,
);
console.log(
  `  rows per insert: ${sorted.length} inserts, min ${sorted[0]}, median ${median(sorted)}, max ${sorted.at(-1)}`,
);
if (liveSizes.length > 0) {
  const seen = [...liveSizes].sort((a, b) => a - b);
  console.log(
    `  live, ${livePerSecond} records/s for 10 s: ${seen.length} inserts, rows min ${seen[0]}, ` +
      `median ${median(seen)}, max ${seen.at(-1)}`,
  );
}
