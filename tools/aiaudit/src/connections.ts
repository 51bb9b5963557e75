/** Writes one record (or a tombstone) for a connection on the compacted connections topic. */
import { z } from "zod";
import { kafkaEnv, parseEnv, type Env } from "@aiaudit/config";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKafka } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";

export async function publishConnection(
  env: Env,
  tenant: string,
  connectionId: string,
  value: Buffer | null,
): Promise<void> {
  const settings = parseEnv(z.object(kafkaEnv), env);
  const kafka = createKafka({
    brokers: settings.KAFKA_BROKERS,
    clientId: `${settings.KAFKA_CLIENT_ID}-cli`,
    logger: createLogger({ name: "aiaudit-cli", level: "error" }),
  });
  await kafka.ensureTopics(topicSpecs(settings.KAFKA_TOPIC_PREFIX));
  const producer = await kafka.transactionalProducer(
    `${settings.KAFKA_TOPIC_PREFIX}.cli.connections.${tenant}.${connectionId}`,
  );
  try {
    await producer.transaction((tx) =>
      tx.send([
        {
          topic: topicNames(settings.KAFKA_TOPIC_PREFIX).connections,
          key: `${tenant}/${connectionId}`,
          value,
        },
      ]),
    );
  } finally {
    await producer.disconnect();
  }
}
