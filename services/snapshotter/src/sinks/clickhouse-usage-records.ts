/** ClickHouse sink for the Copilot usage-record topic: one row per record (schemas/clickhouse/003). */
import { codecs } from "@aiaudit/contracts";
import { usageRecordRows } from "../transforms/event-rows.ts";
import { createClickHouseSink } from "./clickhouse-sink.ts";
import type { SinkDeps } from "./types.ts";

export function createUsageRecordSink(deps: SinkDeps) {
  return createClickHouseSink(deps, {
    codec: codecs.copilotUsageRecord,
    tables: ["copilot_usage_records"],
    rows: (record, _record, now) => usageRecordRows(record, now),
  });
}
