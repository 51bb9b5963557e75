/**
 * Issue 9 (retention), the service's side: the snapshotter sets every table's TTL from
 * CLICKHOUSE_TTL_DAYS when it starts (with the migrations), says so once, and a restart with the
 * same setting changes nothing. Real broker, embedded ClickHouse.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { RETENTION_COLUMNS, type ClickHouse } from "@aiaudit/clickhouse";
import { createService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import { captureLogger, testClickHouse, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";

const prefix = uniquePrefix("retention");
const { logger, lines } = captureLogger("retention");
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

async function startAndStop(ttlDays: string): Promise<void> {
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    SNAPSHOTTER_GROUP_ID: `${prefix}-snapshotter`,
    CLICKHOUSE_TTL_DAYS: ttlDays,
  };
  const service = createService(loadConfig(env), { logger, kafka, clickhouse: ch });
  try {
    await service.start();
  } finally {
    await service.stop();
  }
}

const retentionLines = () => lines.filter((l) => l.includes('"event":"retention_set"'));

describe("the snapshotter's start", () => {
  it("sets every table's TTL from CLICKHOUSE_TTL_DAYS, and only when it changed", async () => {
    await startAndStop("200");
    const tables = await ch.rows<{ name: string; engine_full: string }>(
      "SELECT name, engine_full FROM system.tables WHERE database = {db:String}",
      { db: ch.database },
    );
    for (const [table, column] of Object.entries(RETENTION_COLUMNS)) {
      const engine = tables.find((t) => t.name === table)?.engine_full ?? "";
      assert.ok(engine.includes(` TTL ${column} + toIntervalDay(200) `), `${table}: ${engine}`);
    }
    assert.equal(retentionLines().length, 1);
    assert.match(retentionLines()[0] ?? "", /"ttlDays":200/);

    await startAndStop("200");
    assert.equal(retentionLines().length, 1, "a restart with the same setting changes nothing");

    await startAndStop("0");
    assert.equal(retentionLines().length, 2);
    const [events] = await ch.rows<{ engine_full: string }>(
      "SELECT engine_full FROM system.tables WHERE database = {db:String} AND name = 'copilot_audit_events'",
      { db: ch.database },
    );
    assert.ok(!events?.engine_full.includes(" TTL "), "0 keeps rows forever: no TTL");
  });
});
