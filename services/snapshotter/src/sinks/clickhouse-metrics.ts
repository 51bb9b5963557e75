/** ClickHouse sink for the Copilot usage-metrics topic: one row per report row, same delivery rules as the seat sink. */
import { codecs } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { batchToken, decodeBatch } from "./decode.ts";
import type { SinkDeps } from "./types.ts";

export function createMetricsSink(deps: SinkDeps) {
  return async function sinkMetricsBatch(batch: IncomingBatch): Promise<void> {
    const { values, poison } = decodeBatch(batch, codecs.copilotMetricsRow, deps.topics, deps.telemetry);
    const rows = values.map(({ value }) => ({
      ...value,
      ingested_at: new Date(value.ingested_at).toISOString(),
    }));
    await deps.ch.insert("copilot_metrics_rows", rows, batchToken(batch, "metrics"));
    await deps.deadLetters(poison);
  };
}
