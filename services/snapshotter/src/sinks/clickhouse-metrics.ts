/** ClickHouse sink for the Copilot usage-metrics topic: one row per report row (schemas/clickhouse/004). */
import { codecs } from "@aiaudit/contracts";
import { metricsRowRows } from "../transforms/event-rows.ts";
import { createClickHouseSink } from "./clickhouse-sink.ts";
import type { SinkDeps } from "./types.ts";

export function createMetricsSink(deps: SinkDeps) {
  return createClickHouseSink(deps, {
    codec: codecs.copilotMetricsRow,
    tables: ["copilot_metrics_rows"],
    rows: (row, _record, now) => metricsRowRows(row, now),
  });
}
