/**
 * Benchmark (issue 7): audit events per second from the OpenAI simulator into Kafka through
 * ingest-openai, against reading the same events through the same SDK client page by page in
 * the same run (the baseline: what the API costs). N events (20,000 by default) over the last 7
 * days; rounds alternate which side goes first, so machine noise hits both; medians and their
 * ratio are reported.
 *
 * - stream: `connection(...).pollAuditEvents()` of the real service with a fresh cursor: time
 *   slices read whole with and without `tenant_only=true` (auditLogChunks), sorted, transformed,
 *   pseudonymized, Avro, one Kafka transaction per chunk of 500 with its cursor, on the broker.
 * - read only: the whole log through the service's SDK client and `listAll` (pages of 100), once
 *   without and once with `tenant_only=true`, as every event needs; publishing nothing.
 * - slices only: the stream's own reads (auditLogChunks over the 30-day initial lookback, day
 *   slices, both traversals each), publishing nothing: what the stream pays for reading in
 *   slices, so stream minus this is transform, Avro and Kafka.
 *
 * Run: deploy/local/kafka/kafka.sh start && node bench/ingest-openai-audit.ts [events] [rounds]
 */
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createService } from "@aiaudit/ingest-openai";
import { loadConfig } from "@aiaudit/ingest-openai/config";
import { createLogger } from "@aiaudit/logger";
import { createOpenaiClient, openaiConnectionId } from "@aiaudit/openai-connect";
import { openaiOrg, startOpenaiSimulator } from "@aiaudit/sim-openai";
import { testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";
import { listAll } from "../services/ingest-openai/src/source/api.ts";
import { auditLogChunks } from "../services/ingest-openai/src/source/audit-logs.ts";

const count = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 5);
const orgId = "org-bench";
const adminKey = "sk-admin-bench-not-a-secret-000000000000";
const pageLimit = 100;
const logger = createLogger({ name: "bench", level: process.env.LOG_LEVEL ?? "error" });
const kafka = testKafka(logger);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

const { org } = openaiOrg({
  orgId,
  adminKey,
  now: Date.now(),
  users: 50,
  projects: 5,
  archivedProjects: 0,
  keys: 0,
  staleKeys: 0,
  orphanKeys: 0,
  auditEvents: count,
  auditDays: 7,
});
const sim = await startOpenaiSimulator({ orgs: { [orgId]: org } });
const keyDir = mkdtempSync(join(tmpdir(), "aiaudit-bench-"));
const keyFile = join(keyDir, "admin-key");
writeFileSync(keyFile, adminKey, { mode: 0o600 });
// The baseline's client: the one the service builds, with the service's defaults.
const client = createOpenaiClient({ baseUrl: `${sim.url}/v1`, adminKey, timeoutMs: 30_000, maxRetries: 2 });

/** The whole audit log through the SDK, both traversals; events read and requests made. */
async function readOnly(): Promise<{ ms: number; events: number; requests: number }> {
  const before = sim.requests.length;
  const started = performance.now();
  let events = 0;
  for (const tenantOnly of [false, true]) {
    const all = await listAll("GET /organization/audit_logs", (page) =>
      client.admin.organization.auditLogs.list({
        limit: pageLimit,
        ...page,
        ...(tenantOnly ? { tenant_only: true } : {}),
      }),
    );
    events += all.length;
  }
  return { ms: performance.now() - started, events, requests: sim.requests.length - before };
}

/** Chunks of the last `slicesOnly` pass: the stream commits one transaction per chunk. */
let chunkCount = 0;

/** The stream's reads alone, with the service's defaults: 30 days back, day slices, 10,000 at most. */
async function slicesOnly(): Promise<{ ms: number; events: number; requests: number }> {
  const before = sim.requests.length;
  const started = performance.now();
  let events = 0;
  const now = Date.now();
  const chunks = auditLogChunks(client, {
    sinceMs: now - 30 * 86_400_000,
    untilMs: now,
    limit: pageLimit,
    maxEvents: 10_000,
    chunk: 500,
  });
  chunkCount = 0;
  for await (const chunk of chunks) {
    events += chunk.length;
    chunkCount += 1;
  }
  return { ms: performance.now() - started, events, requests: sim.requests.length - before };
}

/** One poll of the audit stream of a fresh service (new topics, empty cursor). */
async function stream(): Promise<{ ms: number; events: number; requests: number }> {
  const service = createService(
    loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: uniquePrefix("bench-openai"),
      TENANT_ID: "bench",
      OPENAI_ORG_ID: orgId,
      OPENAI_ADMIN_KEY_FILE: keyFile,
      OPENAI_API_URL: `${sim.url}/v1`,
      OPENAI_PAGE_LIMIT: String(pageLimit),
      PSEUDONYM_KEY: "44".repeat(32),
    }),
    { logger, kafka },
  );
  try {
    const poller = service.connection(openaiConnectionId(orgId));
    if (!poller) throw new Error(`no poller for ${orgId}`);
    await poller.pollAdminApiKeys(); // topics, cursor store and connection warm before timing
    const before = sim.requests.length;
    const started = performance.now();
    const result = await poller.pollAuditEvents();
    const ms = performance.now() - started;
    return { ms, events: result.published, requests: sim.requests.length - before };
  } finally {
    await service.stop();
  }
}

const sides = { stream, readOnly, slicesOnly };
type Side = keyof typeof sides;
const names = Object.keys(sides) as Side[];
const ms: Record<Side, number[]> = { stream: [], readOnly: [], slicesOnly: [] };
const requests: Record<Side, number> = { stream: 0, readOnly: 0, slicesOnly: 0 };
try {
  for (let round = 1; round <= rounds; round++) {
    // Each round starts with another side.
    const order = names.map((_, i) => names[(i + round - 1) % names.length] as Side);
    for (const side of order) {
      const r = await sides[side]();
      if (r.events !== count) throw new Error(`${side}: ${r.events} events, expected ${count}`);
      ms[side].push(r.ms);
      requests[side] = r.requests;
    }
    console.log(
      `round ${round}: ` +
        names.map((side) => `${side} ${rate(count, ms[side].at(-1) ?? NaN)} ev/s`).join(", "),
    );
  }
} finally {
  await sim.close();
  rmSync(keyDir, { recursive: true, force: true });
}

const line = (label: string, side: Side) =>
  console.log(
    `  ${label.padEnd(62)} ${rate(count, median(ms[side]))} events/s, ${Math.round(median(ms[side]))} ms, ${requests[side]} requests`,
  );
console.log(`\n${count} audit events over 7 days x ${rounds} rounds (medians)`);
line("ingest-openai audit stream -> Kafka (transactions with cursor):", "stream");
line("read only through the SDK (listAll, both traversals):", "readOnly");
line("the stream's slices only (auditLogChunks), publishing nothing:", "slicesOnly");
console.log(`  chunks of up to 500 (one Kafka transaction each in the stream): ${chunkCount}`);
const ratio = (a: Side, b: Side) => (median(ms[b]) / median(ms[a])).toFixed(2);
console.log(
  `  ratio stream / read only: ${ratio("stream", "readOnly")}; slices only / read only: ${ratio("slicesOnly", "readOnly")}`,
);
