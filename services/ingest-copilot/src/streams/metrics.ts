/**
 * The usage-metrics stream: for each daily report, every day after the last one published, up
 * to yesterday (UTC), is fetched through its download links and published whole, with the
 * cursor, in one transaction. A day without a report is retried while it is recent (reports come
 * with a delay) and skipped once it is older than REPORT_DELAY_DAYS.
 */
import {
  codecs,
  cursorKey,
  metricsCursorSchema,
  parseCursor,
  recordKey,
  type CopilotMetricsRow,
  type MetricsCursor,
  type StreamCursor,
} from "@aiaudit/contracts";
import { pseudonymizeDeep } from "@aiaudit/crypto";
import { fetchDailyReport } from "../source/metrics-reports.ts";
import { decodeCursor, publishWithCursor, withCommittedState } from "@aiaudit/ingest";
import type { StreamDeps } from "./types.ts";

export const METRICS_STREAM = "copilot.metrics";
const DAY_MS = 86_400_000;
const REPORT_DELAY_DAYS = 3;

export interface MetricsStreamSettings {
  tenant: string;
  connectionId: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  /** Days read back by a connection without a cursor. */
  initialLookbackDays: number;
  timeoutMs: number;
}

export type MetricsStreamDeps = StreamDeps;

export interface MetricsPollResult {
  days: number;
  rows: number;
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function createMetricsStream(settings: MetricsStreamSettings, deps: MetricsStreamDeps) {
  const now = deps.now ?? Date.now;
  const key = cursorKey(settings.tenant, settings.connectionId, METRICS_STREAM);
  const reports =
    settings.scope === "ENTERPRISE"
      ? ["enterprise-1-day", "users-1-day"]
      : ["organization-1-day", "users-1-day"];

  function toRow(report: string, day: string, raw: unknown, index: number, at: number): CopilotMetricsRow {
    const login = (raw as { user_login?: unknown }).user_login;
    const user = typeof login === "string" ? deps.pseudonymizer.pseudonym(login) : null;
    return {
      row_id: `${report}/${day}/${user ?? index}`,
      tenant: settings.tenant,
      org: settings.slug,
      scope: settings.scope,
      report,
      day,
      user_pseudonym: user,
      row_json: JSON.stringify(pseudonymizeDeep(raw, deps.pseudonymizer, "metrics-row")),
      pseudonym_key_id: deps.pseudonymizer.keyId,
      ingested_at: at,
    };
  }

  function restore(records: ReadonlyMap<string, Buffer>): MetricsCursor {
    const previous = decodeCursor(records, key);
    return previous ? parseCursor(metricsCursorSchema, previous) : {};
  }

  return withCommittedState(deps.loadCursors, restore, async (stored, committed) => {
    const started = now();
    const done: MetricsCursor = { ...stored };
    const result: MetricsPollResult = { days: 0, rows: 0 };
    const yesterday = Date.parse(isoDay(started - DAY_MS));
    for (const report of reports) {
      const last = done[report];
      let dayMs = last ? Date.parse(last) + DAY_MS : yesterday - (settings.initialLookbackDays - 1) * DAY_MS;
      for (; dayMs <= yesterday; dayMs += DAY_MS) {
        const day = isoDay(dayMs);
        const rows = await fetchDailyReport(
          deps.github,
          { scope: settings.scope, slug: settings.slug, report, day },
          settings.timeoutMs,
        );
        if (rows === undefined && started - dayMs < REPORT_DELAY_DAYS * DAY_MS) break; // not out yet: next poll
        done[report] = day;
        const cursor: StreamCursor = {
          tenant: settings.tenant,
          connection: settings.connectionId,
          stream: METRICS_STREAM,
          cursor: JSON.stringify(done),
          last_snapshot_id: null,
          updated_at: now(),
        };
        const records = (rows ?? []).map((raw, i) => {
          const row = toRow(report, day, raw, i, started);
          return {
            topic: deps.topics.copilotMetrics,
            key: recordKey(settings.tenant, settings.slug, row.row_id),
            value: codecs.copilotMetricsRow.encode(row),
          };
        });
        await publishWithCursor(deps.producer, deps.topics, records, { key, cursor });
        committed({ ...done });
        result.days += 1;
        result.rows += records.length;
      }
    }
    deps.telemetry.streamPolled({
      org: settings.slug,
      stream: METRICS_STREAM,
      pages: result.days,
      published: result.rows,
      duplicates: 0,
      rejected: 0,
      ms: now() - started,
    });
    return result;
  });
}
