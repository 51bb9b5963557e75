/**
 * The connections this instance polls, from the compacted connections topic (written by
 * `aiaudit connect copilot`). Instances share the topic's partitions through Kafka's group
 * protocol: each connection is polled by exactly one instance, and when an instance dies its
 * partitions — with their connections — move to the others within the session timeout (10 s);
 * the new owner's producers fence the old one's, so nothing is published twice.
 *
 * One connection key, one poller: a new record for a key (a token rotation) stops the old poller
 * and waits for its polls in flight before the new one starts. A token GitHub rejects (401) marks
 * the connection BROKEN on the topic, with the message a person acts on.
 */
import { randomUUID } from "node:crypto";
import { codecs, type ConnectionRecord, type TopicNames } from "@aiaudit/contracts";
import { openSecret, sealContext, type Keyring } from "@aiaudit/crypto";
import { describeError } from "@aiaudit/errors";
import type { IncomingRecord, KafkaClient, RunningConsumer, TransactionalProducer } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { IngestCopilotConfig } from "./config.ts";
import { createConnectionPoller, type ConnectionPoller, type ConnectionSpec } from "./connection-poller.ts";
import type { CursorStore } from "./source/cursors.ts";
import type { Telemetry } from "./telemetry.ts";

export interface ConnectionsDeps {
  config: IngestCopilotConfig;
  kafka: KafkaClient;
  topics: TopicNames;
  keyring: Keyring;
  cursorStore: CursorStore;
  /** Resolves once the topics exist and the cursor store follows its topic. */
  ready: () => Promise<void>;
  telemetry: Telemetry;
  log: Logger;
}

export interface Connections {
  /** Joins the group and polls the connections of the partitions it is given, now and on schedule. */
  follow(): Promise<void>;
  /** Reads every connection on the topic once and polls each once; true when every poll succeeded. */
  pollEachOnce(): Promise<boolean>;
  /** Polls `spec` (a connection configured outside the topic, e.g. GITHUB_ORG). */
  add(spec: ConnectionSpec): ConnectionPoller;
  get(key: string): ConnectionPoller | undefined;
  all(): ConnectionPoller[];
  stop(): Promise<void>;
}

interface Held {
  poller: ConnectionPoller;
  partition: number;
  record: ConnectionRecord | undefined;
}

/** `tenant/connection-id`: the connections topic's key. */
export const connectionKey = (tenant: string, connectionId: string) => `${tenant}/${connectionId}`;

