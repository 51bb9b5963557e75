/**
 * Benchmark (issue 11): each SIEM forwarder against a bare HTTP post of the same batches, in the
 * same run. N Copilot audit events (20,000 by default; realistic `raw_json` from the GitHub
 * simulator's generator) are published beforehand. Then, per destination kind (a Standard
 * Webhooks receiver, a Splunk HEC receiver, both on loopback in this process), each round:
 *
 * - forwarder: the snapshotter's forwarder (sinks/siem/forwarder.ts) with a fresh consumer group
 *   over the topics and the snapshotter's default fetch sizes: Kafka fetch, Avro decode, filter, JSON, signing or HEC framing, POST, commit;
 *   timed from start until the receiver holds all N events;
 * - bare post: the very bodies the receiver got from the forwarder that round, POSTed again one
 *   after another with node:http on a keep-alive agent, no Kafka, no signing.
 *
 * Reports events/s of each (medians over the rounds) and their ratio.
 *
 * Run: deploy/local/kafka/kafka.sh start && node bench/siem-forward.ts [events] [rounds]
 */
import { randomBytes } from "node:crypto";
import { Agent, createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { codecs, recordKey, topicNames, topicSpecs, type DestinationRecord } from "@aiaudit/contracts";
import { destinationSealContext, sealSecret } from "@aiaudit/crypto";
import { createLogger } from "@aiaudit/logger";
import { testKafka, uniquePrefix } from "@aiaudit/testing";
import { loadConfig } from "@aiaudit/snapshotter/config";
import { createForwarders } from "../services/snapshotter/src/sinks/siem/forwarder.ts";
import { benchAuditEvents } from "./audit-event-values.ts";

const count = Number(process.argv[2] ?? 20_000);
const rounds = Number(process.argv[3] ?? 3);
const logger = createLogger({ name: "bench", level: process.env.LOG_LEVEL ?? "error" });
const kafka = testKafka(logger);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);

const prefix = uniquePrefix("bench-siem");
const topics = topicNames(prefix);
const now = Date.now();
const records = benchAuditEvents(count, now).map((value) => ({
  topic: topics.copilotAuditEvents,
  key: recordKey("bench", "acme", value.event_id),
  value: codecs.copilotAuditEvent.encode(value),
}));
await kafka.ensureTopics(topicSpecs(prefix));
const producer = await kafka.transactionalProducer(`${prefix}.ingest`);
for (let i = 0; i < records.length; i += 500)
  await producer.transaction((tx) => tx.send(records.slice(i, i + 500)));
await producer.disconnect();

// One receiver for both kinds: it keeps every body and counts the events in it.
const bodies: string[] = [];
let received = 0;
let onEvents: (() => void) | undefined;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    bodies.push(body);
    received +=
      req.url === "/services/collector/event"
        ? body.split("\n").length
        : (JSON.parse(body) as { data: { events: unknown[] } }).data.events.length;
    res.writeHead(200, { "content-type": "application/json" }).end('{"text":"Success","code":0}');
    onEvents?.();
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
const secretsKey = randomBytes(32);
/** The snapshotter's default fetch sizes, which its forwarders use too. */
const defaults = loadConfig({ KAFKA_BROKERS: "127.0.0.1:19092" });
const fetch = {
  minBytes: defaults.SNAPSHOTTER_FETCH_MIN_BYTES,
  maxWaitTimeInMs: defaults.SNAPSHOTTER_FETCH_MAX_WAIT_MS,
  maxBytesPerPartition: defaults.SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION,
  maxBytes: defaults.SNAPSHOTTER_FETCH_MAX_BYTES,
};

async function forwarderRun(
  kind: DestinationRecord["kind"],
  round: number,
): Promise<{ ms: number; sent: string[]; path: string }> {
  bodies.length = 0;
  received = 0;
  const id = `${kind.toLowerCase()}-${round}`;
  const secret = kind === "WEBHOOK" ? `whsec_${randomBytes(24).toString("base64")}` : "bench-token";
  const record: DestinationRecord = {
    tenant: "bench",
    destination_id: id,
    kind,
    url: kind === "WEBHOOK" ? `${base}/hook` : base,
    sealed_secret: sealSecret(secretsKey, secret, destinationSealContext("bench", id)),
    modules: [],
    kinds: [],
    event_types: [],
    allow_private: true,
    splunk_index: null,
    created_at: now,
  };
  const forwarders = createForwarders({
    kafka,
    topics,
    groupPrefix: `${prefix}.bench`,
    log: logger,
    secretsKey,
    fetch,
    deadLetters: () => Promise.reject(new Error("nothing should be refused")),
  });
  const done = new Promise<void>((resolve) => (onEvents = () => received >= count && resolve()));
  const t = performance.now();
  await forwarders.apply(`bench/${id}`, codecs.destination.encode(record));
  await done;
  const ms = performance.now() - t;
  await forwarders.stop();
  return { ms, sent: [...bodies], path: kind === "WEBHOOK" ? "/hook" : "/services/collector/event" };
}

async function barePost(sent: string[], path: string): Promise<number> {
  const agent = new Agent({ keepAlive: true });
  const t = performance.now();
  for (const body of sent) {
    await new Promise<void>((resolve, reject) => {
      const req = request(
        `${base}${path}`,
        {
          method: "POST",
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        },
        (res) => {
          res.resume();
          res.on("end", resolve);
        },
      );
      req.on("error", reject);
      req.end(body);
    });
  }
  const ms = performance.now() - t;
  agent.destroy();
  return ms;
}

console.log(`${count} audit events published; ${rounds} rounds per destination kind`);
const lines: string[] = [];
for (const kind of ["WEBHOOK", "SPLUNK_HEC"] as const) {
  const forwarded: number[] = [];
  const bare: number[] = [];
  let batches = 0;
  for (let round = 0; round < rounds; round++) {
    const run = await forwarderRun(kind, round);
    batches = run.sent.length;
    onEvents = undefined;
    received = 0;
    const bareMs = await barePost(run.sent, run.path);
    forwarded.push(rate(count, run.ms));
    bare.push(rate(count, bareMs));
    console.log(
      `  ${kind} round ${round + 1}: forwarder ${Math.round(run.ms)} ms, bare post ${Math.round(bareMs)} ms (${run.sent.length} POSTs)`,
    );
  }
  const f = median(forwarded);
  const b = median(bare);
  lines.push(
    `| ${kind === "WEBHOOK" ? "webhook" : "Splunk HEC"} | ${f.toLocaleString("en-US")} | ${b.toLocaleString("en-US")} | ${(f / b).toFixed(2)} | ${batches} |`,
  );
}
console.log(
  "\n| destination | forwarder events/s | bare post events/s | ratio | POSTs |\n| --- | --- | --- | --- | --- |",
);
for (const line of lines) console.log(line);
server.close();
process.exit(0);
