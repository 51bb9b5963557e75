/**
 * Issue 9, the suite's small version of the snapshotter crash test (`scripts/sink-crash.sh`,
 * runner/soak/sink-crash.ts): 5,000 Copilot audit events published beforehand in transactions,
 * the snapshotter as a child process on the embedded engine, killed with SIGKILL three times
 * (right after it wrote a batch, at random after its join, at random after a commit). After
 * every kill, every event below the group's committed offsets is in ClickHouse (no commit ahead
 * of its insert); at the end ClickHouse holds each event once, `count()` without FINAL, with
 * background merges off so that a duplicate cannot be merged away unseen.
 *
 * The snapshotter's fetch sizes are scaled down (1/64 of its defaults per partition, a shared
 * budget of 1.4 partitions' worth) so that 5,000 events come, as 200,000 do at the defaults, in
 * several batches per partition from fetches that share their byte budget: a batch delivered
 * again after a kill may then end at another offset than the first time.
 */
import assert from "node:assert/strict";
import { it } from "node:test";
import { TEST_BROKERS } from "@aiaudit/testing";
import { runSinkCrash } from "../../soak/sink-crash.ts";

const KiB = 1024;

it("5,000 events through 3 kills of the snapshotter: no commit ahead of its insert, each event once", async (t) => {
  const summary = await runSinkCrash({
    records: 5000,
    kills: 3,
    transactionSize: 500,
    maxKillDelayMs: 1000,
    snapshotterEnv: {
      SNAPSHOTTER_FETCH_MIN_BYTES: String(128 * KiB),
      SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION: String(512 * KiB),
      SNAPSHOTTER_FETCH_MAX_BYTES: String(720 * KiB),
    },
    brokers: TEST_BROKERS,
    clickhouse: undefined,
    timeoutMinutes: 3,
    say: (line) => t.diagnostic(line),
  });
  assert.deepEqual(summary.violations, [], `see ${summary.logDir}`);
  assert.equal(summary.kills, 3);
  assert.equal(summary.killPoints[0]?.after, "insert", "the first kill races a batch's commit");
  assert.equal(summary.checks, 4, "a check after each kill and one at the end");
  assert.deepEqual(
    summary.killPoints.map((p) => p.missing),
    [0, 0, 0],
  );
  assert.equal(summary.merges, false);
  assert.deepEqual(summary.clickhouse, { rows: 5000, distinct: 5000, missing: 0, unexpected: 0 });
  assert.equal(summary.partitions.length, 3, "the events spread over the topic's 3 partitions");
  assert.equal(
    summary.partitions.reduce((a, b) => a + b, 0),
    5000,
  );
  assert.equal(summary.deadLetters, 0);
});
