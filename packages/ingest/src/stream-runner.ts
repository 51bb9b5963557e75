/**
 * Runs the streams of one connection: each stream with its own producer (`transactionalId` per
 * tenant/connection/stream, so whoever polls the connection next fences this one) and its own
 * queue, so one stream or connection failing never delays another.
 *
 * Schedule: every stream is polled at start and every `pollIntervalMs`. A stream whose poll
 * failed for a reason that may pass (Kafka or the vendor unreachable, a 5xx, a malformed answer)
 * is tried again after a backoff with jitter — from `retryFirstMs`, doubling, up to 5 min — not
 * only at the next scheduled poll. A rejected credential (UPSTREAM_UNAUTHORIZED) is reported
 * once and not retried; a fenced producer means another instance polls the connection now, and
 * this runner stops.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { AiauditError, ErrorCodes, isAiauditError } from "@aiaudit/errors";
import type { KafkaClient, TransactionalProducer } from "@aiaudit/kafka";
import type { CursorStore } from "./cursors.ts";
import type { StreamBase } from "./stream.ts";
import type { IngestTelemetry } from "./telemetry.ts";

/** What a stream's last polls say, for /readyz, metrics and `aiaudit status`. */
export interface StreamHealth {
  lastSuccessAt: number | undefined;
  lastFailureAt: number | undefined;
  consecutiveFailures: number;
  /** The last failure's code and message (never a vendor body). */
  lastError: string | undefined;
}

export interface StreamRunnerOptions {
  /** The connection's id, in logs and metrics. */
  connectionId: string;
  /** Prefix of the streams' transactional ids, e.g. `aiaudit.ingest-openai.acme.openai-org-1`. */
  transactionalIdPrefix: string;
  kafka: KafkaClient;
  topics: TopicNames;
  pseudonymizer: Pseudonymizer;
  cursorStore: CursorStore;
  /** Resolves once the topics exist and the cursor store follows its topic. */
  ready: () => Promise<void>;
  telemetry: IngestTelemetry;
  pollIntervalMs: number;
  retryFirstMs: number;
  /** The vendor rejected the credential (401): called once; the connection is not polled again. */
  onUnauthorized: () => void;
  /** Every failure, after it was counted (e.g. to note a switched-off audit log on the connection). */
  onFailure?: (stream: string, err: unknown) => void;
  /** Every success. */
  onSuccess?: (stream: string) => void;
}

export interface StreamRunner<N extends string> {
  /** What a stream's code needs: its producer (fencing its predecessor first) and its cursors. */
  base(stream: N): StreamBase;
  /** Registers a stream's poll; polled by `start` and `pollAll`. */
  add(stream: N, poll: () => Promise<unknown>): void;
  /** Runs a poll of `stream` in the stream's queue; the result is the caller's. */
  run<T>(stream: N, poll: () => Promise<T>): Promise<T>;
  /** Polls every stream now, then on schedule (with retries after failures). */
  start: () => void;
  /** Polls every stream once, concurrently; resolves true when all succeeded. Failures are reported, not thrown. */
  pollAll: () => Promise<boolean>;
  health: () => ReadonlyMap<N, StreamHealth>;
  /** Stops the schedule and waits for the polls in flight. */
  stop: () => Promise<void>;
}

const RETRY_MAX_MS = 5 * 60_000;

/** Backoff before retry `n` (1-based): doubling from `firstMs`, at most 5 min, ±50 % jitter. */
export function retryDelayMs(n: number, firstMs: number, random = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, firstMs * 2 ** (n - 1));
  return Math.round(base * (0.5 + random()));
}