export function createConnections(deps: ConnectionsDeps): Connections {
  const { config, telemetry: events, log } = deps;
  const instance = randomUUID();
  const held = new Map<string, Held>();
  /** Changes to one key run one after another: a replaced poller has stopped before the next starts. */
  const changes = new Map<string, Promise<void>>();
  let following = false;
  let watcher: RunningConsumer | undefined;
  let statusProducer: Promise<TransactionalProducer> | undefined;
  let statusWrites: Promise<void> = Promise.resolve();

  function serially(key: string, change: () => Promise<void>): Promise<void> {
    const next = (changes.get(key) ?? Promise.resolve()).then(change).catch((err: unknown) => {
      log.error({ err, connection: key }, "connection change failed");
    });
    changes.set(key, next);
    return next;
  }

  async function release(key: string): Promise<void> {
    const current = held.get(key);
    held.delete(key);
    await current?.poller.stop();
  }

  function startPoller(key: string, spec: ConnectionSpec, partition: number, record?: ConnectionRecord) {
    const poller = createConnectionPoller(spec, {
      config,
      kafka: deps.kafka,
      topics: deps.topics,
      pseudonymizer: deps.keyring.pseudonymizer(spec.tenant),
      cursorStore: deps.cursorStore,
      ready: deps.ready,
      telemetry: events,
      onBroken: (broken, message) =>
        void markBroken(connectionKey(broken.tenant, broken.connectionId), message),
    });
    held.set(key, { poller, partition, record });
    if (following) poller.start();
    return poller;
  }

  function markBroken(key: string, message: string, record = held.get(key)?.record): Promise<void> {
    events.connectionBroken({ connection: key, message });
    // A connection configured outside the topic (GITHUB_ORG) has no record to mark: its token
    // file is the operator's to fix, and the poller goes on at its schedule.
    if (!record) return Promise.resolve();
    void serially(key, () => release(key));
    // Status writes share one producer, which holds one transaction at a time.
    statusWrites = statusWrites.then(() =>
      writeStatus(key, { ...record, status: "BROKEN", status_message: message }),
    );
    return statusWrites;
  }

  async function writeStatus(key: string, record: ConnectionRecord): Promise<void> {
    // This instance's own id: status writes need no fencing, and instances must not fence each other.
    statusProducer ??= deps.kafka.transactionalProducer(
      `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.status.${instance}`,
    );
    try {
      const producer = await statusProducer;
      const value = codecs.connection.encode({ ...record, updated_at: Date.now() });
      await producer.transaction((tx) => tx.send([{ topic: deps.topics.connections, key, value }]));
    } catch (err) {
      const failed = statusProducer;
      statusProducer = undefined;
      await failed.then((p) => p.disconnect()).catch(() => undefined);
      log.error({ err, connection: key }, "could not record the BROKEN status on the connections topic");
    }
  }

  /** What a connection record asks for: a poller with this spec, or none. */
  function specOf(record: ConnectionRecord): ConnectionSpec | string | undefined {
    if (record.vendor !== "GITHUB" || record.status !== "ACTIVE") return undefined;
    if (!config.SECRETS_KEY) return "SECRETS_KEY is not set: the token cannot be opened";
    try {
      return {
        tenant: record.tenant,
        connectionId: record.connection_id,
        kind: record.kind,
        slug: record.slug,
        baseUrl: record.base_url,
        token: openSecret(
          config.SECRETS_KEY,
          record.sealed_token,
          sealContext(record.tenant, record.connection_id),
        ),
        keepUsageContent: record.keep_usage_content,
      };
    } catch (err) {
      return `the token cannot be opened with SECRETS_KEY (${describeError(err)}): connect again`;
    }
  }

  function apply(record: IncomingRecord): void {
    const key = record.key;
    if (!key) return;
    const [tenant] = key.split("/");
    if (config.TENANT_ID !== undefined && tenant !== config.TENANT_ID) return;
    if (record.value === null) {
      events.connectionRemoved({ connection: key });
      void serially(key, () => release(key));
      return;
    }
    const connection = codecs.connection.decode(record.value);
    const current = held.get(key);
    // The same credential again (a re-read after a rebalance, or this service's own status write).
    if (current?.record?.status === "ACTIVE" && connection.status === "ACTIVE") {
      if (current.record.sealed_token.nonce === connection.sealed_token.nonce) {
        current.partition = record.partition;
        return;
      }
    }
    events.connectionChanged({ connection: key, status: connection.status });
    const spec = specOf(connection);
    void serially(key, async () => {
      await release(key);
      if (typeof spec === "string") void markBroken(key, spec, connection);
      else if (spec) {
        startPoller(key, spec, record.partition, connection);
      }
    });
  }

  function applyAll(records: IncomingRecord[]): void {
    for (const record of records) {
      try {
        apply(record);
      } catch (err) {
        // One unreadable record must not stop every other connection from being followed.
        log.error(
          { err, key: record.key, offset: record.offset },
          "connection record cannot be read, skipped",
        );
      }
    }
  }

  return {
    async follow() {
      following = true;
      for (const { poller } of held.values()) poller.start();
      if (!config.SECRETS_KEY) return;
      watcher = await deps.kafka.followTopic({
        groupId: `${config.KAFKA_TOPIC_PREFIX}.ingest-copilot.connections.${config.TENANT_ID ?? "all-tenants"}`,
        topic: deps.topics.connections,
        onAssignment(partitions) {
          const mine = new Set(partitions);
          for (const [key, h] of held) {
            if (h.record && !mine.has(h.partition)) void serially(key, () => release(key));
          }
          events.connectionsAssigned({ partitions, connections: held.size });
        },
        handleBatch: (batch) => applyAll(batch.records),
      });
    },
    async pollEachOnce() {
      if (config.SECRETS_KEY) applyAll(await deps.kafka.readTopic(deps.topics.connections, { idleMs: 1000 }));
      await Promise.all(changes.values());
      const outcomes = await Promise.all([...held.values()].map((h) => h.poller.pollAll()));
      return outcomes.every(Boolean);
    },
    add(spec) {
      return startPoller(connectionKey(spec.tenant, spec.connectionId), spec, -1);
    },
    get: (key) => held.get(key)?.poller,
    all: () => [...held.values()].map((h) => h.poller),
    async stop() {
      following = false;
      await watcher?.stop();
      await Promise.all(changes.values());
      await Promise.all([...held.keys()].map((key) => release(key)));
      await statusWrites;
      await statusProducer?.then((p) => p.disconnect()).catch(() => undefined);
    },
  };
}
