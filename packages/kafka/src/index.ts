/**
 * The only module that imports kafkajs (docs/design.md §10: kafkajs is in maintenance mode, so a move
 * to another client stays here). It offers exactly the two shapes the pipeline needs:
 *
 * - a transactional producer: records of one unit of work (a page of events and its cursor, or a
 *   whole snapshot) are committed together or not at all; a second producer with the same
 *   transactionalId fences the first (a zombie after a restart cannot write);
 * - a read_committed consumer that hands whole batches to a sink and commits the offsets only
 *   after the sink acknowledged, so a crash re-delivers rather than loses.
 */
import {
  Kafka,
  Partitioners,
  logLevel as KafkaLogLevel,
  type Admin,
  type Batch,
  type Consumer,
  type IHeaders,
  type LogEntry,
  type Producer,
} from "kafkajs";
import { randomUUID } from "node:crypto";
import { AiauditError, ErrorCodes, describeError } from "@aiaudit/errors";
import type { Logger } from "@aiaudit/logger";

export interface KafkaSettings {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Time to establish a TCP connection to a broker, ms. @default 3000 */
  connectionTimeoutMs?: number;
  /** Retries of a failed request or connection before giving up. @default 5 */
  retries?: number;
}

export interface TopicSpec {
  name: string;
  partitions: number;
  compacted: boolean;
}

export interface OutgoingRecord {
  topic: string;
  key: string;
  /** null writes a tombstone: on a compacted topic it deletes the key. */
  value: Buffer | null;
  headers?: Record<string, string>;
}

export interface IncomingRecord {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  timestamp: string;
}

export interface IncomingBatch {
  topic: string;
  partition: number;
  firstOffset: string;
  lastOffset: string;
  records: IncomingRecord[];
}

export interface TransactionWriter {
  send(records: OutgoingRecord[]): Promise<void>;
}

export interface TransactionalProducer {
  /**
   * Runs `work` inside one Kafka transaction. Every record it sends becomes visible to
   * read_committed consumers together, when `work` resolves; if it throws, the transaction is
   * aborted and the error rethrown.
   */
  transaction<T>(work: (tx: TransactionWriter) => Promise<T>): Promise<T>;
  disconnect(): Promise<void>;
}

export interface ConsumerSettings {
  groupId: string;
  topics: string[];
  /** Where a new group starts. @default true (the whole topic) */
  fromBeginning?: boolean;
  /** Called per batch; offsets are committed only after it resolves. A throw re-delivers the batch. */
  handleBatch(batch: IncomingBatch): Promise<void>;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

export interface KafkaClient {
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  runConsumer(settings: ConsumerSettings): Promise<RunningConsumer>;
  /** Fails with KAFKA_UNAVAILABLE when no broker answers. */
  ping(): Promise<void>;
  /**
   * Reads a topic from the beginning with a throwaway consumer group until every partition is
   * read to its end (or nothing new came for `idleMs`): for operators' tools and tests.
   */
  readTopic(
    topic: string,
    options?: { readUncommitted?: boolean; idleMs?: number },
  ): Promise<IncomingRecord[]>;
}

function unavailable(brokers: string[], cause: unknown): AiauditError {
  return new AiauditError(
    ErrorCodes.KAFKA_UNAVAILABLE,
    `Kafka is not reachable at ${brokers.join(",")} (KAFKA_BROKERS): ${describeError(cause)}`,
    { retryable: true, cause },
  );
}

const FENCED_TYPES = new Set([
  "INVALID_PRODUCER_EPOCH",
  "PRODUCER_FENCED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
]);

function isFenced(err: unknown): boolean {
  return (
    typeof err === "object" && err !== null && FENCED_TYPES.has(String((err as { type?: unknown }).type))
  );
}

/** A fenced producer is a zombie: say so with a stable code, never retry. Other errors pass through. */
function fencedOr(err: unknown, transactionalId: string): unknown {
  if (!isFenced(err)) return err;
  return new AiauditError(
    ErrorCodes.KAFKA_FENCED,
    `producer ${transactionalId} was fenced: another instance with the same transactionalId is running`,
    { cause: err },
  );
}

function incomingRecords(batch: Batch): IncomingRecord[] {
  return batch.messages.map((m) => ({
    topic: batch.topic,
    partition: batch.partition,
    offset: m.offset,
    key: m.key ? m.key.toString("utf8") : null,
    value: m.value,
    headers: toHeaders(m.headers),
    timestamp: m.timestamp,
  }));
}

function toHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[name] = Array.isArray(value) ? value.map(String).join(",") : String(value);
  }
  return out;
}

