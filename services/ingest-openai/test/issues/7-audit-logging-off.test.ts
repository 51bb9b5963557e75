/**
 * Issue 7, "Done when": an organization with audit logging switched off is shown as such on the
 * connection (`aiaudit status`), while its users, projects and keys still flow; once switched
 * on, the message goes and the events come. The connections are made as a user makes them:
 * sealed on the connections topic, opened by the service with SECRETS_KEY; a second one, whose
 * key OpenAI rejects, breaks alone.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, topicNames, type ConnectionRecord } from "@aiaudit/contracts";
import { createService } from "@aiaudit/ingest-openai";
import { loadConfig } from "@aiaudit/ingest-openai/config";
import {
  AUDIT_LOGGING_OFF,
  openaiConnection,
  openaiConnectionId,
  REJECTED_ADMIN_KEY,
} from "@aiaudit/openai-connect";
import { openaiOrg, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix, waitFor } from "@aiaudit/testing";
import { ADMIN_KEY, auditEventsOf, ORG_ID, snapshotRecords } from "../helpers.ts";

const { logger } = captureLogger();
const kafka = testKafka(logger);
const prefix = uniquePrefix("openai-logging-off");
const topics = topicNames(prefix);
const secretsKey = Buffer.alloc(32, 0x77);
const key = `tenant-a/${openaiConnectionId(ORG_ID)}`;
const otherKey = `tenant-a/${openaiConnectionId("org-other")}`;
const fixture = openaiOrg({
  orgId: ORG_ID,
  adminKey: ADMIN_KEY,
  now: Date.now(),
  users: 12,
  projects: 3,
  archivedProjects: 0,
  keys: 6,
  staleKeys: 0,
  orphanKeys: 0,
  auditEvents: 40,
  auditDays: 1,
});
fixture.org.auditLoggingEnabled = false;
let sim: OpenaiSimulator;

const env = {
  KAFKA_BROKERS: TEST_BROKERS.join(","),
  KAFKA_TOPIC_PREFIX: prefix,
  SECRETS_KEY: secretsKey.toString("hex"),
  PSEUDONYM_MASTER_KEY: "66".repeat(32),
  // `aiaudit status` also counts rows in ClickHouse: this process's own embedded engine.
  CLICKHOUSE_DATA_DIR: `.cache/test-chdb/${process.pid}`,
};

/** One pass of the service over the connections on the topic, as `--once` does. */
async function pass(): Promise<boolean> {
  return createService(loadConfig(env), { logger, kafka }).runOnce();
}

async function connection(which = key): Promise<ConnectionRecord> {
  const records = (await kafka.readTopic(topics.connections)).filter((r) => r.key === which && r.value);
  const last = records.at(-1);
  assert.ok(last?.value);
  return codecs.connection.decode(last.value);
}

async function status(): Promise<string> {
  const out: string[] = [];
  const code = await runCli(["status", "--tenant", "tenant-a"], {
    env,
    stdin: Readable.from([]),
    out: (l) => out.push(l),
    err: (l) => out.push(l),
  });
  assert.equal(code, 0, out.join("\n"));
  return out.join("\n");
}

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { [ORG_ID]: fixture.org } });
  await kafka.ensureTopics([{ name: topics.connections, compacted: true, partitions: 12 }]);
  const record = openaiConnection({
    tenant: "tenant-a",
    orgId: ORG_ID,
    name: "Acme research",
    baseUrl: `${sim.url}/v1`,
    adminKey: ADMIN_KEY,
    secretsKey,
    now: Date.now(),
  });
  // A second organization whose key OpenAI rejects: it breaks alone.
  const rejected = openaiConnection({
    tenant: "tenant-a",
    orgId: "org-other",
    baseUrl: `${sim.url}/v1`,
    adminKey: "sk-admin-revoked000000000000000000000000",
    secretsKey,
    now: Date.now(),
  });
  const producer = await kafka.transactionalProducer(`${prefix}.connect`);
  await producer.transaction((tx) =>
    tx.send([
      { topic: topics.connections, key, value: codecs.connection.encode(record) },
      { topic: topics.connections, key: otherKey, value: codecs.connection.encode(rejected) },
    ]),
  );
  await producer.disconnect();
});
after(() => sim.close());

describe("issue 7: an organization with audit logging switched off", () => {
  it("the connection says so, stays ACTIVE, and users, projects and keys flow", async () => {
    assert.equal(await pass(), false, "the audit stream's failure is reported");
    const record = await waitFor("the status message", async () => {
      const r = await connection();
      return r.status_message ? r : undefined;
    });
    assert.equal(record.status, "ACTIVE");
    assert.equal(record.status_message, AUDIT_LOGGING_OFF);
    const users = (await snapshotRecords(kafka, topics.openaiUsers)).filter((r) => r.kind === "END");
    assert.equal(users.at(-1)?.row_count, 12);
    const projects = (await snapshotRecords(kafka, topics.openaiProjects)).filter((r) => r.kind === "END");
    assert.equal(projects.at(-1)?.row_count, 3);
    const keys = (await snapshotRecords(kafka, topics.openaiApiKeys)).filter(
      (r) => r.kind === "END" && r.entity === "PROJECT_API_KEYS",
    );
    assert.equal(keys.at(-1)?.row_count, 6);
    const other = await waitFor("the rejected key's connection broken", async () => {
      const r = await connection(otherKey);
      return r.status === "BROKEN" ? r : undefined;
    });
    assert.equal(other.status_message, REJECTED_ADMIN_KEY);
    const text = await status();
    assert.match(text, /OpenAI organization org-acme/);
    assert.ok(text.includes(AUDIT_LOGGING_OFF), text);
  });

  it("once switched on, the events come and the message goes", async () => {
    fixture.org.auditLoggingEnabled = true;
    assert.equal(await pass(), true);
    const record = await waitFor("the message cleared", async () => {
      const r = await connection();
      return r.status_message === null ? r : undefined;
    });
    assert.equal(record.status, "ACTIVE");
    assert.ok(!(await status()).includes(AUDIT_LOGGING_OFF));
    const events = await waitFor("the audit events", async () => {
      const all = await auditEventsOf(kafka, prefix);
      return all.length >= 40 ? all : undefined;
    });
    assert.deepEqual(new Set(events.map((e) => e.event_id)), new Set(fixture.org.auditLogs.map((e) => e.id)));
  });
});
