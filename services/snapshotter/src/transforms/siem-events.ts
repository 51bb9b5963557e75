/**
 * A data topic's record as the event a SIEM destination gets (docs/siem.md), and a destination's
 * filters. Pure: the forwarder decodes nothing itself.
 *
 * Snapshot markers (BEGIN, END, UNCHANGED) are how the topics frame a snapshot for ClickHouse; a
 * SIEM gets the rows. Every event keeps a stable id (the record's own), so a receiver that sees a
 * batch twice (a crash before the commit) can drop the repeat.
 */
import { codecs, type DestinationRecord, type OpenaiEntity, type TopicNames } from "@aiaudit/contracts";
import type { ForwardedEvent } from "../sinks/siem/types.ts";

const OPENAI_KINDS: Record<OpenaiEntity, string> = {
  USERS: "user",
  PROJECTS: "project",
  SERVICE_ACCOUNTS: "service_account",
  PROJECT_API_KEYS: "api_key",
  ADMIN_API_KEYS: "api_key",
};

/**
 * The event of one record of `topic`, or null for what is not forwarded (snapshot markers).
 * Throws when the value does not decode (the ClickHouse sink sends such records to the dead-letter
 * topic; the forwarder only counts them).
 */
export function forwardedEvent(topics: TopicNames, topic: string, value: Buffer): ForwardedEvent | null {
  switch (topic) {
    case topics.copilotAuditEvents: {
      const e = codecs.copilotAuditEvent.decode(value);
      return event(e, {
        id: e.event_id,
        time: e.created_at,
        module: "copilot",
        kind: "audit_event",
        eventType: e.action,
      });
    }
    case topics.copilotSeats: {
      const r = codecs.copilotSeatSnapshot.decode(value);
      if (r.kind !== "ROW" || r.seat === null) return null;
      const { tenant, org, scope, snapshot_id, taken_at, pseudonym_key_id, seat } = r;
      const data = { tenant, org, scope, snapshot_id, taken_at, pseudonym_key_id, ...seat };
      return event(data, {
        id: `${r.snapshot_id}/${seat.seat_id}`,
        time: r.taken_at,
        module: "copilot",
        kind: "seat",
      });
    }
    case topics.copilotUsageRecords: {
      const u = codecs.copilotUsageRecord.decode(value);
      const fields = {
        id: u.record_id,
        time: u.created_at,
        module: "copilot",
        kind: "usage_record",
      } as const;
      return event({ ...u, org: u.enterprise }, fields);
    }
    case topics.copilotMetrics: {
      const m = codecs.copilotMetricsRow.decode(value);
      return event(m, {
        id: m.row_id,
        time: Date.parse(`${m.day}T00:00:00Z`),
        module: "copilot",
        kind: "metrics_row",
      });
    }
    case topics.openaiUsers:
    case topics.openaiProjects:
    case topics.openaiServiceAccounts:
    case topics.openaiApiKeys: {
      const r = codecs.openaiSnapshot.decode(value);
      const row = r.user ?? r.project ?? r.service_account ?? r.api_key;
      if (r.kind !== "ROW" || row === null) return null;
      const { tenant, org, entity, snapshot_id, taken_at, pseudonym_key_id } = r;
      const snapshot = { tenant, org, entity, snapshot_id, taken_at, pseudonym_key_id };
      const rowId =
        r.user?.user_id ??
        r.project?.project_id ??
        r.service_account?.service_account_id ??
        r.api_key?.key_id;
      return event(
        { ...snapshot, ...row },
        { id: `${r.snapshot_id}/${rowId}`, time: r.taken_at, module: "openai", kind: OPENAI_KINDS[r.entity] },
      );
    }
    case topics.openaiAuditEvents: {
      const e = codecs.openaiAuditEvent.decode(value);
      return event(e, {
        id: e.event_id,
        time: e.effective_at,
        module: "openai",
        kind: "audit_event",
        eventType: e.type,
      });
    }
    default:
      return null;
  }
}

function event(
  data: { tenant: string; org: string } & object,
  fields: Pick<ForwardedEvent, "id" | "time" | "module" | "kind"> & { eventType?: string },
): ForwardedEvent {
  return {
    ...fields,
    eventType: fields.eventType ?? null,
    tenant: data.tenant,
    org: data.org,
    data: { ...data },
  };
}

/** Whether `destination` takes `event`: its tenant's, and through each filter that is set. */
export function destinationTakes(destination: DestinationRecord, event: ForwardedEvent): boolean {
  if (event.tenant !== destination.tenant) return false;
  if (destination.modules.length > 0 && !destination.modules.includes(event.module)) return false;
  if (destination.kinds.length > 0 && !destination.kinds.includes(event.kind)) return false;
  if (destination.event_types.length === 0 || event.eventType === null) return true;
  const type = event.eventType;
  return destination.event_types.some((pattern) => {
    if (pattern.endsWith("*")) return type.startsWith(pattern.slice(0, -1));
    if (pattern.endsWith(".")) return type.startsWith(pattern);
    return type === pattern;
  });
}
