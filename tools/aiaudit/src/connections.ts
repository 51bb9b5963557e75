/**
 * Kafka as the services reach it, for the commands: records published together in one transaction
 * (a connection or its tombstone; a tenant and its first token), and a compacted topic read back as
 * its newest record per key. Every command that writes goes through `publishRecords`, which creates
 * the topics first, as the services do.
 */
import { z } from "zod";
import { kafkaEnv, parseEnv, type Env } from "@aiaudit/config";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { describeError } from "@aiaudit/errors";
import { createKafka, type IncomingRecord, type KafkaClient, type OutgoingRecord } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";

export type Topics = ReturnType<typeof topicNames>;

export function kafkaFromEnv(env: Env): { kafka: KafkaClient; brokers: string[]; prefix: string } {
  const settings = parseEnv(z.object(kafkaEnv), env);
  const kafka = createKafka({
    brokers: settings.KAFKA_BROKERS,
    clientId: `${settings.KAFKA_CLIENT_ID}-cli`,
    logger: createLogger({ name: "aiaudit-cli", level: "error" }),
  });
  return { kafka, brokers: settings.KAFKA_BROKERS, prefix: settings.KAFKA_TOPIC_PREFIX };
}

/**
 * Publishes `records` (given the prefix's topic names) in one Kafka transaction: all of them become
 * visible together, or none. `writer` ends the transactional id, `<prefix>.cli.<writer>`: two
 * commands writing the same thing at once share it, so the later one fences the earlier.
 */
export async function publishRecords(
  env: Env,
  writer: string,
  records: (topics: Topics) => OutgoingRecord[],
): Promise<void> {
  const { kafka, prefix } = kafkaFromEnv(env);
  await kafka.ensureTopics(topicSpecs(prefix));
  const producer = await kafka.transactionalProducer(`${prefix}.cli.${writer}`);
  try {
    await producer.transaction((tx) => tx.send(records(topicNames(prefix))));
  } finally {
    await producer.disconnect();
  }
}

export async function publishConnection(
  env: Env,
  tenant: string,
  connectionId: string,
  value: Buffer | null,
): Promise<void> {
  await publishRecords(env, `connections.${tenant}.${connectionId}`, (topics) => [
    { topic: topics.connections, key: `${tenant}/${connectionId}`, value },
  ]);
}

export interface CompactedTopic {
  topic: string;
  /** The topic does not exist (yet): nothing was ever written with this prefix. */
  missing: boolean;
  /** The newest record of each key; a key whose newest record is a tombstone is left out. */
  latest: Map<string, IncomingRecord>;
}

/** The newest record per key of a compacted topic; a missing topic is empty, not an error. */
export async function readCompacted(kafka: KafkaClient, topic: string): Promise<CompactedTopic> {
  const latest = new Map<string, IncomingRecord>();
  let records: IncomingRecord[];
  try {
    records = await kafka.readTopic(topic, { idleMs: 1000 });
  } catch (err) {
    // The broker does not create topics on reads (auto.create.topics.enable=false): a missing one
    // is "nothing there yet", not a failure.
    if (/does not host this topic-partition|UNKNOWN_TOPIC/i.test(describeError(err)))
      return { topic, missing: true, latest };
    throw err;
  }
  for (const record of records) {
    if (!record.key) continue;
    if (record.value === null) latest.delete(record.key);
    else latest.set(record.key, record);
  }
  return { topic, missing: false, latest };
}
