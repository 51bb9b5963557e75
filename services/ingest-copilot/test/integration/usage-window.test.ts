/**
 * Issue 3: GitHub keeps usage records about 48 hours. A poll whose previous success is over 36
 * hours old warns; over 48 hours it reports that records may be lost.
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { codecs, cursorKey, topicNames, type StreamCursor } from "@aiaudit/contracts";
import { createPseudonymizer } from "@aiaudit/crypto";
import { startGithubSimulator, usageRecords } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { createGithubClient } from "../../src/source/github-client.ts";
import { createUsageRecordStream } from "../../src/streams/usage-records.ts";
import { telemetry } from "../../src/telemetry.ts";

const token = "usage-window-token";
const prefix = uniquePrefix("usage-window");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
const sim = await startGithubSimulator({
  tokens: [token],
  enterprises: { ent: { id: 5, usageRecords: usageRecords(5, 10, { startMs: Date.now() - 3_600_000 }) } },
});
const producer = kafka.transactionalProducer(`${prefix}.usage`);
after(async () => {
  await (await producer).disconnect();
  await sim.close();
});

async function pollAfter(hoursSinceLastPoll: number) {
  await kafka.ensureTopics([
    { name: topics.cursors, partitions: 1, compacted: true },
    { name: topics.copilotUsageRecords, partitions: 1, compacted: false },
  ]);
  const previous: StreamCursor = {
    tenant: "t",
    connection: "github-enterprise-ent",
    stream: "copilot.usage-records",
    cursor: JSON.stringify({ highWaterMs: Date.now() - 2 * 3_600_000, seen: {} }),
    last_snapshot_id: null,
    updated_at: Date.now() - hoursSinceLastPoll * 3_600_000,
  };
  const cursors = new Map([
    [cursorKey("t", "github-enterprise-ent", "copilot.usage-records"), codecs.cursor.encode(previous)],
  ]);
  const events = telemetry(logger);
  const poll = createUsageRecordStream(
    {
      tenant: "t",
      connectionId: "github-enterprise-ent",
      enterprise: "ent",
      keepContent: false,
      overlapMs: 60_000,
    },
    {
      github: createGithubClient({ baseUrl: sim.url, token, telemetry: events }),
      producer: () => producer,
      topics,
      pseudonymizer: createPseudonymizer(Buffer.alloc(32, 5)),
      telemetry: events,
      loadCursors: () => Promise.resolve(cursors),
    },
  );
  const from = lines.length;
  await poll();
  return lines.slice(from).join("\n");
}

it("is quiet after a normal gap, warns past 36 hours and reports possible loss past 48", async () => {
  assert.doesNotMatch(await pollAfter(1), /usage_window/);
  assert.match(await pollAfter(40), /"event":"usage_window_at_risk".*"gapHours":40/);
  assert.match(await pollAfter(50), /"level":50.*"event":"usage_window_exceeded"/);
  const published = await kafka.readTopic(topics.copilotUsageRecords);
  assert.ok(published.length > 0);
  assert.ok(
    published.every((r) => codecs.copilotUsageRecord.decode(r.value ?? Buffer.alloc(0)).body === null),
  );
});
