/** Kafka as the services reach it, and one record (or a tombstone) for a connection on the connections topic. */
import { z } from "zod";
import { kafkaEnv, parseEnv, type Env } from "@aiaudit/config";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";

export function kafkaFromEnv(env: Env): { kafka: KafkaClient; brokers: string[]; prefix: string } {
  const settings = parseEnv(z.object(kafkaEnv), env);
  const kafka = createKafka({
    brokers: settings.KAFKA_BROKERS,
    clientId: `${settings.KAFKA_CLIENT_ID}-cli`,
    logger: createLogger({ name: "aiaudit-cli", level: "error" }),
  });
  return { kafka, brokers: settings.KAFKA_BROKERS, prefix: settings.KAFKA_TOPIC_PREFIX };
}

export async function publishConnection(
  env: Env,
  tenant: string,
  connectionId: string,
  value: Buffer | null,
): Promise<void> {
  const { kafka, prefix } = kafkaFromEnv(env);
  await kafka.ensureTopics(topicSpecs(prefix));
  const producer = await kafka.transactionalProducer(`${prefix}.cli.connections.${tenant}.${connectionId}`);
  try {
    await producer.transaction((tx) =>
      tx.send([{ topic: topicNames(prefix).connections, key: `${tenant}/${connectionId}`, value }]),
    );
  } finally {
    await producer.disconnect();
  }
}
