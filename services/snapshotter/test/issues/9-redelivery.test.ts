/**
 * Issue 9, found by the crash test (scripts/sink-crash.sh): a snapshotter killed after an insert and
 * before its commit had its records delivered again cut at other offsets (kafkajs shares a fetch's
 * bytes among partitions in a shuffled order), so the insert tokens differed and the rows went in
 * twice: `count()` 237,940 for 200,000 events. The sink now checks the first batch of a partition
 * it was given against the tables (landed-rows.ts). Merges are stopped here, so only a duplicate
 * insert, never a merge, decides `count()`.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames, type CopilotSeatSnapshotRecord } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { captureLogger, testClickHouse } from "@aiaudit/testing";
import { createAuditEventSink } from "../../src/sinks/clickhouse-audit-events.ts";
import { createSeatSink } from "../../src/sinks/clickhouse-seats.ts";
import type { SinkDeps } from "../../src/sinks/types.ts";
import { telemetry } from "../../src/telemetry.ts";
import { auditEvent } from "../fixtures.ts";

const topics = topicNames("redelivery");
const { logger } = captureLogger("redelivery");
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

const deps = (inSync?: Set<string>): SinkDeps => ({
  ch,
  topics,
  telemetry: telemetry(logger, new Registry()),
  deadLetters: () => Promise.resolve(),
  ...(inSync ? { inSync } : {}),
});

const events = Array.from({ length: 300 }, (_, i) =>
  codecs.copilotAuditEvent.encode(
    auditEvent(`ev-${String(i).padStart(3, "0")}`, { ingested_at: 1_700_000_000_000 }),
  ),
);

/** Offsets `from` to `to` of partition 0 of the audit-events topic, as one batch. */
function batch(
  from: number,
  to: number,
  values: Buffer[] = events,
  topic: string = topics.copilotAuditEvents,
): IncomingBatch {
  const records = values.slice(from, to + 1).map((value, i) => ({
    topic,
    partition: 0,
    offset: String(from + i),
    key: `k${from + i}`,
    value,
    headers: {},
    timestamp: "0",
  }));
  return { topic, partition: 0, firstOffset: String(from), lastOffset: String(to), records };
}

async function counts(table: string, id: string): Promise<{ rows: number; distinct: number }> {
  const [r] = await ch.rows<{ rows: string; distinct: string }>(
    `SELECT toString(count()) AS rows, toString(uniqExact(${id})) AS distinct FROM ${ch.table(table)}`,
  );
  return { rows: Number(r?.rows), distinct: Number(r?.distinct) };
}

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  for (const table of ["copilot_audit_events", "copilot_daily_seats", "copilot_seat_snapshots"]) {
    await ch.command(`SYSTEM STOP MERGES ${ch.table(table)}`);
  }
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("a batch delivered again, cut at other offsets", () => {
  it("inserts nothing twice after a crash between insert and commit", async () => {
    // The first owner inserts offsets 0-199 and dies before committing.
    await createAuditEventSink(deps())(batch(0, 199));
    assert.deepEqual(await counts("copilot_audit_events", "event_id"), { rows: 200, distinct: 200 });
    // The next owner gets them again from the committed offset, cut 0-99, then 100-299.
    const next = createAuditEventSink(deps());
    await next(batch(0, 99));
    await next(batch(100, 299));
    assert.deepEqual(await counts("copilot_audit_events", "event_id"), { rows: 300, distinct: 300 });
  });

  it("checks again after a rebalance (the service clears the partitions in sync)", async () => {
    const inSync = new Set<string>();
    const sink = createAuditEventSink(deps(inSync));
    const more = Array.from({ length: 20 }, (_, i) =>
      codecs.copilotAuditEvent.encode(auditEvent(`late-${i}`, { ingested_at: 1_700_000_000_000 })),
    );
    await sink(batch(0, 9, more));
    assert.ok(inSync.has(`${topics.copilotAuditEvents}/0`), "in sync after its own batch");
    // Another member took the partition, inserted 10-19 and died; it comes back here.
    await createAuditEventSink(deps())(batch(10, 19, more));
    inSync.clear();
    await sink(batch(5, 19, more));
    assert.deepEqual(await counts("copilot_audit_events", "event_id"), { rows: 320, distinct: 320 });
  });

  it("keeps a newer snapshot's row of the same day (its version differs), and drops only what landed", async () => {
    const snapshot = (id: string, takenAt: number, seats: number): Buffer[] => {
      const base: CopilotSeatSnapshotRecord = {
        kind: "BEGIN",
        tenant: "tenant-a",
        org: "acme",
        scope: "ORGANIZATION",
        snapshot_id: id,
        taken_at: takenAt,
        row_count: null,
        total_seats: null,
        pseudonym_key_id: "k1",
        seat: null,
      };
      const rows = Array.from({ length: seats }, (_, i): CopilotSeatSnapshotRecord => ({
        ...base,
        kind: "ROW",
        seat: {
          seat_id: String(i),
          assignee_pseudonym: `p${i}`,
          assignee_type: "User",
          organization: null,
          assigning_team: null,
          plan_type: "business",
          created_at: takenAt - 86_400_000,
          pending_cancellation_date: null,
          last_activity_at: null,
          last_activity_editor: null,
          last_authenticated_at: null,
          updated_at: null,
        },
      }));
      const end: CopilotSeatSnapshotRecord = { ...base, kind: "END", row_count: seats, total_seats: seats };
      return [base, ...rows, end].map((r) => codecs.copilotSeatSnapshot.encode(r));
    };
    const day = Date.parse("2026-03-10T06:00:00Z");
    const morning = snapshot("snap-morning", day, 3);
    const evening = snapshot("snap-evening", day + 12 * 3_600_000, 4);
    const both = [...morning, ...evening];
    await createSeatSink(deps())(batch(0, morning.length - 1, both, topics.copilotSeats));
    await createSeatSink(deps())(batch(0, both.length - 1, both, topics.copilotSeats));
    assert.deepEqual(await counts("copilot_seat_snapshots", "(snapshot_id, seat_id)"), {
      rows: 7,
      distinct: 7,
    });
    const daily = await ch.rows<{ snapshot_id: string; seats: number }>(
      `SELECT snapshot_id, seats FROM ${ch.table("copilot_daily_seats")} ORDER BY taken_at`,
    );
    assert.deepEqual(daily, [
      { snapshot_id: "snap-morning", seats: 3 },
      { snapshot_id: "snap-evening", seats: 4 },
    ]);
  });
});
