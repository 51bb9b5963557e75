/**
 * Issue 6, defect 2 (sink side): one record the sink cannot insert blocked its partition for good
 * (the insert failed on every re-delivery, with warnings only). Now the good rows of the batch land,
 * each poison record goes to the dead-letter topic with the reason, the group's offset moves past
 * it, and a re-delivered batch inserts nothing twice. Real broker, embedded ClickHouse.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, DlqHeaders, topicNames, type DeadLetter } from "@aiaudit/contracts";
import type { IncomingBatch, IncomingRecord } from "@aiaudit/kafka";
import { createService, type SnapshotterService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import {
  captureLogger,
  testClickHouse,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";
import { createMetricsSink } from "../../src/sinks/clickhouse-metrics.ts";
import { createUsageRecordSink } from "../../src/sinks/clickhouse-usage-records.ts";
import type { SinkDeps } from "../../src/sinks/types.ts";
import { telemetry } from "../../src/telemetry.ts";
import { auditEvent, usageRecord } from "../fixtures.ts";

const prefix = uniquePrefix("poison");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger("poison");
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** The value of one sample of a metric, by its labels. */
async function metric(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const found = (await registry.getMetricsAsJSON()).find((m) => m.name === name);
  const sample = (found?.values ?? []).find((v) =>
    Object.entries(labels).every(([k, value]) => v.labels[k] === value),
  );
  return sample?.value ?? 0;
}

describe("a record ClickHouse cannot take, through the running service", () => {
  let service: SnapshotterService;
  const registry = new Registry();
  const groupId = `${prefix}-snapshotter`;
  const now = Date.now();
  const good1 = auditEvent("good-1");
  // created_at in microseconds: year 58865, not a DateTime64(3).
  const micro = auditEvent("micro", { created_at: now * 1000 });
  const good2 = auditEvent("good-2");
  const microValue = codecs.copilotAuditEvent.encode(micro);

  before(async () => {
    const env = {
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      SNAPSHOTTER_GROUP_ID: groupId,
    };
    service = createService(loadConfig(env), { logger, kafka, clickhouse: ch, registry });
    await service.start();
    const producer = await kafka.transactionalProducer(`${prefix}.ingest`);
    // One key, so one partition and (most likely) one batch: the bad record sits between good ones.
    await producer.transaction((tx) =>
      tx.send(
        [good1, micro, good2].map((event) => ({
          topic: topics.copilotAuditEvents,
          key: "tenant-a/acme/events",
          value: event === micro ? microValue : codecs.copilotAuditEvent.encode(event),
        })),
      ),
    );
    await producer.disconnect();
  });

  after(() => service.stop());

  it("lands the good events, once each", async () => {
    const ids = await waitFor("both good events", async () => {
      const rows = await ch.rows<{ event_id: string }>(
        `SELECT event_id FROM ${ch.table("copilot_audit_events")} ORDER BY event_id`,
      );
      return rows.length >= 2 ? rows.map((r) => r.event_id) : undefined;
    });
    assert.deepEqual(ids, ["good-1", "good-2"]);
  });

  it("puts the bad one on the dead-letter topic, unchanged, with the reason", async () => {
    const letters = await waitFor("the dead letter", async () => {
      const records = await kafka.readTopic(topics.dlq, { idleMs: 1000 });
      return records.length > 0 ? records : undefined;
    });
    assert.equal(letters.length, 1);
    const [letter] = letters;
    assert.ok(letter);
    assert.ok(letter.value?.equals(microValue), "the record's value as it was on the topic");
    assert.equal(letter.headers[DlqHeaders.code], "RECORD_INVALID");
    assert.match(letter.headers[DlqHeaders.reason] ?? "", /^created_at \d+ is not a time between 2008/);
    assert.equal(letter.headers[DlqHeaders.sourceTopic], topics.copilotAuditEvents);
    assert.ok(lines.some((l) => l.includes('"event":"record_poisoned"') && l.includes("RECORD_INVALID")));
  });

  it("moves the group's committed offset past all three, and counts what it did", async () => {
    await waitFor("the batch to be committed", async () => {
      const ok = await service.runOnce(); // true once the committed offsets reached the ends
      return ok || undefined;
    });
    await service.stop();
    // A new member of the group: its committed offsets are the ends, nothing is left to read.
    const member = await kafka.runConsumer({
      groupId,
      topics: [topics.copilotAuditEvents],
      handleBatch: () => Promise.resolve(),
    });
    try {
      const committed = new Map((await member.committed()).map((c) => [c.partition, c.offset]));
      for (const end of await member.ends())
        assert.equal(committed.get(end.partition) ?? -1n, end.offset < 1n ? -1n : end.offset);
    } finally {
      await member.stop();
    }
    assert.equal(
      await metric(registry, "aiaudit_snapshotter_dead_letters_total", { code: "RECORD_INVALID" }),
      1,
    );
    assert.equal(
      await metric(registry, "aiaudit_snapshotter_rows_inserted_total", { table: "copilot_audit_events" }),
      2,
    );
    assert.ok(
      (await metric(registry, "aiaudit_snapshotter_batches_total", { topic: topics.copilotAuditEvents })) >=
        1,
    );
    const last = await metric(registry, "aiaudit_snapshotter_last_insert_timestamp_seconds", {
      topic: topics.copilotAuditEvents,
    });
    assert.ok(last >= now / 1000 - 60, "the last insert time of the topic was set");
  });
});

