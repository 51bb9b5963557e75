/**
 * aiaudit tenants create / tenants list: the tenants the HTTP APIs serve, on the compacted tenants
 * topic (`tenant/<tenant>`), which the packer follows. A tenant is created with its first API
 * token in one transaction, so no tenant exists that nobody can reach; the token is printed once,
 * here, and kept only as its SHA-256.
 */
import type { ApiTokenRecord, TenantRecord } from "@aiaudit/contracts";
import { createToken, type TenantDirectory } from "@aiaudit/tenants";
import { nameOption, parseOptions, tenantOption, UsageError, type Command, type Io } from "../io.ts";
import { publishTenantRecords, readTenants } from "../tenants.ts";

export const tenantsCreate: Command = {
  path: ["tenants", "create"],
  summary: "a new tenant with its first API token (the token is printed once, never stored)",
  usage: `usage: aiaudit tenants create TENANT [--display-name NAME] [--token-name NAME]
  TENANT               the tenant (customer) id: 1-63 lower-case letters, digits and dashes
  --display-name NAME  a name for people, e.g. the company's
  --token-name NAME    what the first token is for, e.g. auditor-2026
refuses a tenant that exists; prints the token once: store it at once, it cannot be shown again
needs KAFKA_BROKERS`,
  run: create,
};

export const tenantsList: Command = {
  path: ["tenants", "list"],
  summary: "the tenants, with their display name, creation time and count of valid tokens",
  usage: `usage: aiaudit tenants list [--json]
  --json   one JSON document instead of a table
needs KAFKA_BROKERS`,
  run: list,
};

async function create(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { "display-name": { type: "string" }, "token-name": { type: "string" } },
    true,
  );
  if (positionals.length > 1) throw new UsageError(`one TENANT, not ${positionals.length}`);
  const tenant = tenantOption(positionals[0], "TENANT");
  const displayName = nameOption(values["display-name"], "--display-name");
  const tokenName = nameOption(values["token-name"], "--token-name");

  const { directory, problems } = await readTenants(io.env);
  for (const problem of problems) io.err(`note: ${problem}`);
  const existing = directory.tenant(tenant);
  if (existing) {
    throw new Error(
      `tenant ${tenant} exists (created ${iso(existing.created_at)}): \`aiaudit tokens create --tenant ${tenant}\` gives it another token`,
    );
  }
  const now = Date.now();
  const record: TenantRecord = { tenant, display_name: displayName, created_at: now };
  const made = createToken(tenant, tokenName, now);
  await publishTenantRecords(io.env, tenant, { tenant: record, tokens: [made.record] });
  io.out(`created tenant ${tenant}${displayName ? ` "${displayName}"` : ""}`);
  for (const line of newTokenLines(made.token, made.record)) io.out(line);
  return 0;
}

/**
 * What a person needs of a new token: its id, the token itself (the only time it is shown, and the
 * only line that holds it) and how to use and revoke it.
 */
export function newTokenLines(token: string, record: ApiTokenRecord): string[] {
  return [
    `token id: ${record.token_id}${record.name ? ` (${record.name})` : ""}`,
    `token:    ${token}`,
    "The token is shown only this once (only its SHA-256 is kept): store it now, e.g. in a secret manager.",
    `Send it as the HTTP header "Authorization: Bearer <token>" to act for tenant ${record.tenant};`,
    `revoke it with: aiaudit tokens revoke --tenant ${record.tenant} ${record.token_id}`,
  ];
}

export interface TenantRow {
  tenant: string;
  display_name: string | null;
  created_at: string;
  valid_tokens: number;
  revoked_tokens: number;
}

/** The list's rows, by tenant id; pure, for tests. */
export function tenantRows(directory: TenantDirectory): TenantRow[] {
  return directory.tenants().map((t) => {
    const tokens = directory.tokens(t.tenant);
    const valid = tokens.filter((token) => token.revoked_at === null).length;
    return {
      tenant: t.tenant,
      display_name: t.display_name,
      created_at: iso(t.created_at),
      valid_tokens: valid,
      revoked_tokens: tokens.length - valid,
    };
  });
}

/** The table a person reads. */
export function renderTenants(rows: TenantRow[]): string[] {
  if (rows.length === 0) return ["no tenants: create one with `aiaudit tenants create TENANT`"];
  return table(
    ["TENANT", "DISPLAY NAME", "CREATED", "VALID TOKENS"],
    rows.map((r) => [
      r.tenant,
      r.display_name ?? "-",
      r.created_at,
      `${r.valid_tokens}${r.revoked_tokens ? ` (${r.revoked_tokens} revoked)` : ""}`,
    ]),
  );
}

async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, { json: { type: "boolean", default: false } });
  const { directory, problems } = await readTenants(io.env);
  for (const problem of problems) io.err(`note: ${problem}`);
  const rows = tenantRows(directory);
  if (values.json) io.out(JSON.stringify({ tenants: rows }, null, 2));
  else for (const line of renderTenants(rows)) io.out(line);
  return 0;
}

export const iso = (ms: number): string => new Date(ms).toISOString();

/** Left-aligned columns two spaces apart, the header first; the last column is not padded. */
export function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)];
}
