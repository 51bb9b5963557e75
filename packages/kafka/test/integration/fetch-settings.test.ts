/**
 * `runConsumer`'s fetch settings (issue 9) reach the broker: with a backlog of 3,000 records of
 * ~1 KB on one partition, kafkajs's default of 1 MiB a partition hands the sink batches of at most
 * ~1,000 records; with 8 MiB a partition the whole backlog comes as one batch. Real broker.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import type { ConsumerSettings, IncomingBatch, KafkaClient, OutgoingRecord } from "@aiaudit/kafka";
import { captureLogger, testKafka, uniquePrefix, waitFor } from "@aiaudit/testing";

const { logger } = captureLogger();
const RECORDS = 3000;
let kafka: KafkaClient;
let topic: string;

before(async () => {
  kafka = testKafka(logger);
  topic = `${uniquePrefix("fetch")}.events.v1`;
  await kafka.ensureTopics([{ name: topic, partitions: 1, compacted: false }]);
  const producer = await kafka.transactionalProducer(`${topic}.tx`);
  const value = Buffer.alloc(1000, 120);
  const records: OutgoingRecord[] = Array.from({ length: RECORDS }, (_, i) => ({
    topic,
    key: `k${i}`,
    value,
  }));
  try {
    // A record batch must stay under the broker's message.max.bytes (1 MiB): 500 records a transaction.
    for (let i = 0; i < RECORDS; i += 500) {
      await producer.transaction((tx) => tx.send(records.slice(i, i + 500)));
    }
  } finally {
    await producer.disconnect();
  }
});

/** The sizes of the batches a new group gets until it has read the whole backlog. */
async function batchSizes(fetch: Partial<ConsumerSettings>): Promise<number[]> {
  const sizes: number[] = [];
  const member = await kafka.runConsumer({
    ...fetch,
    groupId: `${topic}.${uniquePrefix("group")}`,
    topics: [topic],
    handleBatch: (batch: IncomingBatch) => {
      sizes.push(batch.records.length);
      return Promise.resolve();
    },
  });
  try {
    await waitFor("the whole backlog", () =>
      Promise.resolve(sizes.reduce((a, b) => a + b, 0) >= RECORDS || undefined),
    );
  } finally {
    await member.stop();
  }
  return sizes;
}

describe("runConsumer fetch settings", () => {
  it("default: batches of at most ~1 MiB of a partition", async () => {
    const sizes = await batchSizes({});
    assert.ok(sizes.length >= 3, `batches ${sizes.join(",")}`);
    assert.ok(Math.max(...sizes) <= 1100, `batches ${sizes.join(",")}`);
  });

  it("maxBytesPerPartition 8 MiB: the whole backlog in one batch", async () => {
    const sizes = await batchSizes({
      minBytes: 1024 * 1024,
      maxWaitTimeInMs: 1000,
      maxBytesPerPartition: 8 * 1024 * 1024,
      maxBytes: 16 * 1024 * 1024,
    });
    assert.deepEqual(sizes, [RECORDS]);
  });
});
