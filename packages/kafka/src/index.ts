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
  /** Commits a consumer group's offsets in this transaction: with its records, or not at all. */
  commitOffsets(groupId: string, offsets: PartitionOffset[]): Promise<void>;
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

/** How a consumer group tells a dead member from a live one; `runConsumer` and `followTopic` alike. */
export interface GroupTimings {
  /**
   * A member that stops heartbeating (kill -9, a frozen host, a cut network) is evicted after this
   * long, ms, and its partitions move to the other members. The trade-off: lower moves partitions
   * sooner after a crash, but a live member whose heartbeats stall this long (an event loop blocked
   * by a long synchronous task, a network blip) is evicted too and costs the group a rebalance
   * and a re-delivered batch. Heartbeats go on during a batch, so a slow ClickHouse insert does not
   * count. The broker accepts 6 s to 30 min (group.min/max.session.timeout.ms).
   * @default 10000 (kafkajs's and Kafka's classic default is 30000)
   */
  sessionTimeoutMs?: number;
  /** How often a member heartbeats, ms: well under the session timeout. @default 1000 */
  heartbeatIntervalMs?: number;
  /**
   * How long a rebalance waits for every member to rejoin, ms. A member inside a batch rejoins when
   * the batch is done, so this bounds how long one slow batch may hold up the whole group; a member
   * that takes longer is dropped from the group and its batch is re-delivered.
   * @default 30000
   */
  rebalanceTimeoutMs?: number;
}

/**
 * How much a committing consumer gathers per fetch, so a sink sees large batches rather than a
 * trickle (ClickHouse wants few large inserts). Each fetch hands the sink one batch per partition.
 * kafkajs's `minBytes`, `maxWaitTimeInMs`, `maxBytesPerPartition` and `maxBytes`, Kafka's
 * `fetch.min.bytes`, `fetch.max.wait.ms`, `max.partition.fetch.bytes` and `fetch.max.bytes`:
 * https://kafka.js.org/docs/consuming#options
 */
export interface FetchSettings {
  /**
   * The broker holds a fetch until this many bytes are ready (or `maxWaitTimeInMs` passed), so a
   * busy topic gives few large batches instead of many small ones. @default 1
   */
  minBytes?: number;
  /**
   * Longest the broker holds a fetch, ms. An idle member heartbeats between fetches, so this also
   * bounds how long it takes to hear of a rebalance: keep it well under the session timeout.
   * @default 500
   */
  maxWaitTimeInMs?: number;
  /**
   * Most bytes one partition contributes to a fetch: the upper bound of one batch (a record batch
   * larger than this still comes whole). @default 1048576 (1 MiB)
   */
  maxBytesPerPartition?: number;
  /**
   * Most bytes of a fetch over all partitions: what the member holds in memory at once. The broker
   * caps it at its `fetch.max.bytes` (55 MiB by default). @default 10485760 (10 MiB)
   */
  maxBytes?: number;
}

export interface ConsumerSettings extends GroupTimings, FetchSettings {
  groupId: string;
  topics: string[];
  /** Where a new group starts. @default true (the whole topic) */
  fromBeginning?: boolean;
  /**
   * Called per batch; offsets are committed only after it resolves. A throw re-delivers the batch.
   * While it runs the member keeps heartbeating, so a slow batch is not mistaken for a dead member.
   * With `transactionalIdPrefix`, the records it returns are published in one transaction with
   * the batch's offsets.
   */
  // eslint-disable-next-line @typescript-eslint/no-invalid-void-type -- a sink returns nothing, a transform its records
  handleBatch(batch: IncomingBatch): Promise<void | OutgoingRecord[]>;
  /**
   * Exactly once from topic to topic: the records `handleBatch` returns and the batch's offsets are
   * committed in one Kafka transaction, by a producer per input partition,
   * `<prefix>.<topic>.<partition>`. The member that is given a partition next fences the previous
   * owner's producer, so a member that lost its partition (or hangs) cannot commit output for it
   * any more; a batch whose transaction failed is read again, and its records were never visible
   * to read_committed consumers.
   */
  transactionalIdPrefix?: string;
  /**
   * Called after every (re)join of the group, before the batches of the new assignment: a
   * partition given (back) to this member may hold records another member inserted but did not
   * commit.
   */
  onAssignment?(assignment: Record<string, number[]>): void;
}

