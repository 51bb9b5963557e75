/**
 * ClickHouse sink for the seat-snapshot topic (CONVENTIONS.md §6): decode a batch, insert it with
 * an insert_deduplication_token derived from topic/partition/offsets (a retried batch is a
 * no-op), and only then let the consumer commit. A record that cannot be decoded is poison: it
 * goes to the dead-letter topic with the reason and the batch goes on. A ClickHouse failure
 * throws, so the batch is re-delivered rather than committed.
 */
import { codecs, deadLetter, type DeadLetter, type TopicNames } from "@aiaudit/contracts";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { ErrorCodes, describeError } from "@aiaudit/errors";
import type { IncomingBatch, TransactionalProducer } from "@aiaudit/kafka";
import type { Telemetry } from "../telemetry.ts";
import { addSeatRecord, emptyRows } from "../transforms/seat-rows.ts";

export interface SeatSinkDeps {
  ch: ClickHouse;
  topics: TopicNames;
  dlqProducer: () => Promise<TransactionalProducer>;
  telemetry: Telemetry;
}

export function createSeatSink(deps: SeatSinkDeps) {
  return async function sinkSeatBatch(batch: IncomingBatch): Promise<void> {
    const started = Date.now();
    const rows = emptyRows();
    const poison: DeadLetter[] = [];
    for (const record of batch.records) {
      try {
        if (!record.value) throw new Error("record has no value");
        const decoded = codecs.copilotSeatSnapshot.decode(record.value);
        addSeatRecord(rows, decoded, { partition: record.partition, offset: record.offset });
        if (decoded.kind === "END") {
          deps.telemetry.snapshotCompleted({
            tenant: decoded.tenant,
            org: decoded.org,
            snapshotId: decoded.snapshot_id,
            rows: decoded.row_count ?? 0,
          });
        }
      } catch (err) {
        const reason = describeError(err);
        deps.telemetry.recordPoisoned({
          topic: batch.topic,
          partition: batch.partition,
          offset: record.offset,
          reason,
        });
        poison.push(
          deadLetter({
            dlqTopic: deps.topics.dlq,
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
    const token = `${batch.topic}/${batch.partition}/${batch.firstOffset}-${batch.lastOffset}`;
    // Rows before markers: a marker never points at rows that are not in yet.
    await deps.ch.insert("copilot_seat_snapshots", rows.seats, `${token}/seats`);
    await deps.ch.insert("copilot_seat_snapshot_markers", rows.markers, `${token}/markers`);
    await deps.ch.insert("copilot_daily_seats", rows.daily, `${token}/daily`);
    if (poison.length > 0) {
      const producer = await deps.dlqProducer();
      await producer.transaction((tx) => tx.send(poison));
    }
    deps.telemetry.batchSunk({
      topic: batch.topic,
      partition: batch.partition,
      firstOffset: batch.firstOffset,
      lastOffset: batch.lastOffset,
      rows: rows.seats.length + rows.markers.length,
      ms: Date.now() - started,
    });
  };
}
