/**
 * The console: the operator API and the web dashboard on one port (CONSOLE_PORT, 8468), over the
 * analyst views in ClickHouse, the tenants and connections on their control topics, and the packer's
 * API for evidence packs. Wiring only (docs/conventions.md §1).
 */
import { hostname } from "node:os";
import { Registry } from "prom-client";
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { readinessCheck, type Readiness } from "@aiaudit/runtime";
import { followTenants, type FollowedTenants } from "@aiaudit/tenants";
import type { FastifyInstance } from "fastify";
import { createApp } from "./api.ts";
import type { ConsoleConfig } from "./config.ts";
import { followConnections, type Connections } from "./source/connections.ts";
import { packerClient } from "./source/packs.ts";
import { telemetry } from "./telemetry.ts";
import { registerDashboard } from "./web/dashboard.ts";

export interface ServiceDeps {
  logger: Logger;
  kafka?: KafkaClient;
  /** Shared ClickHouse handle (the all-in-one runner and tests); opened from the config otherwise. */
  clickhouse?: ClickHouse;
  registry?: Registry;
  /** The packer's API, when it is only known once started (the all-in-one runner). */
  packerUrl?: () => string;
  /** @default Date.now */
  now?: () => number;
}

export interface ConsoleService {
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): Promise<Readiness>;
  /** Where the API and dashboard listen, once started. */
  url(): string;
}

export function createService(config: ConsoleConfig, deps: ServiceDeps): ConsoleService {
  const log = deps.logger.child({ component: "console" });
  const events = telemetry(log, deps.registry ?? new Registry());
  const kafka =
    deps.kafka ??
    createKafka({
      brokers: config.KAFKA_BROKERS,
      clientId: `${config.KAFKA_CLIENT_ID}-console`,
      logger: log,
    });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  const groupPrefix = `${config.KAFKA_TOPIC_PREFIX}.console.${hostname()}`;
  let ch: ClickHouse | undefined;
  let tenants: FollowedTenants | undefined;
  let connections: Connections | undefined;
  let app: FastifyInstance | undefined;
  let url = "";

  return {
    url: () => url,
    async start() {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      ch =
        deps.clickhouse ??
        (await createClickHouse({
          url: config.CLICKHOUSE_URL,
          username: config.CLICKHOUSE_USER,
          password: config.CLICKHOUSE_PASSWORD,
          database: config.CLICKHOUSE_DATABASE,
          dataDir: config.CLICKHOUSE_DATA_DIR,
        }));
      tenants = await followTenants({
        kafka,
        topic: topics.tenants,
        groupPrefix,
        onUnreadable: (fields) => events.recordUnreadable({ topic: topics.tenants, ...fields }),
      });
      connections = await followConnections({
        kafka,
        topics,
        producerId: `${config.KAFKA_TOPIC_PREFIX}.console.connections.${hostname()}`,
        groupPrefix,
        secretsKey: config.SECRETS_KEY,
        pollIntervalSeconds: config.POLL_INTERVAL_SECONDS,
        onUnreadable: (fields) => events.recordUnreadable(fields),
        ...(deps.now ? { now: deps.now } : {}),
      });
      const packerUrl = deps.packerUrl ?? (() => config.CONSOLE_PACKER_URL);
      const deps_ = {
        directory: tenants.directory,
        ch,
        connections,
        packs: packerClient(packerUrl),
        telemetry: events,
        secureCookie: config.CONSOLE_SECURE_COOKIE,
      };
      const api = createApp(deps_);
      registerDashboard(api, deps_);
      app = api.app;
      url = await app.listen({ port: config.CONSOLE_PORT, host: config.CONSOLE_HOST });
      log.info({ url }, "console started");
    },
    async stop() {
      await app?.close();
      await connections?.stop();
      await tenants?.stop();
      if (!deps.clickhouse) await ch?.close();
    },
    async ready() {
      const checks = {
        kafka: await readinessCheck(() => kafka.ping()),
        clickhouse: await readinessCheck(async () => ch?.command("SELECT 1")),
        tenants: await readinessCheck(() =>
          tenants?.assigned()
            ? Promise.resolve()
            : Promise.reject(new Error("not yet following the tenants topic")),
        ),
      };
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
  };
}
