/**
 * The audit-event streams (Copilot actions with phrase action:copilot, agent actions with
 * actor:Copilot) of an organization or enterprise audit log, as windowed cursor streams.
 */
import { codecs, recordKey, type CopilotAuditEvent } from "@aiaudit/contracts";
import { auditLogPages } from "../source/audit-log.ts";
import type { StreamDeps } from "./types.ts";
import { toAuditEvent } from "../transforms/audit-event.ts";
import { createWindowedStream, type WindowedPollResult } from "@aiaudit/ingest";

export type AuditPollResult = WindowedPollResult;

export interface AuditStreamSettings {
  tenant: string;
  connectionId: string;
  slug: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  stream: string;
  phrase: string;
  perPage: number;
  overlapMs: number;
  initialLookbackMs: number;
  skip?: (event: CopilotAuditEvent) => boolean;
}

export function createAuditStream(settings: AuditStreamSettings, deps: StreamDeps) {
  const ctx = {
    tenant: settings.tenant,
    org: settings.slug,
    scope: settings.scope,
    pseudonymizer: deps.pseudonymizer,
  };
  return createWindowedStream<CopilotAuditEvent>(
    {
      ...settings,
      pages: (sinceMs) =>
        auditLogPages(deps.github, {
          scope: settings.scope,
          slug: settings.slug,
          phrase: settings.phrase,
          sinceMs,
          perPage: settings.perPage,
        }),
      parse(raw, now) {
        const r = toAuditEvent(raw, { ...ctx, now });
        return r.ok
          ? { ok: true, value: r.event, id: r.event.event_id, at: r.event.created_at }
          : { ok: false, reason: r.reason, id: r.id, at: r.timestamp };
      },
      toRecords: (events) =>
        events.map((event) => ({
          topic: deps.topics.copilotAuditEvents,
          key: recordKey(settings.tenant, settings.slug, event.event_id),
          value: codecs.copilotAuditEvent.encode(event),
        })),
      source: `github:GET ${settings.scope === "ENTERPRISE" ? "/enterprises" : "/orgs"}/${settings.slug}/audit-log`,
      topic: deps.topics.copilotAuditEvents,
      kind: "audit-event",
    },
    deps,
  );
}
