/**
 * Errors with a stable code and a retryable flag (docs/conventions.md §5). Codes live in one list so
 * logs, metrics and the dead-letter topic speak the same words. A raw payload never goes into
 * a message: describe it, and keep the payload in `cause` only when it holds no secret.
 */
import { createHash } from "node:crypto";

export const ErrorCodes = {
  /** A setting is missing or malformed; the process must not start. */
  CONFIG_INVALID: "CONFIG_INVALID",
  /** A vendor API record failed validation: poison, goes to the dead-letter topic. */
  RECORD_INVALID: "RECORD_INVALID",
  /** An Avro payload could not be decoded (bad framing, unknown fingerprint). */
  ENCODING_INVALID: "ENCODING_INVALID",
  /** The Kafka cluster could not be reached or answered an error. */
  KAFKA_UNAVAILABLE: "KAFKA_UNAVAILABLE",
  /** Another instance with the same transactionalId took over; this one must stop writing. */
  KAFKA_FENCED: "KAFKA_FENCED",
  /** A Kafka transaction failed and was aborted; the batch is retried as a whole. */
  KAFKA_TRANSACTION_FAILED: "KAFKA_TRANSACTION_FAILED",
  /** ClickHouse rejected a query or could not be reached. */
  CLICKHOUSE_FAILED: "CLICKHOUSE_FAILED",
  /** A SIEM destination refused a batch (4xx, a HEC error code): its records go to the dead-letter topic. */
  DESTINATION_REFUSED: "DESTINATION_REFUSED",
  /** A migration file could not be applied. */
  MIGRATION_FAILED: "MIGRATION_FAILED",
  /** A stream's cursor on the cursors topic does not have its schema: the stream stops, never starts over. */
  CURSOR_INVALID: "CURSOR_INVALID",
  /** A vendor API answered an error (see `status`). */
  UPSTREAM_HTTP: "UPSTREAM_HTTP",
  /**
   * A vendor API answered 2xx with a body that is not the documented shape (HTML, truncated JSON,
   * an object where an array belongs, counts that disagree): the poll fails, nothing is read as
   * "empty", the cursor and the current snapshot stay.
   */
  UPSTREAM_INVALID: "UPSTREAM_INVALID",
  /** A vendor API rejected the credential (401): the connection is broken until connected again. */
  UPSTREAM_UNAUTHORIZED: "UPSTREAM_UNAUTHORIZED",
  /**
   * The vendor keeps no audit log for the organization (OpenAI: audit logging is switched off in
   * its settings): the audit stream waits for it, the connection says so, the other streams go on.
   */
  AUDIT_LOG_DISABLED: "AUDIT_LOG_DISABLED",
  /** A vendor API could not be reached (refused, DNS, timeout, TLS). */
  UPSTREAM_UNREACHABLE: "UPSTREAM_UNREACHABLE",
  /**
   * A request to an aiaudit API or service is malformed (a period that is not RFC 3339, a start
   * after its end, an unknown field): the HTTP APIs answer 400 with the message.
   */
  REQUEST_INVALID: "REQUEST_INVALID",
  /** A sealed secret failed authentication (tampered, or sealed with another key). */
  SECRET_UNSEALABLE: "SECRET_UNSEALABLE",
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export interface AiauditErrorOptions {
  /** Whether retrying the same operation later may succeed. @default false */
  retryable?: boolean;
  cause?: unknown;
  /** Extra fields for logs; never secrets or raw payloads. */
  details?: Record<string, string | number | boolean | null>;
}

export class AiauditError extends Error {
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, string | number | boolean | null>;

  constructor(code: ErrorCode, message: string, options: AiauditErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AiauditError";
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details ?? {};
  }
}

export function isAiauditError(err: unknown, code?: ErrorCode): err is AiauditError {
  return err instanceof AiauditError && (code === undefined || err.code === code);
}

/** A short, secret-free description of any thrown value, for reasons in DLQ headers. */
export function describeError(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

/**
 * What may be said about a vendor body in a log or an error: its size, content type and a hash,
 * never its text (a body names people, and a truncated one may hold anything).
 */
export function describeBody(body: unknown, contentType?: string | null): string {
  const text = typeof body === "string" ? body : body === undefined ? "" : JSON.stringify(body);
  const bytes = Buffer.byteLength(text, "utf8");
  const sha = createHash("sha256").update(text, "utf8").digest("hex").slice(0, 16);
  return `${contentType || "no content type"}, ${bytes} bytes, sha256 ${sha}…`;
}
