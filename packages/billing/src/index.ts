/**
 * A tenant's bill for a range of days (docs/billing.md, docs/design.md §7), from the daily counts
 * of the views `copilot_billing_days` and `openai_billing_days` (schemas/clickhouse/007_billing.sql):
 * each module's daily count summed over the days and divided by the number of days, rounded up,
 * times its price. Integer arithmetic throughout (counts, cents): 30 seats from Jan 1 and 35 from
 * Jan 15 are 1,015 seat-days over 31 days, 32.74 on average, 33 billable seats, €33.00 exactly.
 * The same figures are shown by `aiaudit billing` and written into each pack's kpis.json.
 */
import type { ClickHouse } from "@aiaudit/clickhouse";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

export interface Prices {
  /** ISO 4217 code the prices are in. */
  currency: string;
  /** Per billable Copilot seat and month, in cents. */
  copilotSeatCents: number;
  /** Per billable OpenAI user and month, in cents. */
  openaiUserCents: number;
  /** Per billable active OpenAI project and month, in cents. */
  openaiProjectCents: number;
}

export const DEFAULT_PRICES: Prices = {
  currency: "EUR",
  copilotSeatCents: 100,
  openaiUserCents: 100,
  openaiProjectCents: 500,
};

/** An inclusive range of UTC days, `YYYY-MM-DD`. */
export interface DayRange {
  from: string;
  to: string;
}

/** One count averaged over the days: what a line of the bill says. */
export interface Averaged {
  /** The daily counts summed (seat-days, user-days, …). */
  total: number;
  /** total / days, two decimals, as a string (a pack's JSON holds no fractions). */
  average: string;
  /** The average rounded up: what is billed. */
  billable: number;
  unit_price_cents: number;
  amount_cents: number;
}

export interface CopilotBill {
  /** The billing units (GitHub enterprises and stand-alone organizations) with a snapshot. */
  units: string[];
  seats: Averaged;
  /** Days on which at least one unit's count was carried forward from an earlier snapshot. */
  carried_days: number;
  /** Days on which a unit had no snapshot yet (counted as 0). */
  days_without_snapshot: number;
}

export interface OpenaiBill {
  /** The OpenAI organizations with a snapshot. */
  orgs: string[];
  users: Averaged;
  active_projects: Averaged;
  carried_days: number;
  days_without_snapshot: number;
}

export interface Bill {
  tenant: string;
  from: string;
  to: string;
  days: number;
  currency: string;
  copilot: CopilotBill;
  openai: OpenaiBill;
  total_cents: number;
}

const DAY = /^(\d{4})-(\d{2})-(\d{2})$/;
const MONTH = /^(\d{4})-(\d{2})$/;

/** The days of a calendar month, `YYYY-MM`. */
export function monthDays(month: string): DayRange {
  const m = MONTH.exec(month);
  const monthNumber = Number(m?.[2]);
  if (!m || monthNumber < 1 || monthNumber > 12) {
    throw new AiauditError(ErrorCodes.REQUEST_INVALID, `month ${JSON.stringify(month)} is not YYYY-MM`);
  }
  const last = new Date(Date.UTC(Number(m[1]), monthNumber, 0)).getUTCDate();
  return { from: `${month}-01`, to: `${month}-${String(last).padStart(2, "0")}` };
}

/** The number of days of an inclusive range; throws on a malformed or reversed one. */
export function dayCount(range: DayRange): number {
  const from = DAY.test(range.from) ? Date.parse(`${range.from}T00:00:00Z`) : NaN;
  const to = DAY.test(range.to) ? Date.parse(`${range.to}T00:00:00Z`) : NaN;
  if (!Number.isFinite(from) || !Number.isFinite(to) || to < from) {
    throw new AiauditError(
      ErrorCodes.REQUEST_INVALID,
      `${range.from} .. ${range.to} is not a range of days (YYYY-MM-DD, from not after to)`,
    );
  }
  return (to - from) / 86_400_000 + 1;
}

/** A sum of daily counts averaged over `days`, rounded up (in integers: no float rounding), priced. */
export function averaged(total: number, days: number, unitPriceCents: number): Averaged {
  const billable = Math.floor(total / days) + (total % days === 0 ? 0 : 1);
  return {
    total,
    average: (Math.round((total * 100) / days) / 100).toFixed(2),
    billable,
    unit_price_cents: unitPriceCents,
    amount_cents: billable * unitPriceCents,
  };
}

interface CopilotDay {
  unit: string;
  day: string;
  seats: number;
  snapshot_day: string | null;
  carried: number;
}

interface OpenaiDay {
  org: string;
  day: string;
  users: number;
  active_projects: number;
  snapshot_day: string | null;
  carried: number;
}

/** The tenant's bill for `range` (a month: `monthDays("2026-01")`). */
export async function bill(
  ch: ClickHouse,
  tenant: string,
  range: DayRange,
  prices: Prices = DEFAULT_PRICES,
): Promise<Bill> {
  const days = dayCount(range);
  const params = { tenant, from: range.from, to: range.to };
  const args = "tenant = {tenant:String}, from = {from:Date}, to = {to:Date}";
  const copilotDays = await ch.rows<CopilotDay>(
    `SELECT unit, toString(day) AS day, seats, toString(snapshot_day) AS snapshot_day, carried
     FROM ${ch.table("copilot_billing_days")}(${args})`,
    params,
  );
  const openaiDays = await ch.rows<OpenaiDay>(
    `SELECT org, toString(day) AS day, users, active_projects, toString(snapshot_day) AS snapshot_day, carried
     FROM ${ch.table("openai_billing_days")}(${args})`,
    params,
  );
  const sum = <T>(rows: T[], pick: (row: T) => number) => rows.reduce((n, row) => n + pick(row), 0);
  const daysWhere = <T extends { day: string }>(rows: T[], test: (row: T) => boolean) =>
    new Set(rows.filter(test).map((row) => row.day)).size;
  const copilot: CopilotBill = {
    units: [...new Set(copilotDays.map((d) => d.unit))].sort(),
    seats: averaged(
      sum(copilotDays, (d) => d.seats),
      days,
      prices.copilotSeatCents,
    ),
    carried_days: daysWhere(copilotDays, (d) => d.carried === 1),
    days_without_snapshot: daysWhere(copilotDays, (d) => d.snapshot_day === null),
  };
  const openai: OpenaiBill = {
    orgs: [...new Set(openaiDays.map((d) => d.org))].sort(),
    users: averaged(
      sum(openaiDays, (d) => d.users),
      days,
      prices.openaiUserCents,
    ),
    active_projects: averaged(
      sum(openaiDays, (d) => d.active_projects),
      days,
      prices.openaiProjectCents,
    ),
    carried_days: daysWhere(openaiDays, (d) => d.carried === 1),
    days_without_snapshot: daysWhere(openaiDays, (d) => d.snapshot_day === null),
  };
  return {
    tenant,
    from: range.from,
    to: range.to,
    days,
    currency: prices.currency,
    copilot,
    openai,
    total_cents: copilot.seats.amount_cents + openai.users.amount_cents + openai.active_projects.amount_cents,
  };
}
