/**
 * Exactly once from topic to topic (`ConsumerSettings.transactionalIdPrefix`) on the real broker:
 * a transform killed with SIGKILL in the middle of a run, then another member of its group taking
 * over, leaves every input record in the output topic exactly once for a read_committed reader;
 * the records of the transaction the kill cut short are never seen.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import type { OutgoingRecord } from "@aiaudit/kafka";
import {
  captureLogger,
  startServiceProcess,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";

const { logger } = captureLogger();
const kafka = testKafka(logger);
const MEMBER = fileURLToPath(new URL("./fixtures/transform-member.ts", import.meta.url));
const COUNT = 3000;

describe("a transactional transform", () => {
  it("killed with SIGKILL mid-run and taken over, writes every record exactly once", async () => {
    const prefix = uniquePrefix("transform");
    const input = `${prefix}.in.v1`;
    const output = `${prefix}.out.v1`;
    const group = `${prefix}.group`;
    await kafka.ensureTopics([
      { name: input, partitions: 3, compacted: false },
      { name: output, partitions: 3, compacted: false },
    ]);
    const records: OutgoingRecord[] = Array.from({ length: COUNT }, (_, i) => ({
      topic: input,
      key: `k-${i}`,
      value: Buffer.from(`value ${i} `.padEnd(200, "x")),
    }));
    const producer = await kafka.transactionalProducer(`${prefix}.writer`);
    for (let i = 0; i < COUNT; i += 500)
      await producer.transaction((tx) => tx.send(records.slice(i, i + 500)));
    await producer.disconnect();

    const env = {
      MEMBER_BROKERS: TEST_BROKERS.join(","),
      MEMBER_TOPIC: input,
      MEMBER_OUTPUT: output,
      MEMBER_GROUP: group,
    };
    const first = startServiceProcess("transform #1", MEMBER, { env: { ...process.env, ...env } });
    // Kill it once it is well into the run (many transactions committed, more to come).
    await waitFor("the first member's 4th batch", () =>
      Promise.resolve(first.output().includes('{"batches":4}') ? true : undefined),
    ).catch(async (err: unknown) => {
      await first.stop("SIGKILL");
      throw new Error(`${String(err)}; the member said:\n${first.output()}`);
    });
    await first.stop("SIGKILL");
    const partial = await kafka.readTopic(output, { idleMs: 500 });
    assert.ok(
      partial.length > 0 && partial.length < COUNT,
      `the kill came mid-run: ${partial.length} written`,
    );

    const second = startServiceProcess("transform #2", MEMBER, { env: { ...process.env, ...env } });
    try {
      const written = await waitFor(
        "every record in the output",
        async () => {
          const read = await kafka.readTopic(output, { idleMs: 500 });
          return read.length >= COUNT ? read : undefined;
        },
        90_000,
        500,
      );
      // A little longer: a duplicate would show up now.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const all = await kafka.readTopic(output, { idleMs: 500 });
      const keys = all.map((r) => r.key ?? "");
      assert.equal(new Set(keys).size, COUNT, "every input key is in the output");
      assert.equal(all.length, COUNT, `each once: ${all.length} records for ${COUNT} keys`);
      assert.ok(written.length >= COUNT);
    } finally {
      await second.stop("SIGKILL");
    }
  });
});
