/** ClickHouse sink for the Copilot usage-record topic: one row per record, same delivery rules as the seat sink. */
import { codecs } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { timestampRow } from "../transforms/event-rows.ts";
import { batchToken, decodeBatch } from "./decode.ts";
import type { SinkDeps } from "./types.ts";

export function createUsageRecordSink(deps: SinkDeps) {
  return async function sinkUsageRecordBatch(batch: IncomingBatch): Promise<void> {
    const { values, poison } = decodeBatch(batch, codecs.copilotUsageRecord, deps.topics, deps.telemetry);
    await deps.ch.insert(
      "copilot_usage_records",
      values.map(({ value }) => timestampRow(value)),
      batchToken(batch, "usage"),
    );
    await deps.deadLetters(poison);
  };
}
