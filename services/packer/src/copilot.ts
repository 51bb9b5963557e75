/**
 * A Copilot pack's content (docs/evidence-pack.md "Layout"): every seat row of every complete
 * snapshot taken in the period, every audit and agent event created in it (one row per event id:
 * FINAL), the agent usage records and the daily seat counts; coverage per org and day; seat KPIs.
 * Ingestion bookkeeping (Kafka partition and offset, ingested_at) stays out: it changes when a
 * record is delivered again, and the pack must depend on the data and the period only.
 */
import { coverage, type DayCount, type EventSpan } from "./coverage.ts";
import { decimal, jsonFile, type ModuleContent } from "./content.ts";
import { DAY_MS, clickhouseTime } from "./period.ts";
import { END, START, inPeriod, jsonLines, rfc3339, smallRows, type LinesQuery, type Scope } from "./sql.ts";

/** Seats without activity for this long before the period's end are idle. */
export const IDLE_DAYS = 30;

/** The columns of each data file's lines (also the benchmark's and the tests'). */
export const SEAT_COLUMNS = [
  "org",
  "scope",
  "snapshot_id",
  "taken_at",
  "seat_id",
  "assignee_pseudonym",
  "assignee_type",
  "organization",
  "assigning_team",
  "plan_type",
  "created_at",
  "pending_cancellation_date",
  "last_activity_at",
  "last_activity_editor",
  "last_authenticated_at",
  "pseudonym_key_id",
];
export const EVENT_COLUMNS = [
  "org",
  "scope",
  "event_id",
  "action",
  "created_at",
  "actor_pseudonym",
  "actor_agent",
  "actor_is_agent",
  "agent_session_id",
  "user_pseudonym",
  "actor_country_code",
  "business",
  "event_org",
  "raw_json",
  "pseudonym_key_id",
];
export const USAGE_COLUMNS = [
  "enterprise",
  "record_id",
  "type",
  "user_pseudonym",
  "enterprise_id",
  "github_request_id",
  "endpoint",
  "created_at",
  "truncated",
  "model",
  "tool_names",
  "body_hmac",
  "body_length",
  "body_digest_json",
  "body",
  "pseudonym_key_id",
];

