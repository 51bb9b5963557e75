/**
 * The observable events of ingest-openai (docs/conventions.md §8): those of every ingest service
 * (`@aiaudit/ingest`, metrics `aiaudit_ingest_openai_*`) and OpenAI's own.
 */
import type { Registry } from "prom-client";
import { ingestTelemetry } from "@aiaudit/ingest";
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger, registry?: Registry) {
  return {
    ...ingestTelemetry("ingest-openai", log, registry),
    auditSliceSplit(fields: { org: string; from: string; to: string; events: number }) {
      log.info(
        { event: "audit_slice_split", ...fields },
        "an audit-log time slice held more events than AUDIT_SLICE_MAX_EVENTS: read again in halves",
      );
    },
    auditLogDisabled(fields: { connection: string }) {
      log.warn(
        { event: "audit_log_disabled", ...fields },
        "audit logging is switched off in the organization's settings: no audit events until it is switched on",
      );
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
