/**
 * Issue 3: daily usage-metrics reports are fetched through their download links (without the
 * GitHub token), published once per day and report, people pseudonymized.
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { organizationMetricsRow, startGithubSimulator, userMetricsRows } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_metricstoken00000000000000000000";
const prefix = uniquePrefix("metrics");
const { logger } = captureLogger();
const kafka = testKafka(logger);
const day = (daysAgo: number) => new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
const users = [
  { login: "mona-metrics", id: 501 },
  { login: "hubot-metrics", id: 502 },
  { login: "octo-metrics", id: 503 },
];
const sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: [] } } });
for (const d of [day(1), day(2), day(5)]) {
  const rows = userMetricsRows(d, users, { organizationId: 1 });
  sim.setReport("acme", "users-1-day", d, rows);
  sim.setReport("acme", "organization-1-day", d, [organizationMetricsRow(d, 1, rows)]);
}
const service = createService(
  loadConfig(ingestEnv(sim.url, prefix, token, { METRICS_INITIAL_LOOKBACK_DAYS: "7" })),
  { logger, kafka },
);
after(async () => {
  await service.stop();
  await sim.close();
});

it("publishes each day's report rows once, with user logins pseudonymized", async () => {
  const poller = service.connection("github-org-acme");
  assert.ok(poller);
  const first = await poller.pollMetrics();
  assert.equal(first.rows, 3 * (3 + 1));
  const again = await poller.pollMetrics();
  assert.equal(again.rows, 0, "a day was published twice");

  const rows = (await kafka.readTopic(topicNames(prefix).copilotMetrics)).map((r) =>
    codecs.copilotMetricsRow.decode(r.value ?? Buffer.alloc(0)),
  );
  assert.equal(rows.length, 12);
  assert.deepEqual([...new Set(rows.map((r) => r.day))].sort(), [day(5), day(2), day(1)].sort());
  const text = JSON.stringify(rows);
  for (const { login } of users) assert.ok(!text.includes(login), `${login} is in the topic`);
  assert.equal(rows.filter((r) => r.report === "users-1-day" && r.user_pseudonym).length, 9);
  const downloads = sim.requests.filter((r) => r.path.startsWith("/_downloads/"));
  assert.ok(downloads.length >= 6);
  assert.ok(
    downloads.every((r) => r.authorization === undefined),
    "the token was sent to a download link",
  );
});