describe("rows ClickHouse refuses, handed to the sink directly", () => {
  const registry = new Registry();
  const letters: DeadLetter[] = [];
  let deps: SinkDeps;

  before(() => {
    deps = {
      ch,
      topics,
      telemetry: telemetry(logger, registry),
      deadLetters: (batch) => {
        letters.push(...batch);
        return Promise.resolve();
      },
    };
  });

  const batchOf = (topic: string, values: Buffer[]): IncomingBatch => {
    const records: IncomingRecord[] = values.map((value, i) => ({
      topic,
      partition: 0,
      offset: String(100 + i),
      key: `tenant-a/acme-ent/${i}`,
      value,
      headers: {},
      timestamp: "0",
    }));
    return { topic, partition: 0, firstOffset: "100", lastOffset: String(99 + values.length), records };
  };

  it("bisects to the refused records, lands the rest, and a re-delivered batch inserts nothing twice", async () => {
    // Merges would fold duplicates away and hide a second insert: keep every inserted part.
    await ch.command(`SYSTEM STOP MERGES ${ch.table("copilot_usage_records")}`);
    // A negative body_length passes the sink's checks, but ClickHouse cannot store it in a UInt64.
    const records = [
      usageRecord("u1"),
      usageRecord("bad-1", { body_length: -1 }),
      usageRecord("u2"),
      usageRecord("u3"),
      usageRecord("u4"),
      usageRecord("bad-2", { body_length: -5 }),
      usageRecord("u5"),
    ];
    const batch = batchOf(
      topics.copilotUsageRecords,
      records.map((r) => codecs.copilotUsageRecord.encode(r)),
    );
    const sink = createUsageRecordSink(deps);
    await sink(batch);
    await sink(batch); // a crash before the commit: the same batch again
    const rows = await ch.rows<{ record_id: string; n: string | number }>(
      `SELECT record_id, count() AS n FROM ${ch.table("copilot_usage_records")} GROUP BY record_id ORDER BY record_id`,
    );
    assert.deepEqual(
      rows.map((r) => [r.record_id, Number(r.n)]),
      [
        ["u1", 1],
        ["u2", 1],
        ["u3", 1],
        ["u4", 1],
        ["u5", 1],
      ],
    );
    // Each delivery dead-letters both, with ClickHouse's own message (the DLQ is at least once).
    assert.deepEqual(
      letters.map((l) => l.headers[DlqHeaders.source]),
      [101, 105, 101, 105].map((o) => `kafka:${topics.copilotUsageRecords}/0/${o}`),
    );
    for (const letter of letters) {
      assert.equal(letter.headers[DlqHeaders.code], "CLICKHOUSE_FAILED");
      assert.match(
        letter.headers[DlqHeaders.reason] ?? "",
        /insert into copilot_usage_records failed: .*body_length/,
      );
    }
    assert.ok(letters[0]?.value.equals(batch.records[1]?.value ?? Buffer.alloc(0)));
    const logged = lines.filter(
      (l) => l.includes('"event":"record_poisoned"') && l.includes("CLICKHOUSE_FAILED"),
    );
    assert.ok(logged.length >= 2);
    assert.ok(
      logged.every((l) => !l.includes("body_length") && l.includes("CANNOT_PARSE_NUMBER")),
      "the log names ClickHouse's error, never the row",
    );
    assert.equal(
      await metric(registry, "aiaudit_snapshotter_dead_letters_total", { code: "CLICKHOUSE_FAILED" }),
      4,
    );
  });

  it("a ClickHouse failure that is not about the rows throws, dead-letters nothing, and loses nothing", async () => {
    const before = letters.length;
    const row = {
      row_id: "m1",
      tenant: "tenant-a",
      org: "acme",
      scope: "ORGANIZATION" as const,
      report: "users-1-day",
      day: new Date().toISOString().slice(0, 10),
      user_pseudonym: null,
      row_json: "{}",
      pseudonym_key_id: "k1",
      ingested_at: Date.now(),
    };
    const batch = batchOf(topics.copilotMetrics, [codecs.copilotMetricsRow.encode(row)]);
    const sink = createMetricsSink(deps);
    // The table is gone for a while (an operator's mistake, a migration not yet run).
    const table = ch.table("copilot_metrics_rows");
    await ch.command(`RENAME TABLE ${table} TO ${ch.table("copilot_metrics_rows_away")}`);
    try {
      await assert.rejects(sink(batch), (err: Error & { code?: string; retryable?: boolean }) => {
        assert.equal(err.code, "CLICKHOUSE_FAILED");
        assert.equal(err.retryable, true);
        return true;
      });
    } finally {
      await ch.command(`RENAME TABLE ${ch.table("copilot_metrics_rows_away")} TO ${table}`);
    }
    assert.equal(letters.length, before, "nothing was dead-lettered");
    await sink(batch); // the re-delivery after the table is back
    assert.deepEqual(await ch.rows(`SELECT row_id FROM ${table}`), [{ row_id: "m1" }]);
  });
});
