/**
 * The streams' positions, followed on the compacted cursors topic (read_committed: only cursors
 * whose data was committed with them). The newest record per key wins.
 *
 * Reading "to the end" is not enough to see a cursor: a read_committed consumer stops at the last
 * stable offset, which another producer's open transaction holds back, so a cursor committed
 * after that transaction began stays invisible until it ends — and a restart that took the topic's
 * end for read would publish a page again. So `fresh()` writes a barrier record of its own and
 * waits until the follower has read it: every cursor committed before the barrier (after the
 * caller fenced its predecessors, whose open transactions are thereby aborted) has been read.
 */
import { randomUUID } from "node:crypto";
import { codecs, type StreamCursor } from "@aiaudit/contracts";
import { AiauditError, ErrorCodes, isAiauditError } from "@aiaudit/errors";
import type { KafkaClient, RunningConsumer, TransactionalProducer } from "@aiaudit/kafka";

/** Raw values by key: cursors and the seen-id buckets of time-ordered streams. */
export type CursorRecords = ReadonlyMap<string, Buffer>;

export interface CursorStore {
  start(): Promise<void>;
  /** Every cursor record committed before this call, newest per key. */
  fresh(): Promise<CursorRecords>;
  stop(): Promise<void>;
}

const BARRIER_PREFIX = "_barrier/";
/**
 * How long a barrier may take to be read: beyond Kafka's transaction timeout (60 s in kafkajs),
 * after which a dead producer's open transaction is aborted by the broker.
 */
const BARRIER_TIMEOUT_MS = 90_000;

export function createCursorStore(kafka: KafkaClient, topic: string, groupPrefix: string): CursorStore {
  const instance = randomUUID();
  const records = new Map<string, Buffer>();
  const waiting = new Map<string, () => void>();
  let consumer: RunningConsumer | undefined;
  let producer: Promise<TransactionalProducer> | undefined;
  let barriers = 0;
  /** The previous barrier: one producer holds one transaction at a time. */
  let previous: Promise<unknown> = Promise.resolve();
  /** A barrier queued but not yet written: a caller that comes now is covered by it too. */
  let queued: Promise<CursorRecords> | undefined;

  /** Writes a barrier and resolves once the follower has read it. */
  async function barrier(): Promise<CursorRecords> {
    // The barrier is a tombstone: compaction removes it; nothing reads it but this instance.
    const key = `${BARRIER_PREFIX}${instance}/${++barriers}`;
    const seen = new Promise<void>((resolve) => waiting.set(key, resolve));
    producer ??= kafka.transactionalProducer(`${groupPrefix}.cursors.${instance}`);
    try {
      // A barrier is idempotent (a unique key): a failed write is tried again at once, e.g.
      // while a topic created a moment ago is not yet known to every broker.
      for (let attempt = 1; ; attempt++) {
        try {
          await (await producer).transaction((tx) => tx.send([{ topic, key, value: null }]));
          break;
        } catch (err) {
          if (attempt >= 3 || !isAiauditError(err, "KAFKA_TRANSACTION_FAILED")) throw err;
          await new Promise((resolve) => setTimeout(resolve, 500 * attempt));
        }
      }
    } catch (err) {
      waiting.delete(key);
      producer = undefined;
      throw err;
    }
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        waiting.delete(key);
        reject(
          new AiauditError(
            ErrorCodes.KAFKA_UNAVAILABLE,
            `the cursors topic was not read up to a barrier within ${BARRIER_TIMEOUT_MS / 1000} s`,
            { retryable: true },
          ),
        );
      }, BARRIER_TIMEOUT_MS);
    });
    try {
      await Promise.race([seen, late]);
    } finally {
      clearTimeout(timer);
    }
    return new Map(records);
  }

  return {
    async start() {
      consumer = await kafka.followTopic({
        // A group of its own: this instance reads every partition of the topic.
        groupId: `${groupPrefix}.cursors.${instance}`,
        topic,
        handleBatch(batch) {
          for (const record of batch.records) {
            if (!record.key) continue;
            if (record.key.startsWith(BARRIER_PREFIX)) {
              waiting.get(record.key)?.();
              waiting.delete(record.key);
            } else if (record.value === null) records.delete(record.key);
            else records.set(record.key, record.value);
          }
        },
      });
    },
    fresh() {
      // The streams of a connection start together: one barrier, written after all of them
      // asked (each after fencing its predecessor), serves them all.
      if (queued) return queued;
      const next = previous
        .catch(() => undefined)
        .then(() => {
          queued = undefined;
          return barrier();
        });
      queued = next;
      previous = next;
      return next;
    },
    async stop() {
      await consumer?.stop();
      await producer?.then((p) => p.disconnect()).catch(() => undefined);
    },
  };
}

export function decodeCursor(records: CursorRecords, key: string): StreamCursor | undefined {
  const value = records.get(key);
  return value ? codecs.cursor.decode(value) : undefined;
}
