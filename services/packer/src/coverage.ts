/**
 * coverage.json: what was collected, day by day, so a pack proves completeness and not only
 * integrity (docs/design.md §5). Every UTC day of the period is listed for every org, zeros
 * included, and the days without a complete snapshot are named: a gap is stated, never hidden.
 * Pure: it pivots the aggregates the module's queries return.
 */
import { compareCodePoints } from "@aiaudit/evidence-pack";
import { utcDays, type Period } from "./period.ts";
import { rfc3339 } from "./sql.ts";

/** One aggregate: `n` of `metric` for `org` on `day` (YYYY-MM-DD). */
export interface DayCount {
  org: string;
  day: string;
  metric: string;
  n: number;
}

export interface EventSpan {
  org: string;
  events: number;
  first_at: string;
  last_at: string;
}

export interface CoverageInput {
  period: Period;
  orgs: readonly string[];
  /** Every metric a day reports, in this order. */
  metrics: readonly string[];
  /** The metrics counting complete snapshots: a day where one is 0 is a gap. */
  snapshotMetrics: readonly string[];
  counts: readonly DayCount[];
  spans: readonly EventSpan[];
  /** Snapshots in the period whose END marker or rows are missing, by org and snapshot metric. */
  incomplete: readonly { org: string; metric: string; n: number }[];
  /** What the module's metrics mean (after the note on days every pack has). */
  notes: readonly string[];
}

const DAYS_NOTE = "Days are UTC days; every day of the period is listed for every org, zeros included.";

export function coverage(input: CoverageInput): Record<string, unknown> {
  const days = utcDays(input.period);
  const count = new Map(input.counts.map((c) => [`${c.org}\n${c.day}\n${c.metric}`, c.n]));
  const orgs = [...new Set(input.orgs)].sort(compareCodePoints).map((org) => {
    const perDay = days.map((day) => {
      const entry: Record<string, number | string> = { day };
      for (const metric of input.metrics) entry[metric] = count.get(`${org}\n${day}\n${metric}`) ?? 0;
      return entry;
    });
    const gaps = Object.fromEntries(
      input.snapshotMetrics.map((metric) => [
        metric,
        perDay.filter((d) => d[metric] === 0).map((d) => d.day as string),
      ]),
    );
    const incomplete = Object.fromEntries(
      input.snapshotMetrics.map((metric) => [
        metric,
        input.incomplete.find((i) => i.org === org && i.metric === metric)?.n ?? 0,
      ]),
    );
    const span = input.spans.find((s) => s.org === org);
    return {
      org,
      events: {
        total: span?.events ?? 0,
        first_at: span ? String(rfc3339(span.first_at)) : null,
        last_at: span ? String(rfc3339(span.last_at)) : null,
      },
      days: perDay,
      days_without_complete_snapshot: gaps,
      incomplete_snapshots: incomplete,
    };
  });
  return {
    period_start: new Date(input.period.startMs).toISOString(),
    period_end: new Date(input.period.endMs).toISOString(),
    days: days.length,
    orgs,
    notes: [DAYS_NOTE, ...input.notes],
  };
}
