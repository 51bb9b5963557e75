/**
 * SIEM forwarding (docs/siem.md): every destination on the destinations topic gets a consumer group
 * of its own over the data topics, `<SNAPSHOTTER_GROUP_ID>.siem.<tenant>.<destination id>`, so a
 * slow or dead destination holds back nothing but itself: not ClickHouse, not another destination.
 * Each instance of the snapshotter follows the whole destinations topic and joins every
 * destination's group; Kafka shares the partitions among the instances.
 *
 * A batch is committed only once every one of its events is delivered or on the dead-letter topic:
 * - delivered: the destination acknowledged (at least once: a crash before the commit sends the
 *   batch again, with the same event ids and webhook-id, for the receiver to drop);
 * - refused (an answer that says the request itself is wrong: 4xx, a HEC error code): the events
 *   go to the dead-letter topic with the destination's reason, and the batch is committed;
 * - unreachable or failing (network errors, timeouts, 408, 429, 5xx, after the destination's own
 *   retries): the same events are tried again, with a growing pause, for as long as it takes. A
 *   destination that is down for a day gets that day's events when it is back.
 */
import {
  codecs,
  dataTopics,
  deadLetter,
  type DeadLetter,
  type DestinationRecord,
  type TopicNames,
} from "@aiaudit/contracts";
import { destinationSealContext, openSecret } from "@aiaudit/crypto";
import { ErrorCodes } from "@aiaudit/errors";
import type {
  FetchSettings,
  GroupConsumer,
  IncomingBatch,
  IncomingRecord,
  KafkaClient,
} from "@aiaudit/kafka";
import type { Logger } from "@aiaudit/logger";
import { destinationTakes, forwardedEvent } from "../../transforms/siem-events.ts";
import { abortableSleep } from "./delivery.ts";
import { createSplunkHecDestination } from "./splunk-hec.ts";
import { DeliveryError, type Destination, type ForwardedEvent } from "./types.ts";
import { createWebhookDestination } from "./webhook.ts";

export interface ForwarderDeps {
  kafka: KafkaClient;
  topics: TopicNames;
  /** Consumer groups are `<groupPrefix>.siem.<tenant>.<destination id>`. */
  groupPrefix: string;
  log: Logger;
  /** Opens the destinations' sealed secrets; without it no destination can be served. */
  secretsKey: Buffer | undefined;
  deadLetters(letters: DeadLetter[]): Promise<void>;
  /** Fetch sizes of each destination's consumer (the snapshotter's own: few large batches). */
  fetch?: FetchSettings;
  /** Bytes of JSON per delivery (events are cut into batches of about this). @default 1000000 */
  maxBatchBytes?: number;
  /**
   * First pause between attempts, ms: a destination's own retries start at this and double up to
   * 30 s; the pause before a down destination is tried again (after those) doubles up to 60 s.
   * @default 500
   */
  retryFirstMs?: number;
}

export interface Forwarders {
  /** Applies a record of the destinations topic: a destination added, changed, or removed (null). */
  apply(key: string, value: Buffer | null): Promise<void>;
  stop(): Promise<void>;
}

const DOWN_RETRY_MAX_MS = 60_000;

interface Running {
  /** The record's bytes: a record written again with the same content changes nothing. */
  value: Buffer;
  consumer: GroupConsumer;
  abort: AbortController;
}

