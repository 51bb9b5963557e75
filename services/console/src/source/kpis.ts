/**
 * A module's key figures (view kpi_summary, docs/analyst-views.md) and the day series the dashboard
 * charts: seats, events and agent activity per day for Copilot; users and events per day for OpenAI.
 */
import type { ClickHouse } from "@aiaudit/clickhouse";
import type { Module } from "./tables.ts";

/** kpi_summary's module column. */
const KPI_MODULE: Record<Module, string> = { copilot: "copilot", openai: "openai_admin" };

export interface Kpi {
  name: string;
  label: string;
  /** null: not known yet — external users before the tenant has set its own email domains. */
  value: number | null;
  /** A figure that asks for action when above 0 (idle seats, stale keys…). */
  alert: boolean;
}

const FIGURES: Record<Module, readonly { name: string; label: string; alert?: true }[]> = {
  copilot: [
    { name: "connected_orgs", label: "Connected orgs" },
    { name: "seats", label: "Seats" },
    { name: "idle_seats", label: "Idle seats", alert: true },
    { name: "never_used_seats", label: "Never used", alert: true },
    { name: "pending_cancellation_seats", label: "Pending cancellation" },
    { name: "events_this_month", label: "Events this month" },
  ],
  openai: [
    { name: "connected_orgs", label: "Connected orgs" },
    { name: "users", label: "Users" },
    { name: "external_users", label: "External users", alert: true },
    { name: "active_projects", label: "Active projects" },
    { name: "keys", label: "API keys" },
    { name: "stale_keys", label: "Stale keys", alert: true },
    { name: "orphan_keys", label: "Orphan keys", alert: true },
    { name: "events_this_month", label: "Events this month" },
  ],
};

/** The module's figures; 0 when the tenant has nothing of it yet, null when it cannot be told. */
export async function kpis(ch: ClickHouse, tenant: string, module: Module): Promise<Kpi[]> {
  const [row] = await ch.rows<Record<string, string | number | null>>(
    `SELECT * FROM ${ch.table("kpi_summary")} WHERE tenant = {tenant:String} AND module = {module:String}`,
    { tenant, module: KPI_MODULE[module] },
  );
  return FIGURES[module].map((f) => ({
    name: f.name,
    label: f.label,
    value: row === undefined ? 0 : row[f.name] === null ? null : Number(row[f.name]),
    alert: f.alert === true,
  }));
}

export interface Series {
  name: string;
  label: string;
  points: { day: string; value: number }[];
}

/** Days of the series: the last 30 UTC days up to today. */
export const SERIES_DAYS = 30;

const DAYS = `day >= today() - ${SERIES_DAYS - 1}`;

/** The module's day series, oldest day first; a day without data is absent (the chart shows a gap). */
export async function series(ch: ClickHouse, tenant: string, module: Module): Promise<Series[]> {
  const t = (name: string): string => ch.table(name);
  const queries: { name: string; label: string; sql: string }[] =
    module === "copilot"
      ? [
          {
            name: "seats",
            label: "Seats per day",
            sql: `SELECT day, sum(seats) AS value FROM (
                    SELECT org, day, argMax(seats, taken_at) AS seats FROM ${t("copilot_daily_seats")} FINAL
                    WHERE tenant = {tenant:String} GROUP BY org, day) WHERE ${DAYS} GROUP BY day`,
          },
          {
            name: "events",
            label: "Audit events per day",
            sql: `SELECT toDate(created_at) AS day, count() AS value FROM ${t("copilot_audit_events")} FINAL
                  WHERE tenant = {tenant:String} AND ${DAYS} GROUP BY day`,
          },
          {
            name: "agent_activity",
            label: "Agent events per day",
            sql: `SELECT day, sum(events) AS value FROM ${t("copilot_agent_activity_daily")}
                  WHERE tenant = {tenant:String} AND ${DAYS} GROUP BY day`,
          },
        ]
      : [
          {
            name: "users",
            label: "Users per day",
            sql: `SELECT toDate(taken_at) AS day, uniqExact(org, user_id) AS value FROM ${t("openai_users")} FINAL
                  WHERE tenant = {tenant:String} AND NOT is_service_account AND ${DAYS}
                    AND snapshot_id IN (SELECT snapshot_id FROM ${t("openai_complete_snapshots")} WHERE tenant = {tenant:String})
                  GROUP BY day`,
          },
          {
            name: "events",
            label: "Audit events per day",
            sql: `SELECT toDate(effective_at) AS day, count() AS value FROM ${t("openai_audit_events")} FINAL
                  WHERE tenant = {tenant:String} AND ${DAYS} GROUP BY day`,
          },
        ];
  return Promise.all(
    queries.map(async (q) => ({
      name: q.name,
      label: q.label,
      points: (
        await ch.rows<{ day: string; value: string | number }>(`${q.sql} ORDER BY day`, { tenant })
      ).map((p) => ({ day: p.day, value: Number(p.value) })),
    })),
  );
}
