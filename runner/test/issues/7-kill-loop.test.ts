/**
 * Issue 7, the suite's small version of the kill -9 soak for OpenAI (`scripts/kill-loop.sh
 * --vendor openai`, runner/soak): 2,000 audit events from the OpenAI simulator, pages that repeat
 * the previous page's last events, time slices small enough to split, ingest-openai and the
 * snapshotter as separate processes, each killed twice. Every event id is in the topic once,
 * ClickHouse's count() equals count(DISTINCT), no cursor got ahead of the data, and the current
 * users, projects and project keys in ClickHouse are the fixture's.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { TEST_BROKERS } from "@aiaudit/testing";
import { removeSoakData, runSoak } from "../../soak/soak.ts";

it("2,000 OpenAI audit events through 2 kills of each service: once in the topic and in ClickHouse", async (t) => {
  const summary = await runSoak({
    vendor: "openai",
    events: 2000,
    ingestKills: 2,
    snapshotterKills: 2,
    brokerRestart: false,
    repeatAcrossPages: 10,
    sliceMaxEvents: 500,
    spanHours: 48,
    port: 18_093,
    brokers: TEST_BROKERS,
    kafkaShEnv: process.env,
    settleSeconds: 0,
    timeoutMinutes: 8,
    say: (line) => t.diagnostic(line),
  });
  assert.deepEqual(summary.violations, [], `see ${summary.logDir}`);
  assert.equal(summary.vendor, "openai");
  assert.equal(summary.topic.duplicates, 0);
  assert.equal(summary.topic.missing, 0);
  assert.deepEqual(summary.clickhouse, { rows: 2000, distinct: 2000 });
  assert.equal(summary.cursors.ahead, 0);
  assert.ok(summary.cursors.read > 0, "no cursor of the audit stream was read back");
  assert.ok((summary.requests.repeatsServed ?? 0) > 0, "the simulator served no event twice");
  assert.deepEqual(
    summary.views.map((v) => [v.name, v.rows]),
    [
      ["openai_current_users", 200],
      ["openai_current_projects", 10],
      ["openai_current_api_keys (key_type = 'PROJECT')", 100],
    ],
  );
  assert.equal(summary.kills.ingest + summary.kills.snapshotter, 4);
  removeSoakData(summary.prefix);
});
