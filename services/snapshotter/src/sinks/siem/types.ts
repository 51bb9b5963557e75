/**
 * What the SIEM forwarders hand a destination (docs/siem.md): records of the data topics as JSON
 * events, already pseudonymized (they are the topics' records), each with a stable id so a
 * receiver without deduplication of its own can deduplicate.
 */

export type ForwardedModule = "copilot" | "openai";

export interface ForwardedEvent {
  /** Stable across re-deliveries: the record's own id (an audit event's `_document_id`, a seat's snapshot and seat id …). */
  id: string;
  /** The record's own time (the event's time, the snapshot's time), epoch ms. */
  time: number;
  module: ForwardedModule;
  /** Record kind: `audit_event`, `seat`, `usage_record`, `metrics_row`, `user`, `project`, `service_account`, `api_key`. */
  kind: string;
  /** The audit event's action or type (`copilot.cfb_seat_added`, `api_key.created` …); null for other kinds. */
  eventType: string | null;
  tenant: string;
  /** The org (GitHub slug, OpenAI org id) or enterprise the record is of. */
  org: string;
  /** The record as JSON, as decoded from its topic (pseudonymized). */
  data: Record<string, unknown>;
}

/** One SIEM destination's delivery: resolves once the destination acknowledged the whole batch. */
export interface Destination {
  /**
   * Delivers the batch, retrying what is worth retrying (network errors, 429, 5xx) with
   * exponential backoff and jitter; throws a DeliveryError once the destination refused it or the
   * retry budget is spent. `signal` aborts the retries (the forwarder is stopping).
   */
  send(events: readonly ForwardedEvent[], signal?: AbortSignal): Promise<void>;
}

/** A batch a destination did not take: `reason` goes into the dead-letter header. */
export class DeliveryError extends Error {
  readonly reason: string;
  /** The last HTTP status, when there was an answer. */
  readonly status: number | undefined;
  constructor(reason: string, options: { status?: number; cause?: unknown } = {}) {
    super(reason, { cause: options.cause });
    this.name = "DeliveryError";
    this.reason = reason;
    this.status = options.status;
  }
}