export function createForwarders(deps: ForwarderDeps): Forwarders {
  const running = new Map<string, Running>();
  const topics = dataTopics(deps.topics);
  const maxBatchBytes = deps.maxBatchBytes ?? 1_000_000;
  const retryFirstMs = deps.retryFirstMs ?? 500;
  // Records are applied one at a time, in order: a change never races the stop of what it replaces.
  let queue: Promise<void> = Promise.resolve();

  async function stopOne(key: string): Promise<void> {
    const current = running.get(key);
    if (!current) return;
    running.delete(key);
    current.abort.abort();
    await current.consumer.stop();
    deps.log.info({ destination: key }, "siem destination stopped");
  }

  async function startOne(key: string, value: Buffer): Promise<void> {
    const record = codecs.destination.decode(value);
    if (deps.secretsKey === undefined) {
      deps.log.error(
        { destination: key },
        "siem destination not served: SECRETS_KEY is not set, its secret cannot be opened",
      );
      return;
    }
    const secret = openSecret(
      deps.secretsKey,
      record.sealed_secret,
      destinationSealContext(record.tenant, record.destination_id),
    );
    const destination = createDestination(record, secret, retryFirstMs);
    const abort = new AbortController();
    const consumer = await deps.kafka.runConsumer({
      groupId: `${deps.groupPrefix}.siem.${record.tenant}.${record.destination_id}`,
      topics,
      ...deps.fetch,
      handleBatch: (batch) => forward(record, destination, batch, abort.signal),
    });
    running.set(key, { value, consumer, abort });
    deps.log.info(
      { destination: key, kind: record.kind, modules: record.modules, kinds: record.kinds },
      "siem destination serving",
    );
  }

  async function forward(
    record: DestinationRecord,
    destination: Destination,
    batch: IncomingBatch,
    signal: AbortSignal,
  ): Promise<void> {
    const taken: { event: ForwardedEvent; record: IncomingRecord; bytes: number }[] = [];
    for (const incoming of batch.records) {
      if (incoming.value === null) continue;
      let event: ForwardedEvent | null;
      try {
        event = forwardedEvent(deps.topics, batch.topic, incoming.value);
      } catch {
        continue; // the ClickHouse sink puts it on the dead-letter topic, once
      }
      if (event === null || !destinationTakes(record, event)) continue;
      // The size of its JSON, about: twice the Avro bytes (no second JSON.stringify of every record).
      taken.push({ event, record: incoming, bytes: 2 * incoming.value.length + 200 });
    }
    for (const chunk of chunks(taken, maxBatchBytes)) {
      await deliver(record, destination, chunk, signal);
    }
  }

  async function deliver(
    record: DestinationRecord,
    destination: Destination,
    chunk: { event: ForwardedEvent; record: IncomingRecord }[],
    signal: AbortSignal,
  ): Promise<void> {
    const events = chunk.map((c) => c.event);
    const name = `${record.tenant}/${record.destination_id}`;
    for (let attempt = 0; ; attempt++) {
      try {
        await destination.send(events, signal);
        return;
      } catch (err) {
        if (signal.aborted) throw err; // stopping: the batch is not committed, the next owner sends it
        if (err instanceof DeliveryError && isRefusal(err)) {
          deps.log.warn(
            { destination: name, events: events.length, reason: err.reason },
            "siem destination refused a batch: dead-lettered",
          );
          await deps.deadLetters(
            chunk.map((c) =>
              deadLetter({
                dlqTopic: deps.topics.dlq,
                key: c.record.key ?? c.event.id,
                payload: c.event,
                reason: `siem destination ${name} refused the batch: ${err.reason}`,
                code: ErrorCodes.DESTINATION_REFUSED,
                source: `${c.record.topic}/${c.record.partition}/${c.record.offset}`,
                sourceTopic: c.record.topic,
              }),
            ),
          );
          return;
        }
        const pause = Math.min(DOWN_RETRY_MAX_MS, retryFirstMs * 2 ** Math.min(attempt, 16));
        deps.log.warn(
          {
            destination: name,
            events: events.length,
            attempt: attempt + 1,
            retryInMs: pause,
            reason: describe(err),
          },
          "siem destination unreachable: the batch waits for it",
        );
        await abortableSleep(pause, signal);
      }
    }
  }

  return {
    apply(key, value) {
      const next = queue.then(async () => {
        const current = running.get(key);
        if (value !== null && current?.value.equals(value)) return;
        await stopOne(key);
        if (value !== null) await startOne(key, value);
      });
      queue = next.catch((err: unknown) => {
        deps.log.error({ destination: key, err }, "siem destination could not be started");
      });
      return queue;
    },
    async stop() {
      await queue;
      await Promise.all([...running.keys()].map((key) => stopOne(key)));
    },
  };
}

function createDestination(record: DestinationRecord, secret: string, retryFirstMs: number): Destination {
  const common = {
    url: record.url,
    allowPrivate: record.allow_private,
    retry: { baseDelayMs: retryFirstMs },
  };
  return record.kind === "WEBHOOK"
    ? createWebhookDestination({ ...common, secret })
    : createSplunkHecDestination({
        ...common,
        token: secret,
        ...(record.splunk_index === null ? {} : { index: record.splunk_index }),
      });
}

/** An answer that says the request is wrong: sending it again would get the same answer. */
function isRefusal(err: DeliveryError): boolean {
  const status = err.status;
  return status !== undefined && status < 500 && status !== 408 && status !== 429;
}

/** Consecutive runs of about `max` bytes (an event larger than that goes alone). */
function chunks<T extends { bytes: number }>(items: T[], max: number): T[][] {
  const out: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    if (current.length > 0 && size + item.bytes > max) {
      out.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += item.bytes;
  }
  if (current.length > 0) out.push(current);
  return out;
}

function describe(err: unknown): string {
  return err instanceof DeliveryError ? err.reason : err instanceof Error ? err.message : String(err);
}
