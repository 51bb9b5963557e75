/**
 * Issue 7, "Done when": an organization with 1,000 users, 50 projects (10 archived), 500 keys and
 * 20,000 audit events lands in ClickHouse exactly once — each audit event id once in the topic
 * too — across a kill -9 of ingest-openai in the middle of the audit-log pages; the stale and
 * orphan key views return exactly the keys the simulator made stale or orphaned; and neither the
 * admin key nor a plain email is in any log line, topic record, dead letter or table.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService as createSnapshotter } from "@aiaudit/snapshotter";
import { loadConfig as snapshotterConfig } from "@aiaudit/snapshotter/config";
import { openaiOrg, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import {
  captureLogger,
  startServiceProcess,
  testClickHouse,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
  type ServiceProcess,
} from "@aiaudit/testing";
import { ADMIN_KEY, ingestEnv, ORG_ID } from "../helpers.ts";

const prefix = uniquePrefix("openai-e2e");
const topics = topicNames(prefix);
const { logger, lines: testLogs } = captureLogger();
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
const now = Date.now();
const fixture = openaiOrg({
  orgId: ORG_ID,
  adminKey: ADMIN_KEY,
  now,
  users: 1000,
  projects: 50,
  archivedProjects: 10,
  keys: 500,
  staleKeys: 40,
  orphanKeys: 30,
  serviceAccountKeys: 20,
  auditEvents: 20_000,
  auditDays: 7,
});
// Two records a transform must refuse, so that dead letters exist to be scanned: a user whose
// added_at is in milliseconds, an audit event whose effective_at is.
const badUser = {
  object: "organization.user",
  id: "user-bad",
  email: "Broken.Person@acme.example",
  added_at: now,
};
const badEvent = {
  id: "audit_log-bad",
  type: "login.failed",
  effective_at: now - 3_600_000,
  actor: {
    type: "session",
    session: { user: { id: "user-bad", email: "broken.person@acme.example" }, ip_address: "10.1.2.3" },
  },
  "login.failed": { error_code: "invalid", error_message: "wrong password for broken.person@acme.example" },
};
fixture.org.users.push(badUser as never);
fixture.org.auditLogs.push(badEvent as never);

const emails = [
  ...fixture.org.users.map((u) => u.email).filter((e): e is string => typeof e === "string"),
  ...Object.values(fixture.org.projectApiKeys).flatMap((keys) =>
    keys.map((k) => k.owner.user?.email).filter((e): e is string => typeof e === "string"),
  ),
];
let sim: OpenaiSimulator;
let ch: ClickHouse;
const runs: ServiceProcess[] = [];

function ingest(name: string): ServiceProcess {
  const child = startServiceProcess(name, "services/ingest-openai/src/main.ts", {
    env: {
      PATH: process.env.PATH,
      ...ingestEnv(sim.url, prefix, {
        AUDIT_INITIAL_LOOKBACK_DAYS: "8",
        HTTP_PORT: "0",
        LOG_LEVEL: "info",
      }),
    },
    args: ["--once"],
    keepLines: 100_000,
  });
  runs.push(child);
  return child;
}

const auditRequests = () => sim.requests.filter((r) => r.path.endsWith("/audit_logs")).length;
const count = async (query: string) =>
  Number((await ch.rows<{ n: number | string }>(query.replaceAll("{db}", ch.database)))[0]?.n);
const ids = async (query: string) =>
  (await ch.rows<{ id: string }>(query.replaceAll("{db}", ch.database))).map((r) => r.id).sort();

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { [ORG_ID]: fixture.org } });
  cleanups.push(() => sim.close());
  ch = await testClickHouse((fn) => cleanups.push(fn));
});

after(async () => {
  for (const run of runs) await run.stop("SIGKILL");
  for (const fn of cleanups.reverse()) await fn();
});

describe("issue 7: an organization end to end, across a kill -9", () => {
  it("a kill -9 in the middle of the audit-log pages, a second run, and the snapshotter", async () => {
    const first = ingest("ingest-openai #1");
    // Past the first day's slice (about 30 pages): some chunks are committed, the rest are not.
    await waitFor(
      "audit-log pages read",
      () => Promise.resolve(auditRequests() >= 80 ? true : undefined),
      120_000,
      20,
    );
    await first.stop("SIGKILL");
    assert.equal(first.exit()?.signal, "SIGKILL", "the first run ended before it was killed");
    const published = first
      .output()
      .split("\n")
      .filter((l) => l.includes('"event":"stream_polled"'));
    assert.equal(
      published.filter((l) => l.includes('"openai.audit-events"')).length,
      0,
      "killed after the poll ended",
    );

    const before = await kafka.readTopic(topics.openaiAuditEvents);
    assert.ok(
      before.length > 0 && before.length < 20_000,
      `${before.length} events committed before the kill`,
    );

    const second = ingest("ingest-openai #2");
    const exit = await second.exited;
    assert.equal(exit.code, 0, `the second run failed:\n${second.output().slice(-3000)}`);

    const snapshotter = createSnapshotter(
      snapshotterConfig({
        KAFKA_BROKERS: TEST_BROKERS.join(","),
        KAFKA_TOPIC_PREFIX: prefix,
        SNAPSHOTTER_GROUP_ID: `${prefix}-sink`,
      }),
      { logger, kafka, clickhouse: ch },
    );
    try {
      assert.equal(await snapshotter.runOnce(), true);
    } finally {
      await snapshotter.stop();
    }
  });

  it("each audit event id is in the topic once, and in ClickHouse once", async () => {
    const records = await kafka.readTopic(topics.openaiAuditEvents);
    const topicIds = records.map((r) => codecs.openaiAuditEvent.decode(r.value ?? Buffer.alloc(0)).event_id);
    const dupes = topicIds.filter((id, i) => topicIds.indexOf(id) !== i);
    assert.deepEqual(dupes.slice(0, 5), [], `${dupes.length} ids in the topic twice`);
    assert.equal(topicIds.length, 20_000);
    assert.equal(await count("SELECT count() AS n FROM {db}.openai_audit_events"), 20_000);
    assert.equal(await count("SELECT uniqExact(event_id) AS n FROM {db}.openai_audit_events"), 20_000);
    const expected = new Set(fixture.org.auditLogs.map((e) => e.id).filter((id) => id !== badEvent.id));
    assert.ok(topicIds.every((id) => expected.has(id)));
  });

  it("users, projects and keys: the current views hold exactly the organization", async () => {
    assert.equal(await count("SELECT count() AS n FROM {db}.openai_current_users"), 1000);
    assert.equal(await count("SELECT count() AS n FROM {db}.openai_current_projects"), 50);
    assert.equal(
      await count("SELECT count() AS n FROM {db}.openai_current_projects WHERE status = 'archived'"),
      10,
    );
    assert.equal(
      await count("SELECT count() AS n FROM {db}.openai_current_api_keys WHERE key_type = 'PROJECT'"),
      500,
    );
    assert.equal(
      await count("SELECT count() AS n FROM {db}.openai_current_api_keys WHERE key_type = 'ADMIN'"),
      fixture.org.adminApiKeys.length,
    );
    // No duplicates in the tables either, whatever the kill cut short.
    assert.equal(
      await count(
        "SELECT count() AS n FROM (SELECT snapshot_id, user_id FROM {db}.openai_users GROUP BY snapshot_id, user_id HAVING count() > 1)",
      ),
      0,
    );
  });

  it("the stale and orphan key views return exactly the keys the simulator made so", async () => {
    assert.deepEqual(
      await ids("SELECT key_id AS id FROM {db}.openai_stale_keys WHERE key_type = 'PROJECT'"),
      [...fixture.expected.staleKeyIds].sort(),
    );
    assert.deepEqual(
      await ids("SELECT key_id AS id FROM {db}.openai_orphan_keys"),
      [...fixture.expected.orphanKeyIds].sort(),
    );
  });

  it("the admin key and plain emails are in no log line, topic record, dead letter or table", async () => {
    const letters = await kafka.readTopic(topics.dlq);
    assert.ok(letters.length >= 2, "the refused user and event are dead letters");
    const haystacks: [string, string][] = [
      ...runs.map((r): [string, string] => [`log of ${r.name}`, r.output()]),
      ["test process log", testLogs.join("\n")],
    ];
    for (const topic of Object.values(topics)) {
      const records = await kafka.readTopic(topic, { idleMs: 2000 });
      haystacks.push([
        `topic ${topic}`,
        records
          .map((r) => `${r.key ?? ""} ${r.value?.toString("latin1") ?? ""} ${JSON.stringify(r.headers)}`)
          .join("\n"),
      ]);
    }
    const tables = await ch.rows<{ name: string }>(
      `SELECT name FROM system.tables WHERE database = '${ch.database}' AND engine NOT LIKE '%View%'`,
    );
    for (const { name } of tables) {
      const rows = await ch.rows<Record<string, unknown>>(`SELECT * FROM ${ch.table(name)}`);
      haystacks.push([`table ${name}`, JSON.stringify(rows)]);
    }
    const needles = [ADMIN_KEY, ...new Set(emails.map((e) => e.toLowerCase()))];
    for (const [where, text] of haystacks) {
      const lower = text.toLowerCase();
      const found = needles.find((needle) => lower.includes(needle.toLowerCase()));
      assert.equal(found === ADMIN_KEY ? "the admin key" : found, undefined, `found in ${where}`);
    }
  });
});
