/**
 * The audit-event streams (Copilot actions, agent actions): each poll reads from an overlap
 * window before the newest event already published, skips the ids it has already published
 * (kept in the cursor for the window), and publishes page by page, each page with its cursor
 * in one transaction. A restart resumes from the last committed cursor: exactly once.
 */
import type { CopilotAuditEvent, StreamCursor, TopicNames } from "@aiaudit/contracts";
import { pseudonymizeDeep, type Pseudonymizer } from "@aiaudit/crypto";
import type { TransactionalProducer } from "@aiaudit/kafka";
import { publishEventPage } from "../sinks/event-publisher.ts";
import { auditLogPages } from "../source/audit-log.ts";
import { cursorKey, parseAuditCursor, type AuditCursor } from "../source/cursors.ts";
import type { GithubClient } from "../source/github-client.ts";
import type { Telemetry } from "../telemetry.ts";
import { toAuditEvent } from "../transforms/audit-event.ts";

export interface AuditStreamSettings {
  tenant: string;
  /** Connection id: scopes the cursor (an org and an enterprise may share a slug). */
  connectionId: string;
  slug: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  /** Cursor name, e.g. copilot.audit-events. */
  stream: string;
  phrase: string;
  perPage: number;
  /** How far before the newest published event each poll starts again, ms. */
  overlapMs: number;
  /** Where a stream without a cursor starts, ms before now. */
  initialLookbackMs: number;
  /** Events another stream publishes (e.g. agent events that are also copilot.* actions). */
  skip?: (event: CopilotAuditEvent) => boolean;
}

export interface AuditStreamDeps {
  github: GithubClient;
  producer: () => Promise<TransactionalProducer>;
  topics: TopicNames;
  pseudonymizer: Pseudonymizer;
  telemetry: Telemetry;
  /** Last committed cursors, updated after each committed page. */
  cursors: Map<string, StreamCursor>;
  now?: () => number;
}

export interface AuditPollResult {
  pages: number;
  published: number;
  duplicates: number;
  rejected: number;
}

export function createAuditStream(settings: AuditStreamSettings, deps: AuditStreamDeps) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(settings.tenant, settings.connectionId, settings.stream);

  return async function pollAuditEvents(): Promise<AuditPollResult> {
    const started = now();
    const state: AuditCursor = parseAuditCursor(deps.cursors.get(key)) ?? {
      highWaterMs: started - settings.initialLookbackMs,
      seen: {},
    };
    const result: AuditPollResult = { pages: 0, published: 0, duplicates: 0, rejected: 0 };
    const ctx = { tenant: settings.tenant, org: settings.slug, scope: settings.scope, pseudonymizer: deps.pseudonymizer, now: started };
    const pages = auditLogPages(deps.github, {
      scope: settings.scope,
      slug: settings.slug,
      phrase: settings.phrase,
      sinceMs: state.highWaterMs - settings.overlapMs,
      perPage: settings.perPage,
    });
    // Fetch the next page while this one is published: the HTTP round trip and the Kafka
    // transaction overlap. Nothing is committed ahead: the cursor moves only with its page.
    let next = pages.next();
    for (;;) {
      const current = await next;
      if (current.done) break;
      next = pages.next();
      next.catch(() => undefined); // a failure surfaces when the loop awaits it
      const page = current.value;
      result.pages += 1;
      const events: CopilotAuditEvent[] = [];
      const rejected = [];
      for (const raw of page) {
        const parsed = toAuditEvent(raw, ctx);
        const id = parsed.ok ? parsed.event.event_id : parsed.id;
        const at = parsed.ok ? parsed.event.created_at : parsed.timestamp;
        if (id !== undefined && state.seen[id] !== undefined) {
          result.duplicates += 1;
          continue;
        }
        if (id !== undefined && at !== undefined) {
          state.seen[id] = at;
          state.highWaterMs = Math.max(state.highWaterMs, at);
        }
        if (!parsed.ok) {
          deps.telemetry.recordRejected({ org: settings.slug, stream: settings.stream, reason: parsed.reason });
          rejected.push({
            key: `${settings.tenant}/${settings.slug}/${id ?? `unidentified-${started}-${result.rejected}`}`,
            payload: pseudonymizeDeep(raw, deps.pseudonymizer),
            reason: parsed.reason,
          });
          continue;
        }
        if (settings.skip?.(parsed.event)) continue;
        events.push(parsed.event);
      }
      if (events.length === 0 && rejected.length === 0) continue;
      for (const [id, at] of Object.entries(state.seen)) {
        if (at < state.highWaterMs - settings.overlapMs) delete state.seen[id];
      }
      const cursor: StreamCursor = {
        tenant: settings.tenant,
        connection: settings.connectionId,
        stream: settings.stream,
        cursor: JSON.stringify(state),
        last_snapshot_id: null,
        updated_at: now(),
      };
      await publishEventPage(await deps.producer(), deps.topics, {
        tenant: settings.tenant,
        org: settings.slug,
        events,
        rejected,
        cursorKey: key,
        cursor,
        source: `github:GET ${settings.scope === "ENTERPRISE" ? "/enterprises" : "/orgs"}/${settings.slug}/audit-log`,
      });
      deps.cursors.set(key, cursor);
      result.published += events.length;
      result.rejected += rejected.length;
    }
    deps.telemetry.streamPolled({ org: settings.slug, stream: settings.stream, ...result, ms: now() - started });
    return result;
  };
}
