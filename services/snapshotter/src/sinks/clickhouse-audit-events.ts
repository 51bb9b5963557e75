/** ClickHouse sink for the Copilot audit-event topic: one row per event, same delivery rules as the seat sink. */
import { codecs } from "@aiaudit/contracts";
import type { IncomingBatch } from "@aiaudit/kafka";
import { timestampRow } from "../transforms/event-rows.ts";
import { batchToken, decodeBatch } from "./decode.ts";
import type { SinkDeps } from "./types.ts";

export function createAuditEventSink(deps: SinkDeps) {
  return async function sinkAuditEventBatch(batch: IncomingBatch): Promise<void> {
    const { values, poison } = decodeBatch(batch, codecs.copilotAuditEvent, deps.topics, deps.telemetry);
    await deps.ch.insert(
      "copilot_audit_events",
      values.map(({ value }) => timestampRow(value)),
      batchToken(batch, "events"),
    );
    await deps.deadLetters(poison);
  };
}
