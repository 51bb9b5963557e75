/**
 * Issue 9 (sink under pressure): a batch with more rows than SNAPSHOTTER_MAX_INSERT_ROWS is
 * inserted in chunks, each with a token of its own; the same batch delivered again inserts nothing
 * twice (count() without FINAL equals the distinct ids, merges stopped so nothing folds duplicates
 * away), and a re-delivery that reaches further lands only its last chunk again. Seat rows still
 * go in before their marker. Every insert is counted in aiaudit_snapshotter_insert_rows. The sink
 * is called directly; real embedded ClickHouse.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Histogram, Registry } from "prom-client";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames, type CopilotSeatSnapshotRecord } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { captureLogger, testClickHouse } from "@aiaudit/testing";
import { createAuditEventSink } from "../../src/sinks/clickhouse-audit-events.ts";
import { createSeatSink } from "../../src/sinks/clickhouse-seats.ts";
import type { SinkDeps } from "../../src/sinks/types.ts";
import { telemetry } from "../../src/telemetry.ts";
import { auditEvent, HOUR } from "../fixtures.ts";

const topics = topicNames("sink-batches");
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

interface Insert {
  table: string;
  rows: number;
  token: string | undefined;
}

/** Sink dependencies whose ClickHouse records every insert it passes on. */
function depsWith(maxInsertRows: number, registry = new Registry()) {
  const inserts: Insert[] = [];
  const recording: ClickHouse = {
    ...ch,
    insert(table, rows, token) {
      inserts.push({ table, rows: rows.length, token });
      return ch.insert(table, rows, token);
    },
  };
  const deps: SinkDeps = {
    ch: recording,
    topics,
    telemetry: telemetry(captureLogger().logger, registry),
    deadLetters: () => Promise.resolve(),
    maxInsertRows,
  };
  return { deps, inserts, registry };
}

function batchOf(topic: string, values: Buffer[], firstOffset = 1000): IncomingBatch {
  const records = values.map((value, i) => ({
    topic,
    partition: 2,
    offset: String(firstOffset + i),
    key: `tenant-a/acme/${i}`,
    value,
    headers: {},
    timestamp: String(Date.now()),
  }));
  const lastOffset = String(firstOffset + values.length - 1);
  return { topic, partition: 2, firstOffset: String(firstOffset), lastOffset, records };
}

/** Encoded once: a re-delivery carries the very same bytes (the fixture stamps the time). */
const encoded = Array.from({ length: 300 }, (_, i) =>
  codecs.copilotAuditEvent.encode(auditEvent(`ev-${String(i).padStart(4, "0")}`)),
);
const events = (from: number, to: number) => encoded.slice(from, to);

