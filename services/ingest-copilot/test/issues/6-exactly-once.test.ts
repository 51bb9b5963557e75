/**
 * Issue 6, defects 3 and 4: every event id is in the topic exactly once — with a source that
 * repeats events across pages and polls, across a restart while another producer holds a
 * transaction open on the cursors topic, and through a burst that used to push the cursor past
 * Kafka's 1 MB record limit.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { auditEvents, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_exactlyonce0000000000000000000000";
const { logger } = captureLogger();
const kafka = testKafka(logger);

async function topicIds(prefix: string): Promise<string[]> {
  const records = await kafka.readTopic(topicNames(prefix).copilotAuditEvents);
  return records.map((r) => codecs.copilotAuditEvent.decode(r.value ?? Buffer.alloc(0)).event_id);
}

function assertOnce(ids: string[], expected: string[]): void {
  const dupes = ids.filter((id, i) => ids.indexOf(id) !== i);
  assert.deepEqual(dupes, [], `${dupes.length} ids in the topic twice`);
  assert.deepEqual([...ids].sort(), [...expected].sort());
}

describe("issue 6: a source that repeats events", () => {
  const prefix = uniquePrefix("repeats");
  let sim: GithubSimulator;
  let service: IngestCopilotService;
  before(async () => {
    sim = await startGithubSimulator({
      tokens: [token],
      orgs: { acme: { id: 1, seats: [], repeatAcrossPages: 7, repeatAcrossPolls: 20 } },
    });
    service = createService(loadConfig(ingestEnv(sim.url, prefix, token, { AUDIT_PER_PAGE: "50" })), {
      logger,
      kafka,
    });
  });
  after(async () => {
    await service.stop();
    await sim.close();
  });

  it("publishes each id once and counts what it skipped", async () => {
    const events = auditEvents("acme", 500, { startMs: Date.now() - 3_600_000, stepMs: 1000 });
    sim.addAuditEvents("acme", events);
    const first = await service.pollAuditEvents();
    const more = auditEvents("acme", 100, { startMs: Date.now() - 60_000, stepMs: 100, idPrefix: "more" });
    sim.addAuditEvents("acme", more);
    const second = await service.pollAuditEvents();
    assert.equal(first.published + second.published, 600);
    assert.ok(first.duplicates > 0, "repeats across pages were not counted");
    assert.ok(second.duplicates > 0, "repeats across polls were not counted");
    assertOnce(
      await topicIds(prefix),
      [...events, ...more].map((e) => String(e._document_id)),
    );
  });
});

describe("issue 6: a restart while another producer holds a transaction open on the cursors topic", () => {
  const prefix = uniquePrefix("open-tx");
  let sim: GithubSimulator;
  before(async () => {
    sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: [] } } });
  });
  after(() => sim.close());

  it("waits for the transaction instead of publishing a page again", async () => {
    const config = loadConfig(ingestEnv(sim.url, prefix, token));
    const events = auditEvents("acme", 150, { startMs: Date.now() - 3_600_000, stepMs: 1000 });
    const first = createService(config, { logger, kafka });
    assert.equal((await first.pollAuditEvents()).published, 0); // topics made, cursors read
    sim.addAuditEvents("acme", events);

    // Another producer (another connection's stream) opens a transaction on the cursors topic…
    const other = await kafka.transactionalProducer(`${prefix}.other-stream`);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const open = other.transaction(async (tx) => {
      await tx.send([{ topic: topicNames(prefix).cursors, key: "tenant-b/x/y", value: null }]);
      await held;
    });
    await new Promise((resolve) => setTimeout(resolve, 500));
    // …and this stream commits its page and cursor after it, then the process restarts.
    assert.equal((await first.pollAuditEvents()).published, 150);
    await first.stop();
    const second = createService(config, { logger, kafka });
    const poll = second.pollAuditEvents();
    setTimeout(release, 3000);
    const result = await poll;
    await open;
    await other.disconnect();
    await second.stop();
    assert.equal(result.published, 0, "the restart published a page again");
    assertOnce(
      await topicIds(prefix),
      events.map((e) => String(e._document_id)),
    );
  });
});

describe("issue 6: a burst", () => {
  const prefix = uniquePrefix("burst");
  let sim: GithubSimulator;
  let service: IngestCopilotService;
  before(async () => {
    sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: [] } } });
    service = createService(loadConfig(ingestEnv(sim.url, prefix, token)), { logger, kafka });
  });
  after(async () => {
    await service.stop();
    await sim.close();
  });

  it("30,000 events inside 25 minutes flow, and the cursor state stays small", async () => {
    const events = auditEvents("acme", 30_000, { startMs: Date.now() - 26 * 60_000, spanMs: 25 * 60_000 });
    sim.addAuditEvents("acme", events);
    assert.equal((await service.pollAuditEvents()).published, 30_000);
    // The whole window is read again (30 min overlap): nothing new, and the poll still succeeds.
    const again = await service.pollAuditEvents();
    assert.equal(again.published, 0);
    assert.equal(again.duplicates, 30_000);
    const cursors = await kafka.readTopic(topicNames(prefix).cursors);
    const largest = Math.max(...cursors.map((r) => r.value?.length ?? 0));
    assert.ok(largest < 100_000, `a cursor-topic record of ${largest} bytes`);
    assertOnce(
      await topicIds(prefix),
      events.map((e) => String(e._document_id)),
    );
  });
});
