/**
 * Issue 3: an enterprise connection reads the enterprise's seats, its audit log and its agent
 * usage records; usage content is kept only as keyed hashes by default, and lands in ClickHouse.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import {
  auditEvents,
  seats,
  startGithubSimulator,
  usageRecords,
  userMetricsRows,
  type GithubSimulator,
} from "@aiaudit/sim-github";
import { createService as createSnapshotter, type SnapshotterService } from "@aiaudit/snapshotter";
import { loadConfig as loadSnapshotterConfig } from "@aiaudit/snapshotter/config";
import {
  captureLogger,
  testClickHouse,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";

const token = "ghp_enterprisetoken00000000000000000";
const secretsKey = "12".repeat(32);
const prefix = uniquePrefix("enterprise");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
const usage = usageRecords(77, 60, { startMs: Date.now() - 3_600_000, stepMs: 1000 });
const metricsUsers = [
  { login: "ent-mona", id: 601 },
  { login: "ent-hubot", id: 602 },
];
let sim: GithubSimulator;
let ch: ClickHouse;
let service: IngestCopilotService | undefined;
let snapshotter: SnapshotterService | undefined;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  sim = await startGithubSimulator({
    tokens: [{ token, scopes: ["manage_billing:copilot", "read:enterprise", "read:audit_log"] }],
    enterprises: {
      "acme-ent": {
        id: 77,
        seats: seats("acme", 8),
        auditEvents: auditEvents("acme", 40, {
          startMs: Date.now() - 3_600_000,
          stepMs: 30_000,
          business: "acme-ent",
        }),
        usageRecords: usage,
      },
    },
  });
  const twoDaysAgo = new Date(Date.now() - 2 * 86_400_000).toISOString().slice(0, 10);
  sim.setReport(
    "acme-ent",
    "users-1-day",
    twoDaysAgo,
    userMetricsRows(twoDaysAgo, metricsUsers, { enterpriseId: 77 }),
    {
      enterprise: true,
    },
  );
  const env = { KAFKA_BROKERS: TEST_BROKERS.join(","), KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: secretsKey };
  const err: string[] = [];
  const code = await runCli(
    ["connect", "copilot", "--tenant", "tenant-a", "--enterprise", "acme-ent", "--base-url", sim.url],
    {
      env,
      stdin: Readable.from([token]),
      out: () => undefined,
      err: (l) => err.push(l),
    },
  );
  assert.equal(code, 0, err.join("\n"));
  const config = {
    ...env,
    TENANT_ID: "tenant-a",
    PSEUDONYM_KEY: "13".repeat(32),
    SNAPSHOTTER_GROUP_ID: `${prefix}-sink`,
  };
  snapshotter = createSnapshotter(loadSnapshotterConfig(config), { logger, kafka, clickhouse: ch });
  await snapshotter.start();
  service = createService(loadConfig(config), { logger, kafka });
  await service.start();
});
after(async () => {
  await service?.stop();
  await snapshotter?.stop();
  await sim.close();
  for (const fn of cleanups.reverse()) await fn();
});

it("reads enterprise seats, the enterprise audit log and usage records, and keeps no usage content", async () => {
  const usageRows = await waitFor(
    "usage records in ClickHouse",
    async () => {
      const rows = await ch.rows<{
        record_id: string;
        body: string | null;
        body_digest_json: string;
        tool_names: string[];
      }>(
        `SELECT record_id, body, body_digest_json, tool_names FROM ${ch.table("copilot_usage_records")} FINAL`,
      );
      return rows.length === usage.length ? rows : undefined;
    },
    60_000,
  );
  assert.ok(usageRows.every((r) => r.body === null && r.tool_names.includes("read_file")));
  assert.ok(!JSON.stringify(usageRows).includes("Add input validation"));

  const auditRows = await ch.rows<{ n: string }>(
    `SELECT toString(count()) AS n FROM ${ch.table("copilot_audit_events")} FINAL WHERE scope = 'ENTERPRISE'`,
  );
  assert.ok(Number(auditRows[0]?.n) > 0);
  const ends = (await kafka.readTopic(topics.copilotSeats))
    .map((r) => codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)))
    .filter((r) => r.kind === "END");
  assert.deepEqual(
    ends.map((e) => [e.org, e.scope]),
    [["acme-ent", "ENTERPRISE"]],
  );
  assert.ok(
    sim.requests.some(
      (r) => r.path === "/enterprises/acme-ent/copilot/usage-records" && r.query.per_page === "25",
    ),
  );
  const metrics = await waitFor("metrics rows in ClickHouse", async () => {
    const rows = await ch.rows<{ report: string; user_pseudonym: string | null; row_json: string }>(
      `SELECT report, user_pseudonym, row_json FROM ${ch.table("copilot_metrics_rows")} FINAL`,
    );
    return rows.length === metricsUsers.length ? rows : undefined;
  });
  assert.ok(metrics.every((r) => r.report === "users-1-day" && r.user_pseudonym));
  assert.ok(!JSON.stringify(metrics).includes("ent-mona"));
  assert.ok(!lines.join("\n").includes(token));
});
