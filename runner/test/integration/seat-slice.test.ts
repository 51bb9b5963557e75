/**
 * Issue 2, "Done when": the Copilot seat slice end to end against the real broker and the
 * ClickHouse engine. GitHub simulator → ingest-copilot → Kafka (one transaction per snapshot)
 * → snapshotter → ClickHouse tables and views.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, DlqHeaders, topicNames } from "@aiaudit/contracts";
import { createPseudonymizer, uuidv7 } from "@aiaudit/crypto";
import { createService as createIngest, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig as loadIngestConfig } from "@aiaudit/ingest-copilot/config";
import { seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { createService as createSnapshotter, type SnapshotterService } from "@aiaudit/snapshotter";
import { loadConfig as loadSnapshotterConfig } from "@aiaudit/snapshotter/config";
import { snapshotRecords } from "@aiaudit/ingest-copilot/sinks";
import {
  captureLogger,
  testClickHouse,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";

const token = "ghp_slicetesttoken0000000000000000000";
const pseudonymKey = "11".repeat(32);
const prefix = uniquePrefix("slice");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger("slice");
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
let sim: GithubSimulator;
let ch: ClickHouse;
let ingest: IngestCopilotService;
let snapshotter: SnapshotterService;

const firstSeats = seats("acme", 230, "acme-dev");
// The second snapshot: 30 people left, 10 joined.
const secondSeats = [...firstSeats.slice(30), ...seats("acme", 10, "acme-newcomer")];
const allLogins = [...firstSeats, ...secondSeats].map((s) => (s.assignee as { login: string }).login);

interface SeatRow {
  snapshot_id: string;
  assignee_pseudonym: string;
}

const currentSeats = () =>
  ch.rows<SeatRow>(
    `SELECT snapshot_id, assignee_pseudonym FROM ${ch.table("copilot_current_seats")} WHERE tenant = 'tenant-a'`,
  );

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 42, seats: firstSeats } } });
  const env = {
    KAFKA_BROKERS: TEST_BROKERS.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    TENANT_ID: "tenant-a",
    GITHUB_ORG: "acme",
    GITHUB_TOKEN: token,
    GITHUB_API_URL: sim.url,
    PSEUDONYM_KEY: pseudonymKey,
    SEATS_PER_PAGE: "50",
    SNAPSHOTTER_GROUP_ID: `${prefix}-snapshotter`,
  };
  snapshotter = createSnapshotter(loadSnapshotterConfig(env), { logger, kafka, clickhouse: ch });
  await snapshotter.start();
  ingest = createIngest(loadIngestConfig(env), { logger, kafka });
});

after(async () => {
  await ingest.stop();
  await snapshotter.stop();
  await sim.close();
  for (const fn of cleanups.reverse()) await fn();
});

describe("Copilot seat slice", () => {
  let first: { snapshotId: string; rows: number };

  it("N seats over several pages arrive as N rows of one snapshot", async () => {
    first = await ingest.pollSeats();
    assert.equal(first.rows, 230);
    const seatRequests = sim.requests.filter((r) => r.path === "/orgs/acme/copilot/billing/seats");
    assert.deepEqual(
      seatRequests.map((r) => r.query.page ?? "1"),
      ["1", "2", "3", "4", "5"],
    );

    const rows = await waitFor("the first snapshot to become current", async () => {
      const r = await currentSeats();
      return r.length === 230 ? r : undefined;
    });
    assert.ok(rows.every((r) => r.snapshot_id === first.snapshotId));
    const p = createPseudonymizer(Buffer.from(pseudonymKey, "hex"));
    assert.deepEqual(
      new Set(rows.map((r) => r.assignee_pseudonym)),
      new Set(firstSeats.map((s) => p.pseudonym((s.assignee as { login: string }).login))),
    );
    const [marker] = await ch.rows<{ row_count: string; total_seats: string }>(
      `SELECT row_count, total_seats FROM ${ch.table("copilot_seat_snapshot_markers")} WHERE snapshot_id = {id:String}`,
      { id: first.snapshotId },
    );
    assert.equal(Number(marker?.row_count), 230);
    assert.equal(Number(marker?.total_seats), 230);
  });

  it("a second snapshot replaces the first in the current-seats view, and the daily count follows it", async () => {
    sim.setSeats("acme", secondSeats);
    const second = await ingest.pollSeats();
    assert.equal(second.rows, 210);
    await waitFor("the second snapshot to become current", async () => {
      const r = await currentSeats();
      return r.length === 210 && r.every((row) => row.snapshot_id === second.snapshotId) ? true : undefined;
    });
    const daily = await ch.rows<{ seats: number; snapshot_id: string; day: string }>(
      `SELECT seats, snapshot_id, toString(day) AS day FROM ${ch.table("copilot_daily_seats")} FINAL WHERE tenant = 'tenant-a' AND org = 'acme'`,
    );
    assert.equal(daily.length, 1);
    const [today] = daily;
    assert.ok(today);
    assert.equal(today.seats, 210);
    assert.equal(today.snapshot_id, second.snapshotId);
    assert.equal(today.day, new Date().toISOString().slice(0, 10));
  });

  it("a half-written snapshot (transaction aborted) never becomes current", async () => {
    const producer = await kafka.transactionalProducer(`${prefix}.test.aborted`);
    const abortedId = uuidv7();
    const records = snapshotRecords(topics, {
      tenant: "tenant-a",
      org: "acme",
      scope: "ORGANIZATION",
      snapshotId: abortedId,
      takenAt: Date.now() + 60_000,
      totalSeats: 5,
      pseudonymKeyId: "k",
      seats: [],
      rejected: [],
      source: "test",
    });
    await assert.rejects(
      producer.transaction(async (tx) => {
        await tx.send(records.slice(0, 1));
        throw new Error("crash before END");
      }),
    );
    await producer.disconnect();
    // A later complete snapshot proves the consumer read past the aborted transaction.
    sim.setSeats("acme", firstSeats.slice(0, 7));
    const third = await ingest.pollSeats();
    await waitFor("the third snapshot to become current", async () => {
      const r = await currentSeats();
      return r.length === 7 && r.every((row) => row.snapshot_id === third.snapshotId) ? true : undefined;
    });
    for (const table of ["copilot_seat_snapshots", "copilot_seat_snapshot_markers", "copilot_daily_seats"]) {
      const found = await ch.rows(`SELECT 1 FROM ${ch.table(table)} WHERE snapshot_id = {id:String}`, {
        id: abortedId,
      });
      assert.equal(found.length, 0, `${table} holds the aborted snapshot`);
    }
    const decoded = (await kafka.readTopic(topics.copilotSeats)).map((r) =>
      codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)),
    );
    assert.ok(!decoded.some((r) => r.snapshot_id === abortedId));
  });

  it("a seat that fails validation goes to the dead-letter topic with the reason; the rest still lands", async () => {
    const broken = { ...seats("acme", 1, "acme-broken")[0], created_at: "not-a-date" };
    sim.setSeats("acme", [...firstSeats.slice(0, 20), broken]);
    const result = await ingest.pollSeats();
    assert.equal(result.rows, 20);
    assert.equal(result.rejected, 1);
    await waitFor("the snapshot with a rejected seat to become current", async () => {
      const r = await currentSeats();
      return r.length === 20 && r.every((row) => row.snapshot_id === result.snapshotId) ? true : undefined;
    });
    const dlq = await kafka.readTopic(topics.dlq);
    assert.equal(dlq.length, 1);
    const [letter] = dlq;
    assert.ok(letter?.value);
    assert.match(letter.headers[DlqHeaders.reason] ?? "", /created_at/);
    assert.equal(letter.headers[DlqHeaders.sourceTopic], topics.copilotSeats);
    assert.ok(!letter.value.toString("utf8").includes("acme-broken"));
  });

  it("an unchanged seat list confirms the current snapshot and carries the daily count", async () => {
    const current = await currentSeats();
    const unchanged = await ingest.pollSeats();
    assert.equal(unchanged.unchanged, true);
    assert.equal(unchanged.snapshotId, current[0]?.snapshot_id);
    await waitFor("the daily row of the confirmed snapshot", async () => {
      const [row] = await ch.rows<{ seats: number; snapshot_id: string }>(
        `SELECT seats, snapshot_id FROM ${ch.table("copilot_daily_seats")} FINAL WHERE tenant = 'tenant-a' AND org = 'acme'`,
      );
      return row?.snapshot_id === unchanged.snapshotId && row.seats === current.length ? true : undefined;
    });
    assert.equal((await currentSeats()).length, current.length);
  });

  it("logins appear nowhere: not in any Kafka record, ClickHouse table or log line", async () => {
    const haystacks: string[] = [];
    for (const topic of Object.values(topics)) {
      for (const r of await kafka.readTopic(topic, { readUncommitted: true, idleMs: 1500 })) {
        haystacks.push(`${r.key ?? ""} ${r.value?.toString("latin1") ?? ""} ${JSON.stringify(r.headers)}`);
      }
    }
    assert.ok(haystacks.length > 400, `read ${haystacks.length} records`);
    const tables = await ch.rows<{ name: string }>(
      // Parameterized views (the billing days) are read with their parameters elsewhere.
      `SELECT name FROM system.tables WHERE database = {db:String} AND position(create_table_query, ':String}') = 0`,
      { db: ch.database },
    );
    assert.ok(tables.length >= 5);
    for (const { name } of tables) {
      const rows = await ch.rows(`SELECT * FROM ${ch.table(name)}`);
      haystacks.push(JSON.stringify(rows));
    }
    haystacks.push(...lines);
    const text = haystacks.join("\n").toLowerCase();
    const leaked = [...new Set(allLogins)].filter((login) => text.includes(login.toLowerCase()));
    assert.deepEqual(leaked, []);
    assert.ok(!text.includes(token.toLowerCase()), "the GitHub token leaked");
  });
});
