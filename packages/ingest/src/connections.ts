/**
 * The connections an ingest instance polls, from the compacted connections topic (written by
 * `aiaudit connect`). Instances of a service share the topic's partitions through Kafka's group
 * protocol: each connection is polled by exactly one instance, and when an instance dies its
 * partitions — with their connections — move to the others within the session timeout (10 s);
 * the new owner's producers fence the old one's, so nothing is published twice.
 *
 * One connection key, one poller: a new record for a key (a credential rotation) stops the old
 * poller and waits for its polls in flight before the new one starts. A credential the vendor
 * rejects marks the connection BROKEN on the topic, with the message a person acts on; a poller
 * may also note a condition on an ACTIVE connection (e.g. an audit log switched off).
 */
import { randomUUID } from "node:crypto";
import { codecs, type ConnectionRecord, type TopicNames } from "@aiaudit/contracts";
import { openSecret, sealContext } from "@aiaudit/crypto";
import { describeError } from "@aiaudit/errors";
import type { IncomingRecord, KafkaClient, RunningConsumer, TransactionalProducer } from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import type { IngestTelemetry } from "./telemetry.ts";

/** What the connections need of a poller. */
export interface Poller<S> {
  readonly spec: S;
  start(): void;
  /** Polls every stream once; true when all succeeded. */
  pollAll(): Promise<boolean>;
  stop(): Promise<void>;
}

export interface ConnectionIdentity {
  tenant: string;
  connectionId: string;
}

/** What a poller may say about its connection. */
export interface ConnectionHooks {
  /** The credential was rejected: stop polling, mark the connection BROKEN with `message`. */
  broken: (message: string) => void;
  /** Sets (or, with null, clears) the status message of the ACTIVE connection. */
  note: (message: string | null) => void;
}

export interface ConnectionsOptions<S extends ConnectionIdentity, P extends Poller<S>> {
  /** The service's name, in group and transactional ids, e.g. ingest-openai. */
  service: string;
  /** The records of this vendor are this service's. */
  vendor: ConnectionRecord["vendor"];
  topicPrefix: string;
  /** Only this tenant's connections; all tenants' when undefined. */
  tenantId: string | undefined;
  /** Opens the sealed credentials; without it only connections added with `add` are polled. */
  secretsKey: Buffer | undefined;
  kafka: KafkaClient;
  topics: TopicNames;
  telemetry: IngestTelemetry;
  log: Logger;
  /** The poller spec of an ACTIVE record, given its opened credential. */
  specOf(record: ConnectionRecord, credential: string): S;
  createPoller(spec: S, hooks: ConnectionHooks): P;
}

export interface Connections<S, P> {
  /** Joins the group and polls the connections of the partitions it is given, now and on schedule. */
  follow(): Promise<void>;
  /** Reads every connection on the topic once and polls each once; true when every poll succeeded. */
  pollEachOnce(): Promise<boolean>;
  /** Polls a connection configured outside the topic (e.g. GITHUB_ORG). */
  add(spec: S): P;
  get(key: string): P | undefined;
  all(): P[];
  stop(): Promise<void>;
}

/** `tenant/connection-id`: the connections topic's key. */
export const connectionKey = (tenant: string, connectionId: string) => `${tenant}/${connectionId}`;

export function createConnections<S extends ConnectionIdentity, P extends Poller<S>>(
  options: ConnectionsOptions<S, P>,
): Connections<S, P> {
  const { telemetry: events, log } = options;
  const instance = randomUUID();
  const held = new Map<string, { poller: P; partition: number; record: ConnectionRecord | undefined }>();
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

  function startPoller(key: string, spec: S, partition: number, record?: ConnectionRecord): P {
    const poller = options.createPoller(spec, {
      broken: (message) => void markBroken(key, message),
      note: (message) => void note(key, message),
    });
    held.set(key, { poller, partition, record });
    if (following) poller.start();
    return poller;
  }

  function markBroken(key: string, message: string, record = held.get(key)?.record): Promise<void> {
    events.connectionBroken({ connection: key, message });
    // A connection configured outside the topic has no record to mark: its credential is the
    // operator's to fix, and the poller goes on at its schedule.
    if (!record) return Promise.resolve();
    void serially(key, () => release(key));
    return writeStatus(key, { ...record, status: "BROKEN", status_message: message });
  }

  function note(key: string, message: string | null): Promise<void> {
    const current = held.get(key);
    if (!current?.record || current.record.status_message === message) return Promise.resolve();
    events.connectionNoted({ connection: key, message });
    current.record = { ...current.record, status_message: message };
    return writeStatus(key, current.record);
  }

  function writeStatus(key: string, record: ConnectionRecord): Promise<void> {
    // Status writes share one producer, which holds one transaction at a time.
    statusWrites = statusWrites.then(async () => {
      // This instance's own id: status writes need no fencing, and instances must not fence each other.
      statusProducer ??= options.kafka.transactionalProducer(
        `${options.topicPrefix}.${options.service}.status.${instance}`,
      );
      try {
        const producer = await statusProducer;
        const value = codecs.connection.encode({ ...record, updated_at: Date.now() });
        await producer.transaction((tx) => tx.send([{ topic: options.topics.connections, key, value }]));
      } catch (err) {
        const failed = statusProducer;
        statusProducer = undefined;
        await failed.then((p) => p.disconnect()).catch(() => undefined);
        log.error(
          { err, connection: key },
          "could not record the connection's status on the connections topic",
        );
      }
    });
    return statusWrites;
  }

  /** What a connection record asks for: a poller with this spec, none, or a reason it cannot be polled. */
  function specOf(record: ConnectionRecord): S | string | undefined {
    if (record.status !== "ACTIVE") return undefined;
    if (!options.secretsKey) return "SECRETS_KEY is not set: the credential cannot be opened";
    let credential: string;
    try {
      credential = openSecret(
        options.secretsKey,
        record.sealed_token,
        sealContext(record.tenant, record.connection_id),
      );
    } catch (err) {
      return `the credential cannot be opened with SECRETS_KEY (${describeError(err)}): connect again`;
    }
    return options.specOf(record, credential);
  }

  function apply(record: IncomingRecord): void {
    const key = record.key;
    if (!key) return;
    const [tenant] = key.split("/");
    if (options.tenantId !== undefined && tenant !== options.tenantId) return;
    if (record.value === null) {
      if (held.has(key) || changes.has(key)) events.connectionRemoved({ connection: key });
      void serially(key, () => release(key));
      return;
    }
    const connection = codecs.connection.decode(record.value);
    if (connection.vendor !== options.vendor) return;
    const current = held.get(key);
    // The same credential again (a re-read after a rebalance, or this service's own status write).
    if (current?.record?.status === "ACTIVE" && connection.status === "ACTIVE") {
      if (current.record.sealed_token.nonce === connection.sealed_token.nonce) {
        current.partition = record.partition;
        current.record = connection;
        return;
      }
    }
    events.connectionChanged({ connection: key, status: connection.status });
    const spec = specOf(connection);
    void serially(key, async () => {
      await release(key);
      if (typeof spec === "string") void markBroken(key, spec, connection);
      else if (spec) startPoller(key, spec, record.partition, connection);
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
      if (!options.secretsKey) return;
      watcher = await options.kafka.followTopic({
        groupId: `${options.topicPrefix}.${options.service}.connections.${options.tenantId ?? "all-tenants"}`,
        topic: options.topics.connections,
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
      if (options.secretsKey) {
        applyAll(await options.kafka.readTopic(options.topics.connections, { idleMs: 1000 }));
      }
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