export async function copilotContent(scope: Scope): Promise<ModuleContent> {
  const t = (name: string): string => scope.ch.table(name);
  const tenant = "tenant = {tenant:String}";
  const complete = `SELECT * FROM ${t("copilot_complete_seat_snapshots")} WHERE ${tenant} AND ${inPeriod("taken_at")}`;

  // Each read of seats is a range of them: the complete snapshots' ids are looked up once.
  const completeIds = (
    await smallRows<{ snapshot_id: string }>(scope, `SELECT snapshot_id FROM (${complete})`)
  ).map((r) => r.snapshot_id);
  const seats: LinesQuery = {
    table: t("copilot_seat_snapshots"),
    where: `${tenant} AND ${inPeriod("taken_at")} AND snapshot_id IN {complete_ids:Array(String)}`,
    columns: SEAT_COLUMNS,
    orderBy: ["org", "taken_at", "snapshot_id", "seat_id"],
    rangeBy: ["org", "snapshot_id", "seat_id"],
    extra: { complete_ids: completeIds },
  };
  const events: LinesQuery = {
    table: t("copilot_audit_events"),
    where: `${tenant} AND ${inPeriod("created_at")}`,
    columns: EVENT_COLUMNS,
    orderBy: ["org", "created_at", "event_id"],
    rangeBy: ["org", "event_id"],
  };
  const usage: LinesQuery = {
    table: t("copilot_usage_records"),
    where: `${tenant} AND ${inPeriod("created_at")}`,
    columns: USAGE_COLUMNS,
    orderBy: ["enterprise", "created_at", "record_id"],
    rangeBy: ["enterprise", "record_id"],
  };
  const daily: LinesQuery = {
    table: t("copilot_daily_seats"),
    where: `${tenant} AND day BETWEEN toDate(${START}) AND toDate(${END})`,
    columns: ["org", "day", "snapshot_id", "taken_at", "seats"],
    orderBy: ["org", "day"],
    rangeBy: ["org"],
  };

  const orgs = await smallRows<{ org: string }>(
    scope,
    `SELECT DISTINCT org FROM (
      SELECT org FROM ${t("copilot_seat_snapshot_markers")} WHERE ${tenant} AND taken_at <= ${END}
      UNION ALL SELECT org FROM ${t("copilot_seat_snapshots")} WHERE ${tenant} AND taken_at <= ${END}
      UNION ALL SELECT org FROM ${t("copilot_audit_events")} WHERE ${tenant} AND created_at <= ${END}
      UNION ALL SELECT enterprise AS org FROM ${t("copilot_usage_records")} WHERE ${tenant} AND created_at <= ${END}
    ) ORDER BY org`,
  );
  const keyIds = await smallRows<{ k: string }>(
    scope,
    `SELECT DISTINCT pseudonym_key_id AS k FROM (
      SELECT pseudonym_key_id FROM ${t("copilot_seat_snapshots")} WHERE ${tenant} AND ${inPeriod("taken_at")}
      UNION ALL SELECT pseudonym_key_id FROM ${t("copilot_audit_events")} WHERE ${tenant} AND ${inPeriod("created_at")}
      UNION ALL SELECT pseudonym_key_id FROM ${t("copilot_usage_records")} WHERE ${tenant} AND ${inPeriod("created_at")}
    ) ORDER BY k`,
  );

  const orgNames = orgs.map((o) => o.org);
  return {
    orgs: orgNames,
    pseudonymKeyIds: keyIds.map((k) => k.k),
    files: [
      { name: "seats.jsonl", source: jsonLines(scope, seats) },
      { name: "events.jsonl", source: jsonLines(scope, events) },
      { name: "usage_records.jsonl", source: jsonLines(scope, usage) },
      { name: "daily_seats.jsonl", source: jsonLines(scope, daily) },
      jsonFile("coverage.json", await copilotCoverage(scope, orgNames, complete)),
      jsonFile("kpis.json", await copilotKpis(scope, orgNames, complete)),
    ],
  };
}

async function copilotCoverage(scope: Scope, orgs: string[], complete: string): Promise<unknown> {
  const t = (name: string): string => scope.ch.table(name);
  const tenant = "tenant = {tenant:String}";
  const day = (column: string): string => `toString(toDate(${column})) AS day`;
  const counts = await smallRows<DayCount>(
    scope,
    `SELECT org, ${day("created_at")}, 'events' AS metric, count() AS n FROM ${t("copilot_audit_events")} FINAL
       WHERE ${tenant} AND ${inPeriod("created_at")} GROUP BY org, day
     UNION ALL SELECT enterprise AS org, ${day("created_at")}, 'usage_records' AS metric, count() AS n
       FROM ${t("copilot_usage_records")} FINAL WHERE ${tenant} AND ${inPeriod("created_at")} GROUP BY org, day
     UNION ALL SELECT org, ${day("taken_at")}, 'seat_snapshots' AS metric, count() AS n FROM (${complete}) GROUP BY org, day
     UNION ALL SELECT org, ${day("taken_at")}, 'seat_rows' AS metric, sum(row_count) AS n FROM (${complete}) GROUP BY org, day`,
  );
  const spans = await smallRows<EventSpan>(
    scope,
    `SELECT org, count() AS events, min(created_at) AS first_at, max(created_at) AS last_at
     FROM ${t("copilot_audit_events")} FINAL WHERE ${tenant} AND ${inPeriod("created_at")} GROUP BY org`,
  );
  const incomplete = await smallRows<{ org: string; metric: string; n: number }>(
    scope,
    `SELECT org, 'seat_snapshots' AS metric, countDistinct(snapshot_id) AS n FROM (
       SELECT org, snapshot_id FROM ${t("copilot_seat_snapshot_markers")} WHERE ${tenant} AND ${inPeriod("taken_at")}
       UNION ALL SELECT org, snapshot_id FROM ${t("copilot_seat_snapshots")} WHERE ${tenant} AND ${inPeriod("taken_at")}
     ) WHERE snapshot_id NOT IN (SELECT snapshot_id FROM (${complete})) GROUP BY org`,
  );
  return coverage({
    period: scope.period,
    orgs,
    metrics: ["events", "usage_records", "seat_snapshots", "seat_rows"],
    snapshotMetrics: ["seat_snapshots"],
    counts,
    spans,
    incomplete,
    notes: [
      "seat_snapshots counts complete seat snapshots (END marker in, every row in); seat_rows their rows.",
      "days_without_complete_snapshot lists the days with no complete seat snapshot: nothing is known about the seats on those days.",
      "incomplete_snapshots counts snapshots of the period whose END marker or rows are missing; their rows are not in the pack.",
      "usage_records are counted under their enterprise.",
    ],
  });
}

