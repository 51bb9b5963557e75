/**
 * Issue 6, defect 5: `aiaudit connect` run twice for the same organization (a token rotation)
 * left two pollers — every request twice, fencing errors. One connection key, one poller: the new
 * record replaces the old poller cleanly.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix, waitFor } from "@aiaudit/testing";

const oldToken = "ghp_reconnectold00000000000000000000";
const newToken = "ghp_reconnectnew00000000000000000000";
const secretsKey = "77".repeat(32);
const prefix = uniquePrefix("reconnect");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
const scopes = ["manage_billing:copilot", "read:org", "read:audit_log"];
let sim: GithubSimulator;
let service: IngestCopilotService;

async function connect(token: string) {
  const err: string[] = [];
  const code = await runCli(
    ["connect", "copilot", "--tenant", "tenant-a", "--org", "acme", "--base-url", sim.url],
    {
      env: { KAFKA_BROKERS: TEST_BROKERS.join(","), KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: secretsKey },
      stdin: Readable.from([token]),
      out: () => undefined,
      err: (l) => err.push(l),
    },
  );
  assert.equal(code, 0, err.join("\n"));
}

const snapshots = async () =>
  (await kafka.readTopic(topics.copilotSeats, { idleMs: 1000 }))
    .map((r) => codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)))
    .filter((r) => r.kind === "END" || r.kind === "UNCHANGED").length;

before(async () => {
  sim = await startGithubSimulator({
    tokens: [
      { token: oldToken, scopes },
      { token: newToken, scopes },
    ],
    orgs: { acme: { id: 1, seats: seats("acme", 4) } },
  });
  await connect(oldToken);
  service = createService(
    loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      TENANT_ID: "tenant-a",
      PSEUDONYM_KEY: "99".repeat(32),
      SECRETS_KEY: secretsKey,
      POLL_INTERVAL_SECONDS: "3600",
    }),
    { logger, kafka },
  );
  await service.start();
});
after(async () => {
  await service.stop();
  await sim.close();
});

it("a second connect of the same org replaces its poller: one poll per record, no fencing", async () => {
  await waitFor("the first snapshot", async () => ((await snapshots()) >= 1 ? true : undefined));
  const seatsPath = "/orgs/acme/copilot/billing/seats";
  const from = sim.requests.length;
  await connect(newToken);
  await waitFor("the second connection's snapshot", async () =>
    (await snapshots()) >= 2 ? true : undefined,
  );
  // Give a second poller, if there were one, time to show itself.
  await new Promise((resolve) => setTimeout(resolve, 3000));
  // The pollers ask conditionally (the probe of `connect` does not): one poll, one request.
  const seatRequests = sim.requests
    .slice(from)
    .filter((r) => r.path === seatsPath && r.ifNoneMatch !== undefined);
  assert.equal(seatRequests.length, 1, `seat requests after the reconnect: ${seatRequests.length}`);
  assert.equal(await snapshots(), 2);
  assert.equal(service.connection("github-org-acme")?.spec.token, newToken);
  const text = lines.join("\n");
  assert.doesNotMatch(text, /fenced/i);
  assert.doesNotMatch(text, /"event":"poll_failed"/);
  assert.ok(!text.includes(oldToken) && !text.includes(newToken), "a token reached a log line");
});
