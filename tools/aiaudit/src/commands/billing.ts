/**
 * aiaudit billing: a tenant's bill for a month (docs/billing.md), from the daily counts of the
 * billing views in ClickHouse: each module's daily average over the month's days, rounded up,
 * times its price. The figures are @aiaudit/billing's, the same a pack's kpis.json holds.
 */
import { DEFAULT_PRICES, bill, monthDays, type Averaged, type Bill, type Prices } from "@aiaudit/billing";
import { isAiauditError } from "@aiaudit/errors";
import { clickhouseFromEnv } from "../clickhouse.ts";
import { parseOptions, tenantOption, UsageError, type Command, type Io } from "../io.ts";

export const billing: Command = {
  path: ["billing"],
  summary: "a tenant's bill for a month: average Copilot seats, OpenAI users and active projects, priced",
  usage: `usage: aiaudit billing --tenant T --month YYYY-MM [--json] [prices]
  --tenant T                  the tenant (customer) id
  --month YYYY-MM             the calendar month (UTC days)
  --json                      one JSON document instead of text
  --currency C                the prices' currency (default ${DEFAULT_PRICES.currency})
  --copilot-seat-price P      per billable Copilot seat (default ${cents(DEFAULT_PRICES.copilotSeatCents)})
  --openai-user-price P       per billable OpenAI user (default ${cents(DEFAULT_PRICES.openaiUserCents)})
  --openai-project-price P    per billable active OpenAI project (default ${cents(DEFAULT_PRICES.openaiProjectCents)})
reads CLICKHOUSE_URL (or the embedded engine), like the services`,
  run,
};

function cents(value: number): string {
  return (value / 100).toFixed(2);
}

/** A price as given on the command line ("1", "1.5", "5.00") in cents. */
export function priceOption(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const m = /^(\d{1,7})(?:\.(\d{1,2}))?$/.exec(value);
  if (!m) throw new UsageError(`${name} ${JSON.stringify(value)} is not a price: digits, at most 2 decimals`);
  return Number(m[1]) * 100 + Number((m[2] ?? "").padEnd(2, "0"));
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    month: { type: "string" },
    json: { type: "boolean", default: false },
    currency: { type: "string" },
    "copilot-seat-price": { type: "string" },
    "openai-user-price": { type: "string" },
    "openai-project-price": { type: "string" },
  });
  const tenant = tenantOption(values.tenant);
  if (values.month === undefined) throw new UsageError("--month is required: YYYY-MM");
  let range;
  try {
    range = monthDays(values.month);
  } catch (err) {
    if (isAiauditError(err, "REQUEST_INVALID")) throw new UsageError(`--month: ${err.message}`);
    throw err;
  }
  const currency = values.currency ?? DEFAULT_PRICES.currency;
  if (!/^[A-Z]{3}$/.test(currency))
    throw new UsageError(`--currency ${JSON.stringify(currency)} is not an ISO 4217 code`);
  const prices: Prices = {
    currency,
    copilotSeatCents: priceOption(
      "--copilot-seat-price",
      values["copilot-seat-price"],
      DEFAULT_PRICES.copilotSeatCents,
    ),
    openaiUserCents: priceOption(
      "--openai-user-price",
      values["openai-user-price"],
      DEFAULT_PRICES.openaiUserCents,
    ),
    openaiProjectCents: priceOption(
      "--openai-project-price",
      values["openai-project-price"],
      DEFAULT_PRICES.openaiProjectCents,
    ),
  };
  const { ch } = await clickhouseFromEnv(io.env);
  let result: Bill;
  try {
    result = await bill(ch, tenant, range, prices);
  } finally {
    await ch.close();
  }
  if (values.json) io.out(JSON.stringify({ month: values.month, ...result }, null, 2));
  else for (const line of renderBill(values.month, result)) io.out(line);
  return 0;
}

/** The bill as text; pure, for tests. */
export function renderBill(month: string, b: Bill): string[] {
  const money = (c: number) => `${b.currency} ${cents(c)}`;
  const line = (what: string, a: Averaged, per: string) =>
    `${what}: ${a.total} ${per} / ${b.days} days = ${a.average} → ${a.billable} × ${money(a.unit_price_cents)} = ${money(a.amount_cents)}`;
  const notes = (carried: number, missing: number) =>
    [
      carried > 0 ? `${carried} day${carried === 1 ? "" : "s"} carried forward from an earlier snapshot` : "",
      missing > 0 ? `${missing} day${missing === 1 ? "" : "s"} before a first snapshot (0)` : "",
    ].filter(Boolean);
  const out = [`billing of tenant ${b.tenant} for ${month} (${b.from} .. ${b.to}, ${b.days} days)`];
  if (b.copilot.units.length === 0) out.push("  Copilot: no connected organization: nothing to bill");
  else {
    out.push(`  Copilot (${b.copilot.units.join(", ")})`);
    out.push(`    ${line("seats", b.copilot.seats, "seat-days")}`);
    for (const note of notes(b.copilot.carried_days, b.copilot.days_without_snapshot))
      out.push(`    ${note}`);
  }
  if (b.openai.orgs.length === 0) out.push("  OpenAI: no connected organization: nothing to bill");
  else {
    out.push(`  OpenAI (${b.openai.orgs.join(", ")})`);
    out.push(`    ${line("users", b.openai.users, "user-days")}`);
    out.push(`    ${line("active projects", b.openai.active_projects, "project-days")}`);
    for (const note of notes(b.openai.carried_days, b.openai.days_without_snapshot)) out.push(`    ${note}`);
  }
  out.push(`  total: ${money(b.total_cents)}`);
  return out;
}