async function copilotKpis(scope: Scope, orgs: string[], complete: string): Promise<unknown> {
  const t = (name: string): string => scope.ch.table(name);
  const tenant = "tenant = {tenant:String}";
  // Aliases differ from column names: ClickHouse would read an aliased column as its alias.
  const last = await smallRows<{ org: string; last_id: string; last_at: string; seats: number }>(
    scope,
    `SELECT org, argMax(snapshot_id, (taken_at, snapshot_id)) AS last_id, max(taken_at) AS last_at,
       argMax(row_count, (taken_at, snapshot_id)) AS seats
     FROM (${complete}) GROUP BY org`,
  );
  const idleBefore = scope.period.endMs + 1 - IDLE_DAYS * DAY_MS;
  const idle = await smallRows<{ org: string; n: number }>(
    scope,
    `SELECT org, countIf(last_activity_at IS NULL OR last_activity_at < {idle_before:DateTime64(3, 'UTC')}) AS n
     FROM ${t("copilot_seat_snapshots")} FINAL
     WHERE ${tenant} AND snapshot_id IN {ids:Array(String)} GROUP BY org`,
    { ids: last.map((l) => l.last_id), idle_before: clickhouseTime(idleBefore) },
  );
  const daily = await smallRows<{ org: string; days: number; seat_days: number }>(
    scope,
    `SELECT org, count() AS days, sum(seats) AS seat_days FROM ${t("copilot_daily_seats")} FINAL
     WHERE ${tenant} AND day BETWEEN toDate(${START}) AND toDate(${END}) GROUP BY org`,
  );
  const perOrg = orgs.map((org) => {
    const l = last.find((x) => x.org === org);
    const d = daily.find((x) => x.org === org);
    return {
      org,
      last_snapshot:
        l === undefined
          ? null
          : {
              snapshot_id: l.last_id,
              taken_at: rfc3339(l.last_at),
              seats: l.seats,
              idle_seats: idle.find((x) => x.org === org)?.n ?? 0,
            },
      daily_seats: {
        days: d?.days ?? 0,
        seat_days: d?.seat_days ?? 0,
        average: decimal(d?.seat_days ?? 0, d?.days ?? 0),
      },
    };
  });
  const sum = (f: (o: (typeof perOrg)[number]) => number): number => perOrg.reduce((a, o) => a + f(o), 0);
  return {
    period_start: new Date(scope.period.startMs).toISOString(),
    period_end: new Date(scope.period.endMs).toISOString(),
    orgs: perOrg,
    totals: {
      seats: sum((o) => o.last_snapshot?.seats ?? 0),
      idle_seats: sum((o) => o.last_snapshot?.idle_seats ?? 0),
      seat_days: sum((o) => o.daily_seats.seat_days),
    },
    definitions: {
      seats: "seats in the org's last complete snapshot taken in the period (null: no complete snapshot)",
      idle_seats: `seats of that snapshot with no Copilot activity in the ${IDLE_DAYS} days before the period's end, or never`,
      daily_seats:
        "from the daily seat counts (the last snapshot of each UTC day): days with a count, their sum, and the average per such day as a decimal string",
    },
  };
}