export function createStreamRunner<N extends string>(options: StreamRunnerOptions): StreamRunner<N> {
  const { telemetry: events, connectionId: connection } = options;
  let stopped = false;
  let unauthorized = false;
  const streams = new Map<N, () => Promise<unknown>>();
  const health = new Map<N, StreamHealth>();
  const producers = new Map<N, Promise<TransactionalProducer>>();
  const retries = new Map<N, NodeJS.Timeout>();
  const queues = new Map<N, Promise<unknown>>();
  let interval: NodeJS.Timeout | undefined;

  function producerFor(stream: N) {
    return () => {
      let producer = producers.get(stream);
      if (!producer) {
        // Creating it fences every earlier producer of this stream (a predecessor, a zombie).
        producer = options.kafka.transactionalProducer(`${options.transactionalIdPrefix}.${stream}`);
        producers.set(stream, producer);
        producer.catch(() => producers.delete(stream));
      }
      return producer;
    };
  }

  /** After a Kafka failure the producer's state is unknown: the next poll starts a new one. */
  function dropProducer(stream: N): void {
    const producer = producers.get(stream);
    producers.delete(stream);
    void producer?.then((p) => p.disconnect()).catch(() => undefined);
  }

  function run<T>(stream: N, poll: () => Promise<T>): Promise<T> {
    const result = (queues.get(stream) ?? Promise.resolve()).then(() => {
      if (stopped) throw new AiauditError(ErrorCodes.KAFKA_FENCED, `${connection} is no longer polled here`);
      return poll();
    });
    queues.set(
      stream,
      result.then(
        () => succeeded(stream),
        (err: unknown) => failed(stream, err),
      ),
    );
    return result;
  }

  function succeeded(stream: N): void {
    const h = health.get(stream);
    if (h) Object.assign(h, { lastSuccessAt: Date.now(), consecutiveFailures: 0 });
    clearTimeout(retries.get(stream));
    retries.delete(stream);
    events.streamSucceeded({ connection, stream });
    options.onSuccess?.(stream);
  }

  function failed(stream: N, err: unknown): void {
    if (stopped) return;
    const h = health.get(stream);
    const coded = isAiauditError(err) ? err : undefined;
    if (h) {
      h.lastFailureAt = Date.now();
      h.consecutiveFailures += 1;
      h.lastError = `${coded?.code ?? "UNEXPECTED"}: ${err instanceof Error ? err.message : String(err)}`;
    }
    if (coded?.code === ErrorCodes.KAFKA_FENCED) {
      // Another instance holds this connection now (a rebalance moved it): let it.
      events.connectionTakenOver({ connection, stream });
      void stop();
      return;
    }
    if (coded?.code.startsWith("KAFKA_")) dropProducer(stream);
    const retryable = coded?.retryable ?? true;
    events.pollFailed({ connection, stream, err, retryable });
    events.streamFailed({ connection, stream, code: coded?.code ?? "UNEXPECTED" });
    options.onFailure?.(stream, err);
    if (coded?.code === ErrorCodes.UPSTREAM_UNAUTHORIZED) {
      // Every stream of the connection meets the same 401: report it once.
      if (!unauthorized) {
        unauthorized = true;
        options.onUnauthorized();
      }
      return;
    }
    if (retryable && !retries.has(stream) && interval !== undefined) {
      const poll = streams.get(stream);
      const delay = retryDelayMs(h?.consecutiveFailures ?? 1, options.retryFirstMs);
      events.retryScheduled({ connection, stream, inSeconds: Math.round(delay / 1000) });
      retries.set(
        stream,
        setTimeout(() => {
          retries.delete(stream);
          if (poll) void run(stream, poll).catch(() => undefined);
        }, delay),
      );
    }
  }

  async function pollAll(): Promise<boolean> {
    const outcomes = await Promise.all(
      [...streams].map(([name, poll]) =>
        run(name, poll).then(
          () => true,
          () => false,
        ),
      ),
    );
    return outcomes.every(Boolean);
  }

  async function stop(): Promise<void> {
    stopped = true;
    clearInterval(interval);
    for (const timer of retries.values()) clearTimeout(timer);
    retries.clear();
    await Promise.all(queues.values());
    const pending = [...producers.values()];
    producers.clear();
    await Promise.all(pending.map((p) => p.then((producer) => producer.disconnect()).catch(() => undefined)));
  }

  return {
    base(stream) {
      const producer = producerFor(stream);
      return {
        producer,
        topics: options.topics,
        pseudonymizer: options.pseudonymizer,
        telemetry: events,
        // Fence first, then read: no predecessor can commit a cursor after the barrier.
        loadCursors: async () => {
          await options.ready();
          await producer();
          return options.cursorStore.fresh();
        },
      };
    },
    add(stream, poll) {
      streams.set(stream, poll);
      health.set(stream, {
        lastSuccessAt: undefined,
        lastFailureAt: undefined,
        consecutiveFailures: 0,
        lastError: undefined,
      });
    },
    run,
    start: () => {
      if (stopped || interval !== undefined) return;
      interval = setInterval(() => void pollAll(), options.pollIntervalMs);
      void pollAll();
    },
    pollAll,
    health: () => health,
    stop,
  };
}
