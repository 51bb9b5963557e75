/**
 * Proves against the real broker that the kafkajs adapter gives what the pipeline relies on:
 * idempotent transactional writes, aborted transactions invisible to read_committed readers,
 * commits after the sink acknowledged, fencing of a zombie producer, and a clear error when no
 * broker answers. See docs/kafka-version.md.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { createKafka, type IncomingBatch, type KafkaClient } from "@aiaudit/kafka";
import { captureLogger, testKafka, uniquePrefix, waitFor } from "@aiaudit/testing";

const { logger } = captureLogger();
let kafka: KafkaClient;
let topic: string;
const rec = (key: string) => ({ topic, key, value: Buffer.from(key) });

before(async () => {
  kafka = testKafka(logger);
  topic = `${uniquePrefix("kafka")}.events.v1`;
  await kafka.ensureTopics([{ name: topic, partitions: 3, compacted: false }]);
});

describe("kafka adapter on the real broker", () => {
  it("ensureTopics is idempotent", async () => {
    await kafka.ensureTopics([{ name: topic, partitions: 3, compacted: false }]);
  });

  it("read_committed sees committed transactions and never aborted ones", async () => {
    const producer = await kafka.transactionalProducer(`${topic}.tx`);
    await producer.transaction((tx) => tx.send([rec("c1"), rec("c2")]));
    await assert.rejects(
      producer.transaction(async (tx) => {
        await tx.send([rec("aborted1"), rec("aborted2")]);
        throw new Error("crash in the middle of a page");
      }),
      /crash in the middle/,
    );
    await producer.transaction((tx) => tx.send([rec("c3")]));
    await producer.disconnect();

    const committed = (await kafka.readTopic(topic)).map((r) => r.key).sort();
    assert.deepEqual(committed, ["c1", "c2", "c3"]);
    const everything = (await kafka.readTopic(topic, { readUncommitted: true })).map((r) => r.key).sort();
    assert.deepEqual(everything, ["aborted1", "aborted2", "c1", "c2", "c3"]);
  });

  it("a second producer with the same transactionalId fences the first", async () => {
    const id = `${topic}.fenced`;
    const zombie = await kafka.transactionalProducer(id);
    await zombie.transaction((tx) => tx.send([rec("z1")]));
    const successor = await kafka.transactionalProducer(id);
    await assert.rejects(
      zombie.transaction((tx) => tx.send([rec("zombie-write")])),
      { code: "KAFKA_FENCED" },
    );
    await successor.transaction((tx) => tx.send([rec("s1")]));
    await successor.disconnect();
    await zombie.disconnect().catch(() => undefined);
    const keys = (await kafka.readTopic(topic)).map((r) => r.key);
    assert.ok(keys.includes("s1"));
    assert.ok(!keys.includes("zombie-write"));
  });

  it("a consumer group commits only after the sink acknowledged: a failed batch is re-delivered", async () => {
    const groupId = `${topic}.group`;
    const seen: string[] = [];
    let failOnce = true;
    const handleBatch = async (batch: IncomingBatch) => {
      if (failOnce && batch.records.some((r) => r.key === "c2")) {
        failOnce = false;
        throw new Error("sink down");
      }
      seen.push(...batch.records.map((r) => r.key ?? ""));
      await Promise.resolve();
    };
    const consumer = await kafka.runConsumer({ groupId, topics: [topic], handleBatch });
    await waitFor(
      "all committed records",
      () => Promise.resolve(["c1", "c2", "c3", "s1"].every((k) => seen.includes(k)) || undefined),
      60_000,
    );
    await consumer.stop();
    // Each committed record exactly once: the failed batch was re-delivered, not skipped or doubled.
    assert.deepEqual([...seen].sort(), ["c1", "c2", "c3", "s1", "z1"]);

    // A restarted group member resumes from the committed offsets: nothing new, nothing again.
    const again: string[] = [];
    const producer = await kafka.transactionalProducer(`${topic}.tx2`);
    await producer.transaction((tx) => tx.send([rec("after-restart")]));
    await producer.disconnect();
    const second = await kafka.runConsumer({
      groupId,
      topics: [topic],
      handleBatch: async (batch) => {
        again.push(...batch.records.map((r) => r.key ?? ""));
        await Promise.resolve();
      },
    });
    await waitFor(
      "the record written after the restart",
      () => Promise.resolve(again.includes("after-restart") || undefined),
      60_000,
    );
    await second.stop();
    assert.deepEqual(again, ["after-restart"]);
  });
});

describe("kafka adapter without a broker", () => {
  it("fails fast with a clear error naming KAFKA_BROKERS", async () => {
    const started = Date.now();
    const offline = createKafka({
      brokers: ["127.0.0.1:1"],
      clientId: "t",
      logger,
      retries: 1,
      connectionTimeoutMs: 500,
    });
    await assert.rejects(offline.ping(), (err: Error & { code?: string }) => {
      assert.equal(err.code, "KAFKA_UNAVAILABLE");
      assert.match(err.message, /Kafka is not reachable at 127\.0\.0\.1:1 \(KAFKA_BROKERS\)/);
      return true;
    });
    assert.ok(Date.now() - started < 20_000);
  });
});

after(() => undefined);
