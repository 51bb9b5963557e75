/**
 * Benchmark (issue 3): audit events per second from the GitHub simulator into Kafka through
 * ingest-copilot (HTTP pages of 100, validation, pseudonymization, Avro, one transaction per
 * page with its cursor), against a raw kafkajs produce of the same encoded records in the same
 * run (non-transactional, batches of 100, acks=all). Rounds alternate so machine noise hits
 * both; medians and their ratio are reported.
 *
 * Run: deploy/local/kafka/kafka.sh start && node bench/ingest-audit-events.ts [events] [rounds]
 *
 * kafkajs is imported here directly, and only here outside packages/kafka: it is the baseline.
 */
import { Kafka, Partitioners, logLevel } from "kafkajs";
import { codecs, recordKey, topicNames } from "@aiaudit/contracts";
import { createPseudonymizer } from "@aiaudit/crypto";
import { createService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { createLogger } from "@aiaudit/logger";
import { auditEvents, startGithubSimulator } from "@aiaudit/sim-github";
import { auditLogPages } from "../services/ingest-copilot/src/source/audit-log.ts";
import { createGithubClient } from "../services/ingest-copilot/src/source/github-client.ts";
import { telemetry } from "../services/ingest-copilot/src/telemetry.ts";
import { testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";

const count = Number(process.argv[2] ?? 10_000);
const rounds = Number(process.argv[3] ?? 5);
const token = "bench-token-not-a-secret";
const logger = createLogger({ name: "bench", level: "error" });
const kafka = testKafka(logger);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;

const events = auditEvents("acme", count, { startMs: Date.now() - 86_400_000, stepMs: 1_000 });
const sim = await startGithubSimulator({
  tokens: [token],
  orgs: { acme: { id: 1, seats: [], auditEvents: events } },
});

// The baseline's records: the same events, already encoded, written with a plain producer.
const p = createPseudonymizer(Buffer.alloc(32, 9));
const raw = new Kafka({ clientId: "bench-raw", brokers: TEST_BROKERS, logLevel: logLevel.NOTHING });
const rawProducer = raw.producer({ createPartitioner: Partitioners.DefaultPartitioner });
await rawProducer.connect();

// A second reference: reading the same pages through the service's own GitHub client (octokit
// with the throttling and retry plugins), publishing nothing, to show where the time goes.
const github = createGithubClient({ baseUrl: sim.url, token, telemetry: telemetry(logger) });
const pipelineMs: number[] = [];
const rawMs: number[] = [];
const readMs: number[] = [];
for (let round = 0; round < rounds; round++) {
  const prefix = uniquePrefix("bench");
  const topics = topicNames(prefix);
  const service = createService(
    loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      TENANT_ID: "bench",
      GITHUB_ORG: "acme",
      GITHUB_TOKEN: token,
      GITHUB_API_URL: sim.url,
      PSEUDONYM_KEY: "44".repeat(32),
    }),
    { logger, kafka },
  );
  await service.pollSeats(); // topics, cursors and connections warm before timing
  let started = performance.now();
  const result = await service.pollAuditEvents();
  pipelineMs.push(performance.now() - started);
  await service.stop();
  if (result.published !== count) throw new Error(`published ${result.published}, expected ${count}`);

  const encoded = events.map((e) => ({
    key: recordKey("bench", "acme", String(e._document_id)),
    value: codecs.copilotAuditEvent.encode({
      event_id: String(e._document_id),
      tenant: "bench",
      org: "acme",
      scope: "ORGANIZATION",
      action: String(e.action),
      created_at: Number(e["@timestamp"]),
      actor_pseudonym: p.pseudonym(String(e.actor)),
      actor_agent: null,
      actor_is_agent: false,
      agent_session_id: null,
      user_pseudonym: null,
      actor_country_code: null,
      business: null,
      event_org: "acme",
      raw_json: JSON.stringify(e),
      pseudonym_key_id: p.keyId,
      ingested_at: Date.now(),
    }),
  }));
  started = performance.now();
  for (let i = 0; i < encoded.length; i += 100) {
    await rawProducer.send({
      topic: topics.copilotAuditEvents,
      acks: -1,
      messages: encoded.slice(i, i + 100),
    });
  }
  rawMs.push(performance.now() - started);

  started = performance.now();
  let read = 0;
  for await (const page of auditLogPages(github, {
    scope: "ORGANIZATION",
    slug: "acme",
    phrase: "action:copilot",
    sinceMs: 0,
    perPage: 100,
  })) {
    read += page.length;
  }
  readMs.push(performance.now() - started);
  if (read !== count) throw new Error(`read ${read}, expected ${count}`);
  process.stdout.write(
    `round ${round + 1}: GitHub read only ${((count / (readMs.at(-1) ?? 1)) * 1000) | 0} ev/s, pipeline ${((count / (pipelineMs.at(-1) ?? 1)) * 1000) | 0} ev/s, raw kafkajs ${((count / (rawMs.at(-1) ?? 1)) * 1000) | 0} ev/s\n`,
  );
}
await rawProducer.disconnect();
await sim.close();

const pipeline = (count / median(pipelineMs)) * 1000;
const baseline = (count / median(rawMs)) * 1000;
const readOnly = (count / median(readMs)) * 1000;
process.stdout.write(
  `\n${count} events x ${rounds} rounds (medians)\n` +
    `  ingest-copilot, simulator -> Kafka (transactional, per page): ${pipeline.toFixed(0)} events/s\n` +
    `  raw kafkajs produce of the same records (batches of 100):    ${baseline.toFixed(0)} events/s\n` +
    `  reading the same pages through octokit, publishing nothing:  ${readOnly.toFixed(0)} events/s\n` +
    `  ratio pipeline / raw: ${(pipeline / baseline).toFixed(2)}; pipeline / read only: ${(pipeline / readOnly).toFixed(2)}\n`,
);