export function createKafka(settings: KafkaSettings): KafkaClient {
  const log = settings.logger.child({ component: "kafka" });
  const kafka = new Kafka({
    clientId: settings.clientId,
    brokers: settings.brokers,
    connectionTimeout: settings.connectionTimeoutMs ?? 3000,
    retry: { retries: settings.retries ?? 5, initialRetryTime: 200 },
    logLevel: KafkaLogLevel.WARN,
    logCreator:
      () =>
      ({ level, log: entry }: LogEntry) => {
        // kafkajs logs at ERROR what it then retries itself (a coordinator still loading, a
        // concurrent transaction); failures that matter reach us as thrown errors. ERROR in our
        // logs means data loss or operator action, so its lines go one level down.
        const { message, ...fields } = entry;
        if (level <= KafkaLogLevel.ERROR) log.warn({ kafkajs: fields }, message);
        else log.info({ kafkajs: fields }, message);
      },
  });

  async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    const admin = kafka.admin();
    try {
      await admin.connect();
    } catch (cause) {
      throw unavailable(settings.brokers, cause);
    }
    try {
      return await work(admin);
    } finally {
      await admin.disconnect();
    }
  }

  return {
    ping: () =>
      withAdmin(async (admin) => {
        await admin.describeCluster();
      }),

    ensureTopics: (specs) =>
      withAdmin(async (admin) => {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((spec) => !existing.has(spec.name));
        if (missing.length === 0) return;
        await admin.createTopics({
          waitForLeaders: true,
          topics: missing.map((spec) => ({
            topic: spec.name,
            numPartitions: spec.partitions,
            configEntries: spec.compacted ? [{ name: "cleanup.policy", value: "compact" }] : [],
          })),
        });
        log.info({ topics: missing.map((s) => s.name) }, "topics created");
      }),

    async transactionalProducer(transactionalId) {
      const producer: Producer = kafka.producer({
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        // The coordinator answers CONCURRENT_TRANSACTIONS while it still writes the previous
        // transaction's markers (a few ms). kafkajs's default first retry waits ~300 ms; the Java
        // client retries this after 20 ms. Short first waits, same overall budget.
        retry: { initialRetryTime: 20, maxRetryTime: 2000, retries: 10 },
        createPartitioner: Partitioners.DefaultPartitioner,
      });
      try {
        await producer.connect();
        // kafkajs registers the transactionalId (InitProducerId) lazily, at the first
        // transaction. Do it now with an empty transaction, so a new instance fences its
        // predecessor at start-up, before the predecessor can write anything more.
        await (await producer.transaction()).abort();
      } catch (cause) {
        throw unavailable(settings.brokers, cause);
      }
      return {
        async transaction(work) {
          const tx = await producer.transaction();
          let result;
          try {
            result = await work({
              async send(records) {
                if (records.length === 0) return;
                const byTopic = new Map<string, OutgoingRecord[]>();
                for (const r of records) byTopic.set(r.topic, [...(byTopic.get(r.topic) ?? []), r]);
                await tx.sendBatch({
                  topicMessages: [...byTopic].map(([topic, rs]) => ({
                    topic,
                    messages: rs.map((r) => ({ key: r.key, value: r.value, headers: r.headers ?? {} })),
                  })),
                });
              },
            });
          } catch (err) {
            await tx.abort().catch((abortErr: unknown) => {
              log.warn({ err: abortErr, transactionalId }, "transaction abort failed");
            });
            throw fencedOr(err, transactionalId);
          }
          try {
            await tx.commit();
          } catch (cause) {
            if (isFenced(cause)) throw fencedOr(cause, transactionalId);
            throw new AiauditError(
              ErrorCodes.KAFKA_TRANSACTION_FAILED,
              `commit of transaction ${transactionalId} failed: ${describeError(cause)}`,
              { retryable: true, cause },
            );
          }
          return result;
        },
        disconnect: () => producer.disconnect(),
      };
    },

    async readTopic(topic, options = {}) {
      const groupId = `aiaudit-read-${topic}-${randomUUID()}`;
      const ends = await withAdmin((admin) => admin.fetchTopicOffsets(topic));
      const remaining = new Map(ends.map((p) => [p.partition, BigInt(p.high)]));
      const records: IncomingRecord[] = [];
      const consumer = kafka.consumer({ groupId, readUncommitted: options.readUncommitted ?? false });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [topic], fromBeginning: true });
        await new Promise<void>((resolve, reject) => {
          let idle: NodeJS.Timeout | undefined;
          const settle = () => {
            clearTimeout(idle);
            resolve();
          };
          const arm = () => {
            clearTimeout(idle);
            idle = setTimeout(settle, options.idleMs ?? 3000);
          };
          const caughtUp = () => [...remaining.values()].every((high) => high <= 0n);
          for (const [partition, high] of remaining) if (high === 0n) remaining.delete(partition);
          if (remaining.size === 0) return settle();
          arm();
          consumer
            .run({
              eachBatch: async ({ batch }) => {
                records.push(...incomingRecords(batch));
                const high = remaining.get(batch.partition);
                if (high !== undefined && BigInt(batch.lastOffset()) + 1n >= high)
                  remaining.set(batch.partition, 0n);
                if (caughtUp()) settle();
                else arm();
                await Promise.resolve();
              },
            })
            .catch(reject);
        });
      } finally {
        await consumer.disconnect();
        await withAdmin((admin) => admin.deleteGroups([groupId])).catch(() => undefined);
      }
      return records.sort((a, b) => a.partition - b.partition || Number(BigInt(a.offset) - BigInt(b.offset)));
    },

    async runConsumer(consumerSettings) {
      const consumer: Consumer = kafka.consumer({
        groupId: consumerSettings.groupId,
        readUncommitted: false,
        // A sink failure is retried from the last committed offset after a pause, never skipped.
        retry: { retries: 5, restartOnFailure: () => Promise.resolve(true) },
      });
      try {
        await consumer.connect();
        await consumer.subscribe({
          topics: consumerSettings.topics,
          fromBeginning: consumerSettings.fromBeginning ?? true,
        });
      } catch (cause) {
        throw unavailable(settings.brokers, cause);
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          if (!payload.isRunning() || payload.isStale()) return;
          const records = incomingRecords(batch);
          const lastOffset = batch.lastOffset();
          // kafkajs calls eachBatch only for batches with records (empty ones it resolves itself).
          await consumerSettings.handleBatch({
            topic: batch.topic,
            partition: batch.partition,
            firstOffset: batch.firstOffset() ?? lastOffset,
            lastOffset,
            records,
          });
          // Only now move the fetch position (kafkajs refetches from the last resolved offset),
          // then commit past the batch, control records (transaction markers) included.
          payload.resolveOffset(lastOffset);
          await consumer.commitOffsets([
            { topic: batch.topic, partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() },
          ]);
          await payload.heartbeat();
        },
      });
      return { stop: () => consumer.disconnect() };
    },
  };
}
