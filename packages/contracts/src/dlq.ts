/**
 * Dead-letter records (docs/design.md §3): a value that cannot be processed goes to `<prefix>.dlq.v1`
 * with the reason in headers, in the same transaction as the batch it came with, so the rest of
 * the batch still lands and nothing is silently dropped. The value must already be free of
 * secrets and pseudonymized (see @aiaudit/crypto pseudonymizeDeep).
 */
import { DlqHeaders } from "./topics.ts";

export interface DeadLetter {
  topic: string;
  key: string;
  value: Buffer;
  headers: Record<string, string>;
}

export interface DeadLetterInput {
  dlqTopic: string;
  key: string;
  /** JSON-serialisable, pseudonymized payload, or raw bytes that could not be decoded. */
  payload: unknown;
  reason: string;
  code: string;
  /** Where the payload came from: an API path, or topic/partition/offset. */
  source: string;
  /** Topic the record was meant for, if any. */
  sourceTopic?: string;
}

export function deadLetter(input: DeadLetterInput): DeadLetter {
  const value = Buffer.isBuffer(input.payload)
    ? input.payload
    : Buffer.from(JSON.stringify(input.payload ?? null), "utf8");
  return {
    topic: input.dlqTopic,
    key: input.key,
    value,
    headers: {
      [DlqHeaders.reason]: input.reason.slice(0, 1000),
      [DlqHeaders.code]: input.code,
      [DlqHeaders.source]: input.source,
      [DlqHeaders.at]: new Date().toISOString(),
      ...(input.sourceTopic ? { [DlqHeaders.sourceTopic]: input.sourceTopic } : {}),
    },
  };
}
