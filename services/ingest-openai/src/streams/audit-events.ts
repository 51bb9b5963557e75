/**
 * The audit-log streams as windowed cursor streams (`@aiaudit/ingest`): each poll reads from an
 * overlap before the newest event already published, time slice by time slice, oldest first,
 * and publishes each chunk with the advanced cursor and its dedup state in one transaction, so
 * every event id reaches the topic once.
 */
import { codecs, recordKey, type OpenaiAuditEvent } from "@aiaudit/contracts";
import { createWindowedStream, type StreamBase, type WindowedPollResult } from "@aiaudit/ingest";
import type OpenAI from "openai";
import { auditLogChunks } from "../source/audit-logs.ts";
import { toAuditEvent } from "../transforms/audit-event.ts";

export type AuditPollResult = WindowedPollResult;

export interface AuditStreamSettings {
  tenant: string;
  connectionId: string;
  org: string;
  stream: string;
  limit: number;
  maxEvents: number;
  overlapMs: number;
  initialLookbackMs: number;
  /** A time slice was too busy and is read again in halves. */
  onSplit?: (fromMs: number, toMs: number, events: number) => void;
}

/** Events per Kafka transaction. */
const CHUNK = 500;

export function createAuditStream(client: OpenAI, settings: AuditStreamSettings, deps: StreamBase) {
  const now = deps.now ?? Date.now;
  return createWindowedStream<OpenaiAuditEvent>(
    {
      ...settings,
      slug: settings.org,
      pages: (sinceMs) =>
        auditLogChunks(client, {
          sinceMs,
          untilMs: now(),
          limit: settings.limit,
          maxEvents: settings.maxEvents,
          chunk: CHUNK,
          ...(settings.onSplit ? { onSplit: settings.onSplit } : {}),
        }),
      parse(raw, at) {
        const r = toAuditEvent(raw, {
          tenant: settings.tenant,
          org: settings.org,
          pseudonymizer: deps.pseudonymizer,
          now: at,
        });
        return r.ok
          ? { ok: true, value: r.event, id: r.event.event_id, at: r.event.effective_at }
          : { ok: false, reason: r.reason, id: r.id, at: r.at };
      },
      toRecords: (events) =>
        events.map((event) => ({
          topic: deps.topics.openaiAuditEvents,
          key: recordKey(settings.tenant, settings.org, event.event_id),
          value: codecs.openaiAuditEvent.encode(event),
        })),
      source: "openai:GET /organization/audit_logs",
      topic: deps.topics.openaiAuditEvents,
      kind: "openai-audit-log",
    },
    deps,
  );
}
