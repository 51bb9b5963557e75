/**
 * Issue 6, the suite's small version of the kill -9 soak (`scripts/kill-loop.sh`, runner/soak):
 * 2,000 events from a source that repeats events across pages and polls, ingest-copilot and the
 * snapshotter as separate processes, each killed twice. Every event id is in the topic once,
 * ClickHouse's count() equals count(DISTINCT), and no cursor got ahead of the data.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { TEST_BROKERS } from "@aiaudit/testing";
import { removeSoakData, runSoak } from "../../soak/soak.ts";

it("2,000 repeated events through 2 kills of each service: once in the topic and in ClickHouse", async (t) => {
  const summary = await runSoak({
    events: 2000,
    ingestKills: 2,
    snapshotterKills: 2,
    brokerRestart: false,
    repeatAcrossPages: 10,
    repeatAcrossPolls: 20,
    agentEvery: 10,
    spanHours: 48,
    port: 18_092,
    brokers: TEST_BROKERS,
    kafkaShEnv: process.env,
    settleSeconds: 0,
    timeoutMinutes: 8,
    say: (line) => t.diagnostic(line),
  });
  assert.deepEqual(summary.violations, [], `see ${summary.logDir}`);
  assert.equal(summary.topic.duplicates, 0);
  assert.equal(summary.topic.missing, 0);
  assert.deepEqual(summary.clickhouse, { rows: 2000, distinct: 2000 });
  assert.equal(summary.cursors.ahead, 0);
  assert.equal(summary.kills.ingest + summary.kills.snapshotter, 4);
  removeSoakData(summary.prefix);
});
