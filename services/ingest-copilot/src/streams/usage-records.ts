/**
 * The usage-record stream of an enterprise, as a windowed cursor stream. GitHub keeps usage
 * records for about 48 hours: when the last successful poll is older than 36 hours the stream
 * warns, and past 48 hours records may already be gone, which it reports as an error.
 */
import { codecs, recordKey, type CopilotUsageRecord } from "@aiaudit/contracts";
import type { StreamDeps } from "./types.ts";
import { usageRecordPages } from "../source/usage-records.ts";
import { toUsageRecord } from "../transforms/usage-record.ts";
import { createWindowedStream, type WindowedPollResult } from "@aiaudit/ingest";

export const USAGE_WINDOW_MS = 48 * 3_600_000;
export const USAGE_WARN_AFTER_MS = 36 * 3_600_000;

export interface UsageStreamSettings {
  tenant: string;
  connectionId: string;
  enterprise: string;
  keepContent: boolean;
  overlapMs: number;
}

export function createUsageRecordStream(settings: UsageStreamSettings, deps: StreamDeps) {
  const now = deps.now ?? Date.now;
  const poll = createWindowedStream<CopilotUsageRecord>(
    {
      tenant: settings.tenant,
      connectionId: settings.connectionId,
      slug: settings.enterprise,
      stream: "copilot.usage-records",
      overlapMs: settings.overlapMs,
      // Everything GitHub still has.
      initialLookbackMs: USAGE_WINDOW_MS,
      pages: (sinceMs) => usageRecordPages(deps.github, settings.enterprise, sinceMs),
      parse(raw, at) {
        const r = toUsageRecord(raw, {
          tenant: settings.tenant,
          enterprise: settings.enterprise,
          pseudonymizer: deps.pseudonymizer,
          keepContent: settings.keepContent,
          now: at,
        });
        return r.ok
          ? { ok: true, value: r.record, id: r.record.record_id, at: r.record.created_at }
          : { ok: false, reason: r.reason, id: r.id, at: r.timestamp };
      },
      toRecords: (records) =>
        records.map((record) => ({
          topic: deps.topics.copilotUsageRecords,
          key: recordKey(settings.tenant, settings.enterprise, record.record_id),
          value: codecs.copilotUsageRecord.encode(record),
        })),
      source: `github:GET /enterprises/${settings.enterprise}/copilot/usage-records`,
      topic: deps.topics.copilotUsageRecords,
      kind: "usage-record",
    },
    deps,
  );
  return async function pollUsageRecords(): Promise<WindowedPollResult> {
    const result = await poll();
    if (result.previousPollAt !== undefined) {
      const gapMs = now() - result.previousPollAt;
      if (gapMs > USAGE_WARN_AFTER_MS) {
        deps.telemetry.usageWindowAtRisk({
          enterprise: settings.enterprise,
          gapHours: Math.round(gapMs / 3_600_000),
          lost: gapMs > USAGE_WINDOW_MS,
        });
      }
    }
    return result;
  };
}
