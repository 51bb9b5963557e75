/**
 * The committing consumer group on the real broker (issue 6, defect 8): a member killed with
 * SIGKILL loses its partitions to the others within the session timeout, a stopped member leaves
 * the group at once after finishing and committing its batch, a batch slower than the session
 * timeout keeps its member, and the committed offsets reach the end of a transactional topic
 * even when its last records are an aborted transaction.
 */
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { after, before, describe, it } from "node:test";
import { Kafka, logLevel } from "kafkajs";
import type { IncomingBatch, KafkaClient } from "@aiaudit/kafka";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix, waitFor } from "@aiaudit/testing";

const { logger } = captureLogger();
let kafka: KafkaClient;
// The adapter's own test may look at the group with kafkajs's admin directly.
const admin = new Kafka({
  clientId: "consumer-group-test",
  brokers: TEST_BROKERS,
  logLevel: logLevel.NOTHING,
}).admin();
const children: ChildProcess[] = [];

before(async () => {
  kafka = testKafka(logger);
  await admin.connect();
});

after(async () => {
  for (const child of children) child.kill("SIGKILL");
  await admin.disconnect();
});

async function newTopic(partitions: number): Promise<string> {
  const topic = `${uniquePrefix("group")}.events.v1`;
  await kafka.ensureTopics([{ name: topic, partitions, compacted: false }]);
  return topic;
}

async function members(groupId: string): Promise<string[]> {
  const { groups } = await admin.describeGroups([groupId]);
  return (groups[0]?.members ?? []).map((m) => m.memberId);
}

/** Starts a member in a child process; resolves with it and the partitions it reported last. */
function spawnMember(topic: string, groupId: string) {
  const fixture = fileURLToPath(new URL("./fixtures/group-member.ts", import.meta.url));
  const child = spawn(process.execPath, [fixture], {
    env: {
      ...process.env,
      MEMBER_BROKERS: TEST_BROKERS.join(","),
      MEMBER_TOPIC: topic,
      MEMBER_GROUP: groupId,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  children.push(child);
  const state = { partitions: [] as number[] };
  createInterface({ input: child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
    state.partitions = (JSON.parse(line) as { partitions: number[] }).partitions;
  });
  return { child, state };
}

describe("consumer group membership", () => {
  it("a member killed with SIGKILL loses its partitions to the other member", async (t) => {
    const topic = await newTopic(4);
    const groupId = `${topic}.failover`;
    const { child, state } = spawnMember(topic, groupId);
    await waitFor("the child to hold all four partitions", () =>
      Promise.resolve(state.partitions.length === 4 || undefined),
    );
    const survivor = await kafka.runConsumer({
      groupId,
      topics: [topic],
      handleBatch: () => Promise.resolve(),
    });
    try {
      await waitFor(
        "the partitions to be shared",
        () =>
          Promise.resolve(
            (survivor.assignment()[topic]?.length === 2 && state.partitions.length === 2) || undefined,
          ),
        60_000,
      );
      const killedAt = Date.now();
      child.kill("SIGKILL");
      await waitFor(
        "the survivor to hold all four partitions",
        () => Promise.resolve(survivor.assignment()[topic]?.length === 4 || undefined),
        90_000,
      );
      t.diagnostic(`partitions moved ${((Date.now() - killedAt) / 1000).toFixed(1)} s after kill -9`);
      assert.deepEqual(survivor.assignment()[topic], [0, 1, 2, 3]);
    } finally {
      await survivor.stop();
    }
  });

  it("stop() finishes the batch in flight, commits it, and leaves the group at once", async () => {
    const topic = await newTopic(1);
    const groupId = `${topic}.stop`;
    const producer = await kafka.transactionalProducer(`${topic}.tx`);
    await producer.transaction((tx) =>
      tx.send(["a", "b", "c"].map((key) => ({ topic, key, value: Buffer.from(key) }))),
    );
    await producer.disconnect();

    let entered!: () => void;
    let release!: () => void;
    const inBatch = new Promise<void>((resolve) => (entered = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const batches: IncomingBatch[] = [];
    const member = await kafka.runConsumer({
      groupId,
      topics: [topic],
      // The broker's smallest session timeout: the batch below outlasts it.
      sessionTimeoutMs: 6000,
      handleBatch: async (batch) => {
        batches.push(batch);
        entered();
        await gate;
      },
    });
    await inBatch;
    const [memberId] = await members(groupId);
    assert.ok(memberId);
    // Heartbeats go on while the sink works: after more than the session timeout, still a member.
    await new Promise((resolve) => setTimeout(resolve, 8000));
    assert.deepEqual(await members(groupId), [memberId]);

    const stopped = member.stop();
    release();
    await stopped;
    assert.equal(member.isRunning(), false);
    assert.deepEqual(await members(groupId), [], "LeaveGroup: no member waits out its session");
    assert.equal(batches.length, 1, "the slow batch was delivered once, not again after an eviction");
    const ends = await member.ends();
    const committed = await member.committed();
    assert.deepEqual(
      committed.map((c) => c.offset),
      ends.map((e) => e.offset),
      "the batch that finished during stop() was committed, transaction marker included",
    );
  });
});

describe("committed offsets", () => {
  it("reach the end of a transactional topic whose last records are an aborted transaction", async () => {
    const topic = await newTopic(1);
    const groupId = `${topic}.ends`;
    const producer = await kafka.transactionalProducer(`${topic}.tx`);
    const seen: string[] = [];
    const member = await kafka.runConsumer({
      groupId,
      topics: [topic],
      handleBatch: async (batch) => {
        seen.push(...batch.records.map((r) => r.key ?? ""));
        await Promise.resolve();
      },
    });
    const caughtUp = async (what: string) => {
      await waitFor(what, async () => {
        // The end is read again each time: right after a commit the partition's end may not yet
        // include the transaction's marker, which the broker writes after the commit returned.
        const [end] = await member.ends();
        const [committed] = await member.committed();
        return committed && end && committed.offset === end.offset ? true : undefined;
      });
    };
    try {
      await producer.transaction((tx) => tx.send([{ topic, key: "kept", value: Buffer.from("1") }]));
      await caughtUp("the committed transaction to be committed past its marker");
      // Ingest failing in the middle of a page: the consumer gets a fetch with nothing but aborted
      // records and their marker, which never reaches the sink. The group still moves past it.
      await assert.rejects(
        producer.transaction(async (tx) => {
          await tx.send([{ topic, key: "aborted", value: Buffer.from("2") }]);
          throw new Error("page failed");
        }),
      );
      await caughtUp("the group's offset to pass the aborted transaction");
      assert.deepEqual(seen, ["kept"]);
    } finally {
      await producer.disconnect();
      await member.stop();
    }
  });
});
