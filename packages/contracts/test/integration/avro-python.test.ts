/**
 * "Our topics without our code" (issue 11): a SIEM engineer reads every Avro topic with nothing of
 * aiaudit's but the schema files, the Python reference decoder (tools/aiaudit_decode.py) and Kafka's
 * own console consumer (deploy/local/kafka/kafka-console-consumer.sh), as docs/consuming-topics.md
 * says. Records of every schema go through a real transactional producer to the real topic layout,
 * beside an aborted transaction and a tombstone; what the decoder prints must be the records written.
 */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { before, describe, it } from "node:test";
import {
  codecs,
  nonAvroTopics,
  topicNames,
  topicSpecs,
  type TenantRecord,
  type TopicNames,
} from "@aiaudit/contracts";
import type { IncomingRecord, KafkaClient, OutgoingRecord } from "@aiaudit/kafka";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";
import { sampleGroups } from "../fixtures/avro-samples.ts";

const ROOT = fileURLToPath(new URL("../../../../", import.meta.url));
const DECODER = `${ROOT}tools/aiaudit_decode.py`;
const CONSOLE_CONSUMER = `${ROOT}deploy/local/kafka/kafka-console-consumer.sh`;
const run = promisify(execFile);

/** One line of the decoder's output. */
interface Decoded {
  key?: string;
  schema: string | null;
  value: unknown;
}

const { logger } = captureLogger();
let kafka: KafkaClient;
let prefix: string;
let topics: TopicNames;
/** Every committed record, as the decoder must print it, by topic. */
const expected = new Map<string, Decoded[]>();
const ABORTED: TenantRecord = { tenant: "aborted", display_name: "never committed", created_at: 1 };

/** JSON with every object's keys sorted: equal records give equal text, whatever their key order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const entries = Object.entries(value).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
}

/** Sorted, so that the order of partitions does not matter. */
const sorted = (lines: Decoded[]) => lines.map(canonical).sort();

async function decode(lines: string[], args: string[] = []): Promise<Decoded[]> {
  const child = run("python3", [DECODER, ...args], { maxBuffer: 64 * 1024 * 1024 });
  child.child.stdin?.end(lines.map((l) => `${l}\n`).join(""));
  const { stdout, stderr } = await child;
  assert.equal(stderr, "");
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Decoded);
}

/** A record as base64 after its key and a tab, what the decoder reads; `null` for a tombstone. */
const asLine = (r: IncomingRecord) => `${r.key ?? ""}\t${r.value ? r.value.toString("base64") : "null"}`;

/** The console consumer wrapper piped into the decoder, as docs/consuming-topics.md shows it. */
async function consolePipe(consumerArgs: string[]): Promise<{ decoded: Decoded[]; stderr: string }> {
  const { stdout, stderr } = await run(
    "bash",
    ["-c", 'set -o pipefail; bash "$0" "$@" | python3 "$DECODER"', CONSOLE_CONSUMER, ...consumerArgs],
    { env: { ...process.env, DECODER }, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 },
  );
  const decoded = stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Decoded);
  return { decoded, stderr };
}

before(async () => {
  kafka = testKafka(logger);
  prefix = uniquePrefix("decode");
  topics = topicNames(prefix);
  await kafka.ensureTopics(topicSpecs(prefix));
  const records: OutgoingRecord[] = [];
  const add = (topic: string, key: string, value: Buffer | null, decoded: Decoded) => {
    records.push({ topic, key, value });
    expected.set(topic, [...(expected.get(topic) ?? []), decoded]);
  };
  for (const group of sampleGroups) {
    for (const sample of group.samples) {
      add(sample.topic(topics), sample.key, sample.value, {
        key: sample.key,
        schema: group.name,
        value: sample.record,
      });
    }
  }
  // A disconnected connection: the compacted topic's tombstone.
  add(topics.connections, "acme/disconnected", null, { key: "acme/disconnected", schema: null, value: null });
  const producer = await kafka.transactionalProducer(`${prefix}.decode-test`);
  try {
    // Aborted first: a reader that showed it would show it among the first records of the partition.
    await assert.rejects(
      producer.transaction(async (tx) => {
        await tx.send([
          { topic: topics.tenants, key: "tenant/aborted", value: codecs.tenant.encode(ABORTED) },
        ]);
        throw new Error("crash before the commit");
      }),
      /crash before the commit/,
    );
    await producer.transaction((tx) => tx.send(records));
  } finally {
    await producer.disconnect();
  }
});

