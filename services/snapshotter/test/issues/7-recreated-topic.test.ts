/**
 * Issue 7 (found while building the demo): insert dedup tokens named topic, partition, offsets,
 * count and table. A topic deleted and created again (a broker whose storage was wiped, with
 * ClickHouse kept) starts its offsets over, so the new records' inserts carried the old tokens
 * and ClickHouse dropped them as duplicates, silently. Tokens now carry a digest of the values:
 * the same batch again is still a no-op, other records at the same offsets land.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Registry } from "prom-client";
import { migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { captureLogger, testClickHouse } from "@aiaudit/testing";
import { createAuditEventSink } from "../../src/sinks/clickhouse-audit-events.ts";
import { telemetry } from "../../src/telemetry.ts";
import { auditEvent } from "../fixtures.ts";

const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  await migrate(ch);
});
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function batch(ids: string[]): IncomingBatch {
  const topic = topicNames("recreated").copilotAuditEvents;
  const records = ids.map((id, i) => ({
    topic,
    partition: 0,
    offset: String(i),
    key: id,
    value: codecs.copilotAuditEvent.encode(auditEvent(id)),
    headers: {},
    timestamp: String(Date.now()),
  }));
  return { topic, partition: 0, firstOffset: "0", lastOffset: String(ids.length - 1), records };
}

describe("issue 7: the same offsets with other records", () => {
  it("land; the same records again do not", async () => {
    const sink = createAuditEventSink({
      ch,
      topics: topicNames("recreated"),
      telemetry: telemetry(captureLogger().logger, new Registry()),
      deadLetters: () => Promise.resolve(),
    });
    const first = batch(["a-1", "a-2", "a-3"]);
    await sink(first);
    await sink(first); // a re-delivery, byte for byte: a no-op
    await sink(batch(["b-1", "b-2", "b-3"])); // the topic created again: offsets 0-2 once more
    const rows = await ch.rows<{ event_id: string }>(
      `SELECT event_id FROM ${ch.table("copilot_audit_events")} ORDER BY event_id`,
    );
    assert.deepEqual(
      rows.map((r) => r.event_id),
      ["a-1", "a-2", "a-3", "b-1", "b-2", "b-3"],
    );
  });
});
