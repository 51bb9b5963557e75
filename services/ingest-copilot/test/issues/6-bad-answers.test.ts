/**
 * Issue 6, defects 1, 2 and 7: a GitHub answer that is not the documented shape fails the poll
 * (error log with the reason, health, the cursor and the current snapshot stay) instead of
 * reading as "empty"; a timestamp in the wrong unit never moves the cursor past now; a malformed
 * event inside the overlap window is dead-lettered once, not on every poll.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { codecs, cursorKey, DlqHeaders, topicNames, windowCursorSchema } from "@aiaudit/contracts";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { auditEvents, faults, seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_badanswers00000000000000000000000";
const seatsPath = "/orgs/acme/copilot/billing/seats";
const auditPath = "/orgs/acme/audit-log";
const prefix = uniquePrefix("bad-answers");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
let sim: GithubSimulator;
let service: IngestCopilotService;

before(async () => {
  sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: seats("acme", 7) } } });
  service = createService(loadConfig(ingestEnv(sim.url, prefix, token, { SEATS_PER_PAGE: "5" })), {
    logger,
    kafka,
  });
});
after(async () => {
  await service.stop();
  await sim.close();
});

const seatRecords = async () =>
  (await kafka.readTopic(topics.copilotSeats)).map((r) =>
    codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)),
  );
const errorLines = (from: number) =>
  lines.slice(from).filter((l) => l.includes('"level":50') && l.includes('"event":"poll_failed"'));

describe("issue 6: a bad seat answer never empties the seat list", () => {
  let snapshots = 0;
  it("publishes the first, good snapshot", async () => {
    const first = await service.pollSeats();
    assert.equal(first.rows, 7);
    snapshots = (await seatRecords()).filter((r) => r.kind === "END").length;
    assert.equal(snapshots, 1);
  });

  // The ETags of the good snapshot would make the next poll a cheap 304; change the list so the
  // seat pages are read again, each time through the fault.
  for (const [name, fault] of [
    ["an HTML body", faults.html(seatsPath)],
    ["truncated JSON", faults.truncated(seatsPath)],
    ["an object without seats", faults.body(seatsPath, { total_seats: 8 })],
    ["seats that are not an array", faults.body(seatsPath, { total_seats: 8, seats: { login: "x" } })],
    [
      "a total_seats that disagrees with the seats read",
      faults.rewrite(seatsPath, (b) => ({ ...(b as object), total_seats: 99 }), { times: 2 }),
    ],
  ] as const) {
    it(`fails the poll on ${name}: no snapshot, an error log with the reason, health counts it`, async () => {
      sim.setSeats("acme", seats("acme", 8, `v${name.length}`));
      sim.injectFault(fault);
      const from = lines.length;
      await assert.rejects(service.pollSeats(), (err: Error & { code?: string }) => {
        assert.equal(err.code, "UPSTREAM_INVALID", err.message);
        return true;
      });
      const ends = (await seatRecords()).filter((r) => r.kind === "END" || r.kind === "UNCHANGED");
      assert.equal(ends.length, snapshots, "a snapshot was published from a bad answer");
      const logged = errorLines(from);
      assert.equal(logged.length, 1, "one error line for the failed poll");
      assert.match(logged[0] ?? "", /not the documented shape|contradicts itself/);
      const health = service.connection("github-org-acme")?.health().get("copilot.seats");
      assert.ok(health && health.consecutiveFailures >= 1 && /UPSTREAM_INVALID/.test(health.lastError ?? ""));
    });
  }

  it("the next good answer publishes a complete snapshot again", async () => {
    const result = await service.pollSeats();
    assert.equal(result.rows, 8);
    const ends = (await seatRecords()).filter((r) => r.kind === "END");
    assert.equal(ends.length, snapshots + 1);
    // Markers of different snapshots sit on different partitions: find this one by its id.
    assert.equal(ends.find((r) => r.snapshot_id === result.snapshotId)?.row_count, 8);
    assert.equal(
      service.connection("github-org-acme")?.health().get("copilot.seats")?.consecutiveFailures,
      0,
    );
  });
});

describe("issue 6: bad audit answers and timestamps", () => {
  const base = Date.now() - 3_600_000;
  const cursorOf = async () => {
    const records = await kafka.readTopic(topics.cursors);
    const key = cursorKey("tenant-a", "github-org-acme", "copilot.audit-events");
    const value = records.filter((r) => r.key === key).at(-1)?.value;
    return value
      ? windowCursorSchema.parse(JSON.parse(codecs.cursor.decode(value).cursor ?? "null"))
      : undefined;
  };

  it("an audit page that is an object fails the poll; the cursor stays", async () => {
    sim.addAuditEvents("acme", auditEvents("acme", 5, { startMs: base, stepMs: 1000, idPrefix: "good" }));
    assert.equal((await service.pollAuditEvents()).published, 5);
    const before = await cursorOf();
    sim.addAuditEvents(
      "acme",
      auditEvents("acme", 5, { startMs: base + 10_000, stepMs: 1000, idPrefix: "later" }),
    );
    sim.injectFault(faults.body(auditPath, { message: "not a list" }));
    await assert.rejects(service.pollAuditEvents(), /not the documented shape/);
    assert.deepEqual(await cursorOf(), before);
    assert.equal((await service.pollAuditEvents()).published, 5);
  });

  it("a timestamp in microseconds is dead-lettered once and never moves the cursor past now", async () => {
    const [bad] = auditEvents("acme", 1, { startMs: base + 20_000, idPrefix: "micro" });
    assert.ok(bad);
    bad["@timestamp"] = Number(bad["@timestamp"]) * 1000;
    sim.addAuditEvents("acme", [bad]);
    const started = Date.now();
    const first = await service.pollAuditEvents();
    const second = await service.pollAuditEvents();
    assert.equal(first.rejected, 1);
    assert.equal(second.rejected, 0, "dead-lettered again on the next poll");
    assert.ok(second.duplicates >= 1);
    const cursor = await cursorOf();
    assert.ok(cursor && cursor.highWaterMs <= started + 5 * 60_000, `cursor at ${cursor?.highWaterMs}`);
    const letters = (await kafka.readTopic(topics.dlq)).filter((r) => r.key?.endsWith("micro0") ?? false);
    assert.equal(letters.length, 1);
    assert.match(letters[0]?.headers[DlqHeaders.reason] ?? "", /range|timestamp/i);
  });

  it("a malformed event inside the overlap window is dead-lettered once across polls", async () => {
    const [broken] = auditEvents("acme", 1, { startMs: base + 30_000, idPrefix: "malformed" });
    assert.ok(broken);
    broken.actor_is_agent = "perhaps";
    sim.addAuditEvents("acme", [broken]);
    assert.equal((await service.pollAuditEvents()).rejected, 1);
    assert.equal((await service.pollAuditEvents()).rejected, 0);
    assert.equal((await service.pollAuditEvents()).rejected, 0);
    const letters = (await kafka.readTopic(topics.dlq)).filter((r) => r.key?.includes("malformed") ?? false);
    assert.equal(letters.length, 1);
  });
});
