/**
 * Issue 7, "Done when": every injected fault is survived with nothing lost and no snapshot
 * emptied. A 200 with HTML, truncated JSON, an object where the list belongs, a list that says
 * there is more and names no cursor, a 5xx, a timeout: the poll fails with its code and the
 * previous snapshot stays the newest complete one; once the fault is gone the next poll publishes
 * the whole list. A 429 with retry-after is waited out by the SDK. The audit log survives a
 * fault in the middle of its pages, and an event served twice is published once.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { topicNames } from "@aiaudit/contracts";
import { isAiauditError } from "@aiaudit/errors";
import { createService, type IngestOpenaiService } from "@aiaudit/ingest-openai";
import { loadConfig } from "@aiaudit/ingest-openai/config";
import { faults, openaiOrg, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ADMIN_KEY, auditEventsOf, ingestEnv, ORG_ID, snapshotOf, snapshotRecords } from "../helpers.ts";

const { logger } = captureLogger();
const kafka = testKafka(logger);
const prefix = uniquePrefix("openai-faults");
const topics = topicNames(prefix);
const fixture = openaiOrg({
  orgId: ORG_ID,
  adminKey: ADMIN_KEY,
  now: Date.now(),
  users: 30,
  projects: 4,
  archivedProjects: 1,
  keys: 12,
  staleKeys: 2,
  orphanKeys: 3,
  auditEvents: 300,
  auditDays: 1,
});
let sim: OpenaiSimulator;
let service: IngestOpenaiService;

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { [ORG_ID]: fixture.org } });
  const env = ingestEnv(sim.url, prefix, {
    OPENAI_PAGE_LIMIT: "10",
    OPENAI_REQUEST_TIMEOUT_SECONDS: "1",
    OPENAI_MAX_RETRIES: "1",
  });
  service = createService(loadConfig(env), { logger, kafka });
});
after(async () => {
  await service.stop();
  await sim.close();
});

const poller = () => {
  const p = service.connection(`openai-${ORG_ID}`);
  assert.ok(p);
  return p;
};

/** Snapshot ids of `topic` whose END marker is on the topic. */
async function completed(topic: string): Promise<string[]> {
  return (await snapshotRecords(kafka, topic)).filter((r) => r.kind === "END").map((r) => r.snapshot_id);
}

const USERS = "/v1/organization/users";
const listFaults: [string, (path: string) => ReturnType<typeof faults.html>, string][] = [
  ["HTML with 200", (path) => faults.html(path, { query: "after=", times: Infinity }), "UPSTREAM_INVALID"],
  [
    "truncated JSON",
    (path) => faults.truncated(path, { query: "after=", times: Infinity }),
    "UPSTREAM_INVALID",
  ],
  [
    "an object where the list belongs",
    (path) =>
      faults.rewrite(path, (body) => ({ ...(body as object), data: { user: "x" } }), {
        query: "after=",
        times: Infinity,
      }),
    "UPSTREAM_INVALID",
  ],
  [
    "more pages and no cursor",
    (path) =>
      faults.rewrite(path, (body) => ({ ...(body as object), has_more: true, last_id: null }), {
        times: Infinity,
      }),
    "UPSTREAM_INVALID",
  ],
  ["a 503", (path) => faults.status(path, 503, { times: Infinity }), "UPSTREAM_HTTP"],
  ["a timeout", (path) => faults.slow(path, 2500, { times: Infinity }), "UPSTREAM_UNREACHABLE"],
];

describe("issue 7: faults on the lists never empty a snapshot", () => {
  let full: string;
  before(async () => {
    const first = await poller().pollUsers();
    assert.equal(first.rows, 30);
    full = first.snapshotId;
    await snapshotOf(kafka, topics.openaiUsers, full);
  });

  for (const [name, fault, code] of listFaults) {
    it(`${name} on the users' second page: the poll fails with ${code}, nothing is published`, async () => {
      const before = await completed(topics.openaiUsers);
      sim.injectFault(fault(USERS));
      try {
        const err = await poller()
          .pollUsers()
          .then(
            () => undefined,
            (e: unknown) => e,
          );
        assert.ok(isAiauditError(err), `the poll did not fail: ${String(err)}`);
        assert.equal(err.code, code);
        assert.doesNotMatch(err.message, new RegExp(ADMIN_KEY));
      } finally {
        sim.clearFaults();
      }
      assert.deepEqual(await completed(topics.openaiUsers), before, "a snapshot was published");
      const next = await poller().pollUsers();
      assert.equal(next.rows, 30);
      // Read whole before the next fault's "before": the commit markers may lag the commit.
      assert.equal((await snapshotOf(kafka, topics.openaiUsers, next.snapshotId)).rows.length, 30);
    });
  }

  it("a 429 with retry-after is waited out by the SDK: the poll succeeds", async () => {
    sim.injectFault(faults.rateLimited(USERS, 1, { times: 1 }));
    const started = Date.now();
    const r = await poller().pollUsers();
    assert.equal(r.rows, 30);
    assert.ok(Date.now() - started >= 900, "retry-after was not honoured");
    assert.ok(sim.requests.some((q) => q.status === 429));
    assert.ok(full);
  });

  it("a project's key list failing fails the key snapshot, not a short one", async () => {
    const good = await poller().pollProjectApiKeys();
    assert.equal(good.rows, 12);
    await snapshotOf(kafka, topics.openaiApiKeys, good.snapshotId);
    const before = await completed(topics.openaiApiKeys);
    const project = fixture.expected.activeProjectIds[1] ?? "";
    sim.injectFault(faults.html(`/v1/organization/projects/${project}/api_keys`, { times: Infinity }));
    await assert.rejects(poller().pollProjectApiKeys(), (e) => isAiauditError(e, "UPSTREAM_INVALID"));
    sim.clearFaults();
    assert.deepEqual(await completed(topics.openaiApiKeys), before);
  });
});

describe("issue 7: the audit log through faults and repeats", () => {
  it("a fault in the middle of the pages loses nothing; an event served twice is published once", async () => {
    const AUDIT = "/v1/organization/audit_logs";
    sim.injectFault(faults.truncated(AUDIT, { query: "after=", times: 1 }));
    await assert.rejects(poller().pollAuditEvents(), (e) => isAiauditError(e, "UPSTREAM_INVALID"));
    // Every page repeats the first event of the previous one, and one page lists an event twice.
    let previous: unknown;
    sim.injectFault(
      faults.rewrite(
        AUDIT,
        (body) => {
          const b = body as { data: unknown[] };
          const data = previous === undefined ? [...b.data, ...b.data.slice(0, 1)] : [previous, ...b.data];
          previous = b.data[0];
          return { ...b, data };
        },
        { times: Infinity },
      ),
    );
    const result = await poller().pollAuditEvents();
    sim.clearFaults();
    assert.ok(result.duplicates > 0, "no repeat was seen");
    const ids = (await auditEventsOf(kafka, prefix)).map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, "an event id is in the topic twice");
    assert.deepEqual(new Set(ids), new Set(fixture.org.auditLogs.map((e) => e.id)));
  });
});