describe("a batch larger than SNAPSHOTTER_MAX_INSERT_ROWS", () => {
  const table = "copilot_audit_events";
  const counts = async () => {
    const [row] = await ch.rows<{ n: string; ids: string }>(
      `SELECT count() AS n, uniqExact(event_id) AS ids FROM ${ch.table(table)}`,
    );
    return { rows: Number(row?.n), ids: Number(row?.ids) };
  };

  before(async () => {
    // Merges would fold duplicates away and hide a second insert: keep every inserted part.
    await ch.command(`SYSTEM STOP MERGES ${ch.table(table)}`);
  });

  it("goes in as chunks of at most that many rows, each with its own token", async () => {
    const { deps, inserts, registry } = depsWith(100);
    await createAuditEventSink(deps)(batchOf(topics.copilotAuditEvents, events(0, 250)));
    assert.deepEqual(
      inserts.map((i) => i.rows),
      [100, 100, 50],
    );
    const tokens = inserts.map((i) => i.token ?? "");
    assert.equal(new Set(tokens).size, 3, "three distinct tokens");
    assert.match(tokens[0] ?? "", /\/2\/1000-1099\/copilot_audit_events\/[0-9a-f]{16}$/);
    assert.match(tokens[1] ?? "", /\/2\/1100-1199\/copilot_audit_events\/[0-9a-f]{16}$/);
    assert.match(tokens[2] ?? "", /\/2\/1200-1249\/copilot_audit_events\/[0-9a-f]{16}$/);
    assert.deepEqual(await counts(), { rows: 250, ids: 250 });

    const metric = registry.getSingleMetric("aiaudit_snapshotter_insert_rows");
    assert.ok(metric instanceof Histogram);
    const histogram = await metric.get();
    const sample = (name: string) =>
      histogram.values.find((v) => v.metricName === name && v.labels.table === table)?.value;
    assert.equal(sample("aiaudit_snapshotter_insert_rows_count"), 3);
    assert.equal(sample("aiaudit_snapshotter_insert_rows_sum"), 250);
  });

  it("delivered again (a crash before the commit), inserts nothing twice", async () => {
    const { deps, inserts } = depsWith(100);
    await createAuditEventSink(deps)(batchOf(topics.copilotAuditEvents, events(0, 250)));
    // A new sink checks its first batch against the table (landed-rows.ts): every row is there.
    assert.equal(inserts.length, 0, "nothing to insert: all 250 rows had landed");
    assert.deepEqual(await counts(), { rows: 250, ids: 250 });
  });

  it("delivered again with more records behind it, inserts only the new ones", async () => {
    const { deps, inserts } = depsWith(100);
    await createAuditEventSink(deps)(batchOf(topics.copilotAuditEvents, events(0, 300)));
    assert.deepEqual(
      inserts.map((i) => i.rows),
      [50],
    );
    assert.deepEqual(await counts(), { rows: 300, ids: 300 });
    const [final] = await ch.rows<{ n: string }>(`SELECT count() AS n FROM ${ch.table(table)} FINAL`);
    assert.equal(Number(final?.n), 300);
  });
});

describe("a seat snapshot larger than SNAPSHOTTER_MAX_INSERT_ROWS", () => {
  it("goes in as chunks of seat rows, then the marker, then the day's count", async () => {
    const takenAt = Date.now() - HOUR;
    const base: CopilotSeatSnapshotRecord = {
      kind: "BEGIN",
      tenant: "tenant-a",
      org: "acme",
      scope: "ORGANIZATION",
      snapshot_id: "snap-chunks",
      taken_at: takenAt,
      row_count: null,
      total_seats: null,
      pseudonym_key_id: "k1",
      seat: null,
    };
    const seats: CopilotSeatSnapshotRecord[] = Array.from({ length: 25 }, (_, i) => ({
      ...base,
      kind: "ROW",
      seat: {
        seat_id: String(i),
        assignee_pseudonym: `p${i}`,
        assignee_type: "User",
        organization: null,
        assigning_team: null,
        plan_type: "business",
        created_at: takenAt - HOUR,
        pending_cancellation_date: null,
        last_activity_at: null,
        last_activity_editor: null,
        last_authenticated_at: null,
        updated_at: null,
      },
    }));
    const end: CopilotSeatSnapshotRecord = { ...base, kind: "END", row_count: 25, total_seats: 25 };
    const { deps, inserts } = depsWith(10);
    await createSeatSink(deps)(
      batchOf(
        topics.copilotSeats,
        [base, ...seats, end].map((r) => codecs.copilotSeatSnapshot.encode(r)),
      ),
    );
    assert.deepEqual(
      inserts.map((i) => [i.table, i.rows]),
      [
        ["copilot_seat_snapshots", 10],
        ["copilot_seat_snapshots", 10],
        ["copilot_seat_snapshots", 5],
        ["copilot_seat_snapshot_markers", 1],
        ["copilot_daily_seats", 1],
      ],
    );
    const current = await ch.rows(`SELECT seat_id FROM ${ch.table("copilot_current_seats")}`);
    assert.equal(current.length, 25);
  });
});
