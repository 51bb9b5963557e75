/** aiaudit disconnect: a tombstone on the connections topic; ingest stops polling the connection. */
import { parseArgs } from "node:util";
import { z } from "zod";
import { kafkaEnv, parseEnv } from "@aiaudit/config";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKafka } from "@aiaudit/kafka";
import { createLogger } from "@aiaudit/logger";
import { UsageError, type Io } from "../io.ts";

export async function disconnect(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: "string" }, connection: { type: "string" } },
    strict: true,
  });
  if (!values.tenant || !values.connection) throw new UsageError("--tenant and --connection are required");
  const env = parseEnv(z.object(kafkaEnv), io.env);
  const kafka = createKafka({
    brokers: env.KAFKA_BROKERS,
    clientId: `${env.KAFKA_CLIENT_ID}-cli`,
    logger: createLogger({ name: "aiaudit-cli", level: "error" }),
  });
  await kafka.ensureTopics(topicSpecs(env.KAFKA_TOPIC_PREFIX));
  const producer = await kafka.transactionalProducer(
    `${env.KAFKA_TOPIC_PREFIX}.cli.connections.${values.tenant}.${values.connection}`,
  );
  try {
    await producer.transaction((tx) =>
      tx.send([
        {
          topic: topicNames(env.KAFKA_TOPIC_PREFIX).connections,
          key: `${values.tenant}/${values.connection}`,
          value: null,
        },
      ]),
    );
  } finally {
    await producer.disconnect();
  }
  io.out(`disconnected ${values.tenant}/${values.connection}`);
  return 0;
}
