/**
 * What every stream of a connection shares, whatever the vendor: its transactional producer, the
 * topics, the tenant's pseudonymizer, telemetry, and the committed cursor records.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import type { TransactionalProducer } from "@aiaudit/kafka";
import type { CursorRecords } from "./cursors.ts";
import type { IngestTelemetry } from "./telemetry.ts";

export interface StreamBase {
  /** This stream's transactional producer (created, and its predecessor fenced, before the first poll). */
  producer: () => Promise<TransactionalProducer>;
  topics: TopicNames;
  pseudonymizer: Pseudonymizer;
  telemetry: IngestTelemetry;
  /** The newest committed cursor records (read after this stream's producer fenced its predecessor). */
  loadCursors: () => Promise<CursorRecords>;
  now?: () => number;
}

/**
 * A stream's own copy of its committed state: restored from the cursors topic before the first
 * poll, replaced only after a transaction committed, and restored again after a failed poll
 * (whether its last transaction committed is then unknown; the topic knows).
 */
export function withCommittedState<S, R>(
  load: () => Promise<CursorRecords>,
  restore: (records: CursorRecords) => S,
  poll: (state: S, committed: (next: S) => void) => Promise<R>,
): () => Promise<R> {
  let state: { value: S } | undefined;
  return async () => {
    state ??= { value: restore(await load()) };
    try {
      return await poll(state.value, (next) => {
        state = { value: next };
      });
    } catch (err) {
      state = undefined;
      throw err;
    }
  };
}
