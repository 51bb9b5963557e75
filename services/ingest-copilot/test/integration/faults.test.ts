/**
 * Issue 3, "Done when": every injected fault is survived with nothing lost and no cursor past
 * data not yet written; the request log shows `retry-after` and the rate-limit reset honoured.
 * Each scenario adds 300 events (3 pages of 100) and breaks the second page.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import {
  auditEvents,
  faults,
  startGithubSimulator,
  type Fault,
  type GithubSimulator,
} from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_faultstoken0000000000000000000000";
const path = "/orgs/acme/audit-log";
const prefix = uniquePrefix("faults");
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
let sim: GithubSimulator;
let service: IngestCopilotService;
let clock = Date.now() - 6 * 3_600_000;
const all: string[] = [];

before(async () => {
  sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: [] } } });
  service = createService(
    loadConfig(
      ingestEnv(sim.url, prefix, token, {
        AUDIT_PER_PAGE: "100",
        GITHUB_REQUEST_TIMEOUT_SECONDS: "1",
        // A short overlap, so the broken second page holds new events, not only re-read ones.
        AUDIT_OVERLAP_MINUTES: "1",
      }),
    ),
    { logger, kafka },
  );
});
after(async () => {
  await service.stop();
  await sim.close();
});

/** 300 new events, and `fault` on the second page of the next traversal. */
function nextBatch(fault: Fault) {
  const events = auditEvents("acme", 300, { startMs: clock, stepMs: 1000, idPrefix: `b${all.length}` });
  clock += 300_000;
  all.push(...events.map((e) => String(e._document_id)));
  sim.addAuditEvents("acme", events);
  sim.injectFault(fault);
  return sim.requests.length;
}

const auditRequestsSince = (from: number) => sim.requests.slice(from).filter((r) => r.path === path);

describe("ingest-copilot under GitHub faults", () => {
  it("retries a 502 and loses nothing", async () => {
    nextBatch(faults.serverError(path, 502, { query: "after=" }));
    assert.equal((await service.pollAuditEvents()).published, 300);
  });

  it("waits the retry-after of a secondary rate limit before retrying", async () => {
    const from = nextBatch(
      faults.secondaryRateLimit({ path, query: "after=", retryAfterSeconds: 2, status: 429 }),
    );
    assert.equal((await service.pollAuditEvents()).published, 300);
    const reqs = auditRequestsSince(from);
    const limited = reqs.findIndex((r) => r.status === 429);
    assert.ok(limited >= 0);
    const gap = (reqs[limited + 1]?.at ?? 0) - (reqs[limited]?.at ?? 0);
    assert.ok(gap >= 2000, `retried after ${gap} ms, retry-after said 2 s`);
  });

  it("waits for x-ratelimit-reset when the primary limit is spent", async () => {
    const from = nextBatch(
      faults.primaryRateLimit({ path, query: "after=", resetInSeconds: 1, status: 403 }),
    );
    assert.equal((await service.pollAuditEvents()).published, 300);
    const reqs = auditRequestsSince(from);
    const limited = reqs.findIndex((r) => r.status === 403);
    assert.ok(limited >= 0);
    const gap = (reqs[limited + 1]?.at ?? 0) - (reqs[limited]?.at ?? 0);
    assert.ok(gap >= 1000, `retried ${gap} ms after the limit, before the reset`);
  });

  it("abandons a response slower than the timeout and retries it", async () => {
    nextBatch({ path, query: "after=", delayMs: 1500 });
    assert.equal((await service.pollAuditEvents()).published, 300);
  });

  for (const [name, fault] of [
    ["a truncated JSON body", { path, query: "after=", truncate: true }],
    ["a 401", faults.badCredentials(path, { query: "after=" })],
    ["a 403 for a missing permission", faults.forbidden(path, { query: "after=" })],
    ["a 404", faults.notFound(path, { query: "after=" })],
  ] as [string, Fault][]) {
    it(`fails the poll on ${name} after the pages before it, and the next poll goes on from there`, async () => {
      nextBatch(fault);
      await assert.rejects(service.pollAuditEvents());
      const second = await service.pollAuditEvents();
      assert.ok(second.published > 0 && second.published < 300, `second poll published ${second.published}`);
    });
  }

  it("after all of it, every event is in the topic exactly once", async () => {
    const records = await kafka.readTopic(topicNames(prefix).copilotAuditEvents);
    const ids = records.map((r) => codecs.copilotAuditEvent.decode(r.value ?? Buffer.alloc(0)).event_id);
    assert.equal(ids.length, all.length);
    assert.deepEqual([...ids].sort(), [...all].sort());
    assert.ok(!lines.join("\n").includes(token), "the token reached a log line");
  });
});
