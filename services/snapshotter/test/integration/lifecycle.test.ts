/**
 * The snapshotter's process hooks against the real broker and embedded ClickHouse: `ready()` for
 * /readyz, and `runOnce()` for `--once`, which sinks every topic up to the end it had when called
 * (an aborted transaction at the end included) and says whether it managed.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames, type CopilotSeatSnapshotRecord } from "@aiaudit/contracts";
import type { OutgoingRecord } from "@aiaudit/kafka";
import { createService, type SnapshotterService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import { captureLogger, testClickHouse, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";
import { auditEvent, HOUR } from "../fixtures.ts";

const prefix = uniquePrefix("lifecycle");
const topics = topicNames(prefix);
const { logger } = captureLogger("lifecycle");
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

const config = (group: string) =>
  loadConfig({
    KAFKA_BROKERS: TEST_BROKERS.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    SNAPSHOTTER_GROUP_ID: group,
  });

async function publish(records: OutgoingRecord[], abortAfter = false): Promise<void> {
  const producer = await kafka.transactionalProducer(`${prefix}.ingest`);
  try {
    await producer.transaction((tx) => tx.send(records));
    if (abortAfter) {
      await producer
        .transaction(async (tx) => {
          await tx.send([{ ...records[0], key: "aborted" } as OutgoingRecord]);
          throw new Error("a page that failed half way");
        })
        .catch(() => undefined);
    }
  } finally {
    await producer.disconnect();
  }
}

function seatSnapshot(snapshotId: string, seats: number): OutgoingRecord[] {
  const takenAt = Date.now() - HOUR;
  const base: CopilotSeatSnapshotRecord = {
    kind: "BEGIN",
    tenant: "tenant-a",
    org: "acme",
    scope: "ORGANIZATION",
    snapshot_id: snapshotId,
    taken_at: takenAt,
    row_count: null,
    total_seats: null,
    pseudonym_key_id: "k1",
    seat: null,
  };
  const rows: CopilotSeatSnapshotRecord[] = Array.from({ length: seats }, (_, i) => ({
    ...base,
    kind: "ROW",
    seat: {
      seat_id: String(i),
      assignee_pseudonym: `p${i}`,
      assignee_type: "User",
      organization: null,
      assigning_team: null,
      plan_type: "business",
      created_at: takenAt - 10 * HOUR,
      pending_cancellation_date: null,
      last_activity_at: null,
      last_activity_editor: null,
      last_authenticated_at: null,
      updated_at: null,
    },
  }));
  const end: CopilotSeatSnapshotRecord = { ...base, kind: "END", row_count: seats, total_seats: seats };
  return [base, ...rows, end].map((r) => ({
    topic: topics.copilotSeats,
    key: `tenant-a/acme/${snapshotId}`,
    value: codecs.copilotSeatSnapshot.encode(r),
  }));
}

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("ready() and runOnce()", () => {
  let service: SnapshotterService;

  before(() => {
    service = createService(config(`${prefix}-main`), { logger, kafka, clickhouse: ch });
  });

  after(() => service.stop());

  it("is not ready before it started", async () => {
    const readiness = await service.ready();
    assert.equal(readiness.ready, false);
    assert.deepEqual(readiness.checks.kafka, { ok: true });
    assert.equal(readiness.checks.clickhouse?.ok, false);
    assert.equal(readiness.checks.consumer?.ok, false);
  });

  it("runOnce sinks what the topics hold now, an aborted transaction at the end included, then resolves true", async () => {
    await kafka.ensureTopics([
      { name: topics.copilotSeats, partitions: 3, compacted: false },
      { name: topics.copilotAuditEvents, partitions: 3, compacted: false },
    ]);
    await publish(seatSnapshot("snap-1", 25));
    await publish(
      ["e1", "e2", "e3"].map((id) => ({
        topic: topics.copilotAuditEvents,
        key: `tenant-a/acme/${id}`,
        value: codecs.copilotAuditEvent.encode(auditEvent(id)),
      })),
      true,
    );
    assert.equal(await service.runOnce(), true);
    // Everything was in ClickHouse when it resolved: no waiting here.
    const current = await ch.rows(`SELECT seat_id FROM ${ch.table("copilot_current_seats")}`);
    assert.equal(current.length, 25);
    const events = await ch.rows<{ event_id: string }>(
      `SELECT event_id FROM ${ch.table("copilot_audit_events")} ORDER BY event_id`,
    );
    assert.deepEqual(
      events.map((e) => e.event_id),
      ["e1", "e2", "e3"],
    );
  });

  it("is ready while running: Kafka, ClickHouse and the consumer", async () => {
    const readiness = await service.ready();
    assert.deepEqual(readiness, {
      ready: true,
      checks: { kafka: { ok: true }, clickhouse: { ok: true }, consumer: { ok: true } },
    });
  });

  it("a second pass with nothing new resolves true as well", async () => {
    assert.equal(await service.runOnce(), true);
  });

  it("is not ready once stopped", async () => {
    await service.stop();
    const readiness = await service.ready();
    assert.equal(readiness.ready, false);
    assert.equal(readiness.checks.consumer?.ok, false);
  });
});

describe("runOnce when ClickHouse cannot take the batch", () => {
  it("resolves false, and a later pass sinks what the failed one left", async () => {
    const failing = createService(config(`${prefix}-failing`), { logger, kafka, clickhouse: ch });
    const table = ch.table("copilot_audit_events");
    const away = ch.table("copilot_audit_events_away");
    await ch.command(`RENAME TABLE ${table} TO ${away}`);
    try {
      await publish([
        {
          topic: topics.copilotAuditEvents,
          key: "tenant-a/acme/e4",
          value: codecs.copilotAuditEvent.encode(auditEvent("e4")),
        },
      ]);
      assert.equal(await failing.runOnce(), false);
    } finally {
      await failing.stop();
      await ch.command(`RENAME TABLE ${away} TO ${table}`);
    }
    const again = createService(config(`${prefix}-failing`), { logger, kafka, clickhouse: ch });
    try {
      assert.equal(await again.runOnce(), true);
    } finally {
      await again.stop();
    }
    const ids = await ch.rows<{ event_id: string }>(
      `SELECT DISTINCT event_id FROM ${table} FINAL ORDER BY event_id`,
    );
    assert.deepEqual(
      ids.map((r) => r.event_id),
      ["e1", "e2", "e3", "e4"],
    );
  });
});
