/**
 * Issue 3: connections made with `aiaudit connect` are polled at once, each on its own; a token
 * GitHub rejects marks the connection BROKEN on the topic with the message a person acts on, and
 * it is no longer polled. The token is in no log line and no topic record.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { faults, seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix, waitFor } from "@aiaudit/testing";

const acmeToken = "ghp_connectionsacme00000000000000000";
const globexToken = "ghp_connectionsglobex000000000000000";
const secretsKey = "88".repeat(32);
const prefix = uniquePrefix("connections");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
const scopes = ["manage_billing:copilot", "read:org", "read:audit_log"];
let sim: GithubSimulator;
let service: IngestCopilotService;

async function connect(token: string, org: string) {
  const err: string[] = [];
  const code = await runCli(
    ["connect", "copilot", "--tenant", "tenant-a", "--org", org, "--base-url", sim.url],
    {
      env: { KAFKA_BROKERS: TEST_BROKERS.join(","), KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: secretsKey },
      stdin: Readable.from([token]),
      out: () => undefined,
      err: (l) => err.push(l),
    },
  );
  assert.equal(code, 0, err.join("\n"));
}

async function snapshotOrgs(): Promise<string[]> {
  const records = await kafka.readTopic(topics.copilotSeats, { idleMs: 1000 });
  return records
    .map((r) => codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)))
    .filter((r) => r.kind === "END")
    .map((r) => r.org);
}

before(async () => {
  sim = await startGithubSimulator({
    tokens: [
      { token: acmeToken, scopes },
      { token: globexToken, scopes },
    ],
    orgs: { acme: { id: 1, seats: seats("acme", 4) }, globex: { id: 2, seats: seats("globex", 6) } },
  });
  await connect(acmeToken, "acme");
  service = createService(
    loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      TENANT_ID: "tenant-a",
      PSEUDONYM_KEY: "99".repeat(32),
      SECRETS_KEY: secretsKey,
    }),
    { logger, kafka },
  );
  await service.start();
});
after(async () => {
  console.error("after: stopping service");
  await service.stop();
  console.error("after: closing sim");
  await sim.close();
  console.error("after: done");
});

describe("connections", () => {
  it("polls a connection that existed at start", async () => {
    await waitFor(
      "acme's first snapshot",
      async () => ((await snapshotOrgs()).includes("acme") ? true : undefined),
      60_000,
    );
  });

  it("polls a new connection right after it is connected, while GitHub fails for another", async () => {
    sim.injectFault(faults.serverError(/^\/orgs\/acme\//, 500, { times: Infinity }));
    // Regression: an unreadable record on the connections topic once stopped the watcher.
    const producer = await kafka.transactionalProducer(`${prefix}.test.garbage`);
    await producer.transaction((tx) =>
      tx.send([
        { topic: topics.connections, key: "tenant-a/github-org-garbage", value: Buffer.from("not avro") },
      ]),
    );
    await producer.disconnect();
    await connect(globexToken, "globex");
    await waitFor(
      "globex's first snapshot",
      async () => ((await snapshotOrgs()).includes("globex") ? true : undefined),
      60_000,
    );
    assert.ok(service.connection("github-org-acme"), "a failing connection stays connected");
  });

  it("a rejected token marks the connection BROKEN with a message, and stops its polling", async () => {
    sim.clearFaults();
    sim.injectFault(faults.badCredentials(/^\/orgs\/acme/, { times: Infinity }));
    await service.connection("github-org-acme")?.pollAll();
    const broken = await waitFor("the BROKEN status on the topic", async () => {
      const records = await kafka.readTopic(topics.connections, { idleMs: 1000 });
      const last = records.filter((r) => r.key === "tenant-a/github-org-acme").at(-1);
      const value = last?.value ? codecs.connection.decode(last.value) : undefined;
      return value?.status === "BROKEN" ? value : undefined;
    });
    assert.match(broken.status_message ?? "", /rejected the token \(401/);
    // Regression: every stream met the 401 and each wrote the status, in concurrent transactions.
    const statuses = (await kafka.readTopic(topics.connections, { idleMs: 1000 })).filter(
      (r) => r.key === "tenant-a/github-org-acme",
    );
    assert.equal(statuses.length, 2, "ACTIVE from connect, then BROKEN once");
    assert.ok(!lines.some((l) => l.includes("ongoing transaction") || l.includes("could not record")));
    assert.equal(service.connection("github-org-acme"), undefined);
    assert.ok(service.connection("github-org-globex"));
    assert.ok(lines.some((l) => l.includes('"event":"connection_broken"')));
  });

  it("tokens appear in no log line and no topic record", async () => {
    const haystack = [...lines];
    for (const topic of Object.values(topics)) {
      for (const r of await kafka.readTopic(topic, { readUncommitted: true, idleMs: 1000 })) {
        haystack.push(r.value?.toString("latin1") ?? "", r.key ?? "");
      }
    }
    const text = haystack.join("\n");
    assert.ok(!text.includes(acmeToken) && !text.includes(globexToken));
  });
});
