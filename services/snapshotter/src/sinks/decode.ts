/**
 * Decoding shared by the ClickHouse sinks: records that decode go on, records that do not are
 * poison and become dead letters with the reason (docs/conventions.md §6), so one bad record never
 * blocks a partition.
 */
import { deadLetter, type AvroCodec, type DeadLetter, type TopicNames } from "@aiaudit/contracts";
import { ErrorCodes, describeError } from "@aiaudit/errors";
import type { IncomingBatch, IncomingRecord } from "@aiaudit/kafka";
import type { Telemetry } from "../telemetry.ts";

export interface Decoded<T> {
  values: { value: T; record: IncomingRecord }[];
  poison: DeadLetter[];
}

export function decodeBatch<T>(
  batch: IncomingBatch,
  codec: AvroCodec<T>,
  topics: TopicNames,
  telemetry: Telemetry,
): Decoded<T> {
  const out: Decoded<T> = { values: [], poison: [] };
  for (const record of batch.records) {
    try {
      if (!record.value) throw new Error("record has no value");
      out.values.push({ value: codec.decode(record.value), record });
    } catch (err) {
      const reason = describeError(err);
      telemetry.recordPoisoned({
        topic: batch.topic,
        partition: batch.partition,
        offset: record.offset,
        reason,
      });
      out.poison.push(
        deadLetter({
          dlqTopic: topics.dlq,
          key: record.key ?? `${batch.topic}/${batch.partition}/${record.offset}`,
          payload: record.value ?? Buffer.alloc(0),
          reason,
          code: ErrorCodes.ENCODING_INVALID,
          source: `kafka:${batch.topic}/${batch.partition}/${record.offset}`,
          sourceTopic: batch.topic,
        }),
      );
    }
  }
  return out;
}

/** insert_deduplication_token for one table's rows of one batch. */
export function batchToken(batch: IncomingBatch, table: string): string {
  return `${batch.topic}/${batch.partition}/${batch.firstOffset}-${batch.lastOffset}/${table}`;
}