/** A topic followed by a consumer group that never commits: see `KafkaClient.followTopic`. */
export interface FollowSettings extends GroupTimings {
  groupId: string;
  topic: string;
  /**
   * The partitions this member holds, after every (re)balance and before their records are
   * delivered again from the beginning.
   */
  onAssignment?(partitions: number[]): void;
  handleBatch(batch: IncomingBatch): Promise<void> | void;
}

export interface RunningConsumer {
  stop(): Promise<void>;
}

/** Offset of one partition: the next offset to read (an end) or to resume from (a commit). */
export interface PartitionOffset {
  topic: string;
  partition: number;
  offset: bigint;
}

/** The end of one partition: `offset` is its high watermark, `earliest` the first offset still kept. */
export interface PartitionEnd extends PartitionOffset {
  earliest: bigint;
}

/** A member of a committing consumer group (`KafkaClient.runConsumer`). */
export interface GroupConsumer extends RunningConsumer {
  /**
   * Leaves the group (LeaveGroup, so the others take over its partitions at once rather than
   * after the session timeout) once the batch in flight is done: a batch the sink finished is
   * committed, a batch not yet started is abandoned uncommitted and re-delivered to the next owner.
   */
  stop(): Promise<void>;
  /** True while the member is in the group: from its first join until stop() or a crash. */
  isRunning(): boolean;
  /** The partitions this member holds, by topic; empty before the first join. */
  assignment(): Record<string, number[]>;
  /** The end of every partition of the subscribed topics, now. */
  ends(): Promise<PartitionEnd[]>;
  /** The group's committed offsets for the subscribed topics; -1 where nothing was committed. */
  committed(): Promise<PartitionOffset[]>;
}

