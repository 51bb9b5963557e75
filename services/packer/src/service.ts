/**
 * packer wiring (docs/design.md §2): the evidence-pack API on PACKER_API_PORT, the tenants topic
 * followed for its bearer tokens, the monthly schedule, and the builds they share. At most
 * PACKER_MAX_BUILDS packs are built at once (each holds a ClickHouse query and a spool file);
 * builds of one tenant and module run one after the other (the store's queue).
 */
import { hostname } from "node:os";
import { createRequire } from "node:module";
import { Registry } from "prom-client";
import { createClickHouse, type ClickHouse } from "@aiaudit/clickhouse";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { createKafka, type KafkaClient } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { readinessCheck, type Readiness } from "@aiaudit/runtime";
import { followTenants, type FollowedTenants } from "@aiaudit/tenants";
import type { FastifyInstance } from "fastify";
import { createApi } from "./api.ts";
import { buildPack, type BuiltPack, type PackRequest } from "./build.ts";
import type { PackerConfig } from "./config.ts";
import { createSchedule, type Schedule } from "./schedule.ts";
import { telemetry } from "./telemetry.ts";

const { version } = createRequire(import.meta.url)("../package.json") as { version: string };
export const PRODUCER = { name: "aiaudit-packer", version };

export interface ServiceDeps {
  logger: Logger;
  kafka?: KafkaClient;
  /** Shared ClickHouse handle (the all-in-one runner and tests); opened from the config otherwise. */
  clickhouse?: ClickHouse;
  registry?: Registry;
  /** @default Date.now; tests move time. */
  now?: () => number;
}

export interface PackerOptions {
  /** Run the monthly schedule (and its catch-up at start). @default true */
  schedule?: boolean;
}

export interface PackerService {
  start(): Promise<void>;
  stop(): Promise<void>;
  ready(): Promise<Readiness>;
  /** `--once`: the monthly run now (what is due: last month's packs, failed ones' retries). */
  runOnce(): Promise<boolean>;
  /** Where the API listens, once started. */
  apiUrl(): string;
  /** Builds (or returns) one pack, as the API and the schedule do. */
  build(request: PackRequest, trigger: "api" | "schedule"): Promise<BuiltPack>;
  readonly schedule: Schedule;
}

export function createService(
  config: PackerConfig,
  deps: ServiceDeps,
  options: PackerOptions = {},
): PackerService {
  const log = deps.logger.child({ component: "packer" });
  const events = telemetry(log, deps.registry ?? new Registry());
  const now = deps.now ?? Date.now;
  const kafka =
    deps.kafka ??
    createKafka({ brokers: config.KAFKA_BROKERS, clientId: `${config.KAFKA_CLIENT_ID}-packer`, logger: log });
  const topics = topicNames(config.KAFKA_TOPIC_PREFIX);
  let ch: ClickHouse | undefined;
  let tenants: FollowedTenants | undefined;
  let api: FastifyInstance | undefined;
  let url = "";

  // A small semaphore: at most PACKER_MAX_BUILDS builds at once, the others wait their turn.
  let running = 0;
  const waiting: (() => void)[] = [];
  async function withBuildSlot<T>(task: () => Promise<T>): Promise<T> {
    if (running >= config.PACKER_MAX_BUILDS) await new Promise<void>((resolve) => waiting.push(resolve));
    running += 1;
    try {
      return await task();
    } finally {
      running -= 1;
      waiting.shift()?.();
    }
  }

  async function clickhouse(): Promise<ClickHouse> {
    ch ??=
      deps.clickhouse ??
      (await createClickHouse({
        url: config.CLICKHOUSE_URL,
        username: config.CLICKHOUSE_USER,
        password: config.CLICKHOUSE_PASSWORD,
        database: config.CLICKHOUSE_DATABASE,
        dataDir: config.CLICKHOUSE_DATA_DIR,
      }));
    return ch;
  }

  async function build(request: PackRequest, trigger: "api" | "schedule"): Promise<BuiltPack> {
    const started = now();
    const fields = {
      trigger,
      tenant: request.tenant,
      module: request.module,
      periodStart: request.periodStart,
      periodEnd: request.periodEnd,
    };
    try {
      const built = await withBuildSlot(async () =>
        buildPack(await clickhouse(), request, {
          storeDir: config.PACKER_STORE_DIR,
          privateKey: config.signingKey,
          previousPublicKeys: config.previousPublicKeys,
          producer: PRODUCER,
        }),
      );
      events.packBuilt({
        ...fields,
        packId: built.manifest.pack_id,
        sequence: built.manifest.sequence,
        reused: built.reused,
        ms: now() - started,
      });
      return built;
    } catch (err) {
      events.packFailed({ ...fields, err });
      throw err;
    }
  }

  const schedule = createSchedule({
    kafka,
    topics,
    producerId: `${config.KAFKA_TOPIC_PREFIX}.packer.pack-runs`,
    build: (request) => build(request, "schedule"),
    telemetry: events,
    pattern: config.PACKER_SCHEDULE,
    retryMinutes: config.PACKER_RETRY_MINUTES,
    now,
  });

  return {
    schedule,
    build,
    apiUrl: () => url,
    async start() {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      await clickhouse();
      tenants = await followTenants({
        kafka,
        topic: topics.tenants,
        groupPrefix: `${config.KAFKA_TOPIC_PREFIX}.packer.${hostname()}`,
        onUnreadable: (fields) => events.tenantRecordUnreadable(fields),
      });
      api = createApi({
        directory: tenants.directory,
        storeDir: config.PACKER_STORE_DIR,
        build: (request) => build(request, "api"),
        telemetry: events,
        now,
      });
      url = await api.listen({ port: config.PACKER_API_PORT, host: config.PACKER_API_HOST });
      if (options.schedule ?? true) await schedule.start();
      log.info({ api: url, nextScheduledRun: schedule.nextRun()?.toISOString() ?? null }, "packer started");
    },
    async stop() {
      await api?.close();
      await schedule.stop();
      await tenants?.stop();
      if (!deps.clickhouse) await ch?.close();
    },
    async ready() {
      const checks = {
        kafka: await readinessCheck(() => kafka.ping()),
        clickhouse: await readinessCheck(async () => (await clickhouse()).command("SELECT 1")),
        tenants: await readinessCheck(() =>
          tenants?.assigned()
            ? Promise.resolve()
            : Promise.reject(new Error("not yet following the tenants topic")),
        ),
      };
      return { ready: Object.values(checks).every((c) => c.ok), checks };
    },
    async runOnce() {
      await kafka.ensureTopics(topicSpecs(config.KAFKA_TOPIC_PREFIX));
      const runs = await schedule.runDue();
      return runs.every((r) => r.state === "SUCCEEDED");
    },
  };
}