describe("the Python reference decoder on the real topics", () => {
  const avroTopics = () => topicSpecs(prefix).filter((t) => !nonAvroTopics(topics).includes(t.name));

  it("every Avro topic holds records of the samples", () => {
    for (const topic of avroTopics()) assert.ok(expected.get(topic.name)?.length, `${topic.name} is empty`);
    assert.equal(expected.size, avroTopics().length);
  });

  it("decodes every topic, read read_committed, into the records written", async () => {
    const read = await Promise.all(
      avroTopics().map(async (t) => [t.name, await kafka.readTopic(t.name)] as const),
    );
    for (const [topic, records] of read) {
      const decoded = await decode(records.map(asLine));
      assert.deepEqual(sorted(decoded), sorted(expected.get(topic) ?? []), topic);
      assert.ok(!decoded.some((d) => d.key === "tenant/aborted"), "an aborted record was read");
    }
  });

  it("renders timestamp-millis as RFC 3339 on request", async () => {
    const records = await kafka.readTopic(topics.tenants);
    const decoded = await decode(records.map(asLine), ["--timestamps", "rfc3339"]);
    const tenants = sampleGroups
      .filter((g) => g.name === codecs.tenant.name)
      .flatMap((g) => g.samples.map((s) => s.record as TenantRecord));
    assert.equal(tenants.length, 2);
    for (const tenant of tenants) {
      const line = decoded.find((d) => (d.value as { tenant?: string } | null)?.tenant === tenant.tenant);
      assert.equal(
        (line?.value as { created_at: unknown }).created_at,
        new Date(tenant.created_at).toISOString(),
      );
    }
  });
});

describe("Kafka's console consumer piped into the decoder", () => {
  it("reads every topic of the prefix, committed records only, and the decoder prints them all", async () => {
    const all = [...expected.values()].flat();
    const { decoded, stderr } = await consolePipe([
      "--bootstrap-server",
      TEST_BROKERS.join(","),
      "--include",
      `${prefix.replaceAll(".", "\\.")}\\..*`,
      "--isolation-level",
      "read_committed",
      "--from-beginning",
      "--max-messages",
      String(all.length),
      "--timeout-ms",
      "60000",
      "--property",
      "print.key=true",
    ]);
    assert.match(stderr, new RegExp(`Processed a total of ${all.length} messages`));
    assert.deepEqual(sorted(decoded), sorted(all));
  });

  it("the wrapper reads read_committed by default; read_uncommitted shows the aborted transaction", async () => {
    const tenants = expected.get(topics.tenants) ?? [];
    const args = (isolation: string[], count: number) => [
      "--bootstrap-server",
      TEST_BROKERS.join(","),
      "--topic",
      topics.tenants,
      ...isolation,
      "--from-beginning",
      "--max-messages",
      String(count),
      "--timeout-ms",
      "60000",
      "--property",
      "print.key=true",
    ];
    // The aborted record is the partition's first: a reader that showed it would show it here.
    const committed = await consolePipe(args([], tenants.length));
    assert.deepEqual(sorted(committed.decoded), sorted(tenants));

    const everything = await consolePipe(args(["--isolation-level", "read_uncommitted"], tenants.length + 1));
    assert.deepEqual(
      sorted(everything.decoded),
      sorted([...tenants, { key: "tenant/aborted", schema: codecs.tenant.name, value: ABORTED }]),
    );
  });
});