export interface KafkaClient {
  ensureTopics(specs: TopicSpec[]): Promise<void>;
  transactionalProducer(transactionalId: string): Promise<TransactionalProducer>;
  runConsumer(settings: ConsumerSettings): Promise<GroupConsumer>;
  /**
   * Follows a (compacted) topic as a member of `groupId`: the members share its partitions by
   * Kafka's group protocol, every partition a member is given is read from its beginning (the
   * group never commits), and a member that dies loses its partitions to the others within the
   * session timeout. For state that is rebuilt by reading the whole topic: connections, cursors.
   */
  followTopic(settings: FollowSettings): Promise<RunningConsumer>;
  /** Fails with KAFKA_UNAVAILABLE when no broker answers. */
  ping(): Promise<void>;
  /**
   * Records of `topics` a consumer group has yet to commit: per partition, its end minus the
   * group's committed offset (the earliest offset still kept when it committed none).
   */
  groupLag(groupId: string, topics: string[]): Promise<bigint>;
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

/**
 * Runs `call` again while kafkajs says its failure is retriable (a partition whose leader is not
 * known yet, just after a topic was created), for up to `timeoutMs`.
 */
async function whileRetriable<T>(call: () => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 50; ; wait = Math.min(2 * wait, 1000)) {
    try {
      return await call();
    } catch (err) {
      if ((err as { retriable?: unknown }).retriable !== true || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/** An error kafkajs raised (its errors are named KafkaJS…). */
function isKafkaError(err: unknown): boolean {
  return err instanceof Error && err.name.startsWith("KafkaJS");
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

/** A kafkajs batch as the sinks see it. */
function incomingBatch(batch: Batch): IncomingBatch {
  const lastOffset = batch.lastOffset();
  return {
    topic: batch.topic,
    partition: batch.partition,
    firstOffset: batch.firstOffset() ?? lastOffset,
    lastOffset,
    records: incomingRecords(batch),
  };
}

/** A member's assignment from a GROUP_JOIN event, partitions in order. */
function sortedAssignment(memberAssignment: Record<string, number[] | undefined>): Record<string, number[]> {
  return Object.fromEntries(
    Object.entries(memberAssignment).map(([topic, ps]) => [topic, [...(ps ?? [])].sort((a, b) => a - b)]),
  );
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

  /**
   * A consumer-group member with the group timings (docs on `GroupTimings`) and the fetch sizes
   * (docs on `FetchSettings`; kafkajs's defaults where unset).
   */
  function groupMember(
    groupId: string,
    timings: GroupTimings,
    retries: number,
    fetch: FetchSettings = {},
  ): Consumer {
    return kafka.consumer({
      groupId,
      readUncommitted: false,
      sessionTimeout: timings.sessionTimeoutMs ?? 10_000,
      heartbeatInterval: timings.heartbeatIntervalMs ?? 1000,
      rebalanceTimeout: timings.rebalanceTimeoutMs ?? 30_000,
      // kafkajs heartbeats between fetches: an idle member long-polls for at most this long, so
      // it heartbeats (and hears of a rebalance) about once a second rather than every 5 s.
      maxWaitTimeInMs: fetch.maxWaitTimeInMs ?? 500,
      ...(fetch.minBytes === undefined ? {} : { minBytes: fetch.minBytes }),
      ...(fetch.maxBytesPerPartition === undefined
        ? {}
        : { maxBytesPerPartition: fetch.maxBytesPerPartition }),
      ...(fetch.maxBytes === undefined ? {} : { maxBytes: fetch.maxBytes }),
      // A failure is retried from the last committed offset (or the beginning) after a pause.
      retry: { retries, restartOnFailure: () => Promise.resolve(true) },
    });
  }

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

  /** The end of every partition of `topics`, now. */
  const topicEnds = (topics: string[]): Promise<PartitionEnd[]> =>
    withAdmin(async (admin) =>
      (
        await Promise.all(
          topics.map(async (topic) => ({ topic, ends: await admin.fetchTopicOffsets(topic) })),
        )
      ).flatMap(({ topic, ends }) =>
        ends.map((p) => ({ topic, partition: p.partition, offset: BigInt(p.high), earliest: BigInt(p.low) })),
      ),
    );

  /** A group's committed offsets for `topics`; -1 where nothing was committed. */
  const groupCommitted = (groupId: string, topics: string[]): Promise<PartitionOffset[]> =>
    withAdmin(async (admin) =>
      (await admin.fetchOffsets({ groupId, topics })).flatMap(({ topic, partitions }) =>
        partitions.map((p) => ({ topic, partition: p.partition, offset: BigInt(p.offset) })),
      ),
    );

  const client: KafkaClient = {
    async groupLag(groupId, topics) {
      const [ends, committed] = await Promise.all([topicEnds(topics), groupCommitted(groupId, topics)]);
      const at = new Map(committed.map((c) => [`${c.topic}/${c.partition}`, c.offset]));
      let lag = 0n;
      for (const end of ends) {
        const from = at.get(`${end.topic}/${end.partition}`) ?? -1n;
        const start = from < end.earliest ? end.earliest : from;
        if (end.offset > start) lag += end.offset - start;
      }
      return lag;
    },

    ping: () =>
      withAdmin(async (admin) => {
        await admin.describeCluster();
      }),

    ensureTopics: (specs) =>
      withAdmin(async (admin) => {
        const existing = new Set(await admin.listTopics());
        const missing = specs.filter((spec) => !existing.has(spec.name));
        if (missing.length === 0) return;
        await whileRetriable(() =>
          admin.createTopics({
            waitForLeaders: true,
            topics: missing.map((spec) => ({
              topic: spec.name,
              numPartitions: spec.partitions,
              configEntries: spec.compacted ? [{ name: "cleanup.policy", value: "compact" }] : [],
            })),
          }),
        );
        // Leaders are elected, but a broker may not know the topic yet for a few ms.
        for (const spec of missing) await whileRetriable(() => admin.fetchTopicOffsets(spec.name));
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
              async commitOffsets(groupId, offsets) {
                const byTopic = new Map<string, { partition: number; offset: string }[]>();
                for (const o of offsets) {
                  byTopic.set(o.topic, [
                    ...(byTopic.get(o.topic) ?? []),
                    { partition: o.partition, offset: o.offset.toString() },
                  ]);
                }
                await tx.sendOffsets({
                  consumerGroupId: groupId,
                  topics: [...byTopic].map(([topic, partitions]) => ({ topic, partitions })),
                });
              },
            });
          } catch (err) {
            await tx.abort().catch((abortErr: unknown) => {
              log.warn({ err: abortErr, transactionalId }, "transaction abort failed");
            });
            if (isFenced(err) || !isKafkaError(err)) throw fencedOr(err, transactionalId);
            throw new AiauditError(
              ErrorCodes.KAFKA_TRANSACTION_FAILED,
              `transaction ${transactionalId} failed and was aborted: ${describeError(err)}`,
              { retryable: true, cause: err },
            );
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
      const ends = await withAdmin((admin) => whileRetriable(() => admin.fetchTopicOffsets(topic)));
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
            idle = setTimeout(settle, options.idleMs ?? 10_000);
          };
          const reached = (partition: number, lastOffset: string) => {
            const high = remaining.get(partition);
            if (high !== undefined && BigInt(lastOffset) + 1n >= high) remaining.set(partition, 0n);
            if (caughtUp()) settle();
            else arm();
          };
          const caughtUp = () => [...remaining.values()].every((high) => high <= 0n);
          for (const [partition, high] of remaining) if (high === 0n) remaining.delete(partition);
          if (remaining.size === 0) return settle();
          // The idle clock starts once the group is joined: a slow join is not "nothing came".
          consumer.on(consumer.events.GROUP_JOIN, arm);
          // Also emitted for a fetch of transaction markers alone, which eachBatch never sees: the
          // end of a partition whose last record is a commit marker is reached there.
          consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
            if (payload.batchSize === 0) reached(payload.partition, payload.lastOffset);
          });
          consumer
            .run({
              eachBatch: async ({ batch }) => {
                records.push(...incomingRecords(batch));
                reached(batch.partition, batch.lastOffset());
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

    async followTopic(follow) {
      const consumer = groupMember(follow.groupId, follow, 10);
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        follow.onAssignment?.(sortedAssignment(event.payload.memberAssignment)[follow.topic] ?? []);
      });
      try {
        await consumer.connect();
        await consumer.subscribe({ topics: [follow.topic], fromBeginning: true });
      } catch (cause) {
        throw unavailable(settings.brokers, cause);
      }
      await consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          await follow.handleBatch(incomingBatch(batch));
        },
      });
      return {
        async stop() {
          await consumer.disconnect();
          await withAdmin((admin) => admin.deleteGroups([follow.groupId])).catch(() => undefined);
        },
      };
    },

    async runConsumer(consumerSettings) {
      const { groupId, topics } = consumerSettings;
      const heartbeatInterval = consumerSettings.heartbeatIntervalMs ?? 1000;
      // A sink failure is retried from the last committed offset after a pause, never skipped.
      const consumer = groupMember(groupId, consumerSettings, 5, consumerSettings);
      let running = false;
      let assignment: Record<string, number[]> = {};
      consumer.on(consumer.events.GROUP_JOIN, (event) => {
        running = true;
        assignment = sortedAssignment(event.payload.memberAssignment);
        consumerSettings.onAssignment?.(assignment);
      });
      consumer.on(consumer.events.STOP, () => {
        running = false;
        assignment = {};
      });
      // A fetch that held only transaction markers or aborted records never reaches eachBatch;
      // kafkajs moves past it but, without autoCommit, does not commit it. Commit it here, so the
      // group's offset reaches the end of a transactional topic (lag 0, and `--once` can tell it
      // is done) instead of stopping one marker short. Nothing in it is for the sink.
      consumer.on(consumer.events.END_BATCH_PROCESS, (event) => {
        const { topic, partition, batchSize, lastOffset } = event.payload;
        if (batchSize !== 0) return;
        consumer
          .commitOffsets([{ topic, partition, offset: (BigInt(lastOffset) + 1n).toString() }])
          .catch((err: unknown) =>
            log.debug({ err, topic, partition }, "commit past transaction markers failed"),
          );
      });
      /** Transactional producers by input partition (`transactionalIdPrefix`). */
      const producers = new Map<string, TransactionalProducer>();
      async function publishWithOffsets(
        prefix: string,
        batch: IncomingBatch,
        records: OutgoingRecord[],
      ): Promise<void> {
        const id = `${prefix}.${batch.topic}.${batch.partition}`;
        let producer = producers.get(id);
        if (producer === undefined) {
          producer = await client.transactionalProducer(id);
          producers.set(id, producer);
        }
        const next = {
          topic: batch.topic,
          partition: batch.partition,
          offset: BigInt(batch.lastOffset) + 1n,
        };
        try {
          await producer.transaction(async (tx) => {
            await tx.send(records);
            await tx.commitOffsets(groupId, [next]);
          });
        } catch (err) {
          // Fenced (another member has the partition now) or broken: a fresh producer next time.
          producers.delete(id);
          await producer.disconnect().catch(() => undefined);
          throw err;
        }
      }
      try {
        await consumer.connect();
        await consumer.subscribe({ topics, fromBeginning: consumerSettings.fromBeginning ?? true });
      } catch (cause) {
        throw unavailable(settings.brokers, cause);
      }
      await consumer.run({
        autoCommit: false,
        eachBatchAutoResolve: false,
        eachBatch: async (payload) => {
          const { batch } = payload;
          // Stopping, or the partition was taken away: leave the batch uncommitted for its next owner.
          if (!payload.isRunning() || payload.isStale()) return;
          const incoming = incomingBatch(batch);
          const { lastOffset } = incoming;
          // Heartbeat while the sink works, as Java's background heartbeat thread does: only a dead
          // member should miss the session timeout, not one in a slow insert.
          const keepAlive = setInterval(() => {
            payload.heartbeat().catch(() => undefined); // a rebalance shows up at the next fetch
          }, heartbeatInterval);
          try {
            // kafkajs calls eachBatch only for batches with records (see END_BATCH_PROCESS above).
            const output = await consumerSettings.handleBatch(incoming);
            if (consumerSettings.transactionalIdPrefix !== undefined) {
              await publishWithOffsets(consumerSettings.transactionalIdPrefix, incoming, output ?? []);
              payload.resolveOffset(lastOffset);
              return;
            }
          } finally {
            clearInterval(keepAlive);
          }
          // Only now move the fetch position (kafkajs refetches from the last resolved offset),
          // then commit past the batch, control records (transaction markers) included. This
          // commit goes straight to the group, also while stop() waits for this batch (the
          // consumer's own commitOffsets does nothing once it is stopping).
          payload.resolveOffset(lastOffset);
          await payload.commitOffsetsIfNecessary({
            topics: [
              {
                topic: batch.topic,
                partitions: [{ partition: batch.partition, offset: (BigInt(lastOffset) + 1n).toString() }],
              },
            ],
          });
          await payload.heartbeat();
        },
      });
      return {
        async stop() {
          await consumer.disconnect();
          await Promise.all([...producers.values()].map((p) => p.disconnect().catch(() => undefined)));
          producers.clear();
        },
        isRunning: () => running,
        assignment: () => assignment,
        ends: () => topicEnds(topics),
        committed: () => groupCommitted(groupId, topics),
      };
    },
  };
  return client;
}
