/**
 * aiaudit tokens create / list / revoke: a tenant's bearer tokens for the HTTP APIs, on the tenants
 * topic (`token/<tenant>/<token id>`). A new token is printed once; the topic keeps only its
 * SHA-256. A revoked token keeps its record with revoked_at, so the list shows who had access until
 * when; the services that follow the topic refuse it within seconds.
 */
import type { ApiTokenRecord } from "@aiaudit/contracts";
import { createToken, tokenIdOf, type TenantDirectory } from "@aiaudit/tenants";
import { parseOptions, nameOption, tenantOption, UsageError, type Command, type Io } from "../io.ts";
import { publishTenantRecords, readTenants } from "../tenants.ts";
import { iso, newTokenLines, table } from "./tenants.ts";

export const tokensCreate: Command = {
  path: ["tokens", "create"],
  summary: "a new API token for a tenant (printed once, never stored)",
  usage: `usage: aiaudit tokens create --tenant T [--name NAME]
  --tenant T    the tenant the token acts for (aiaudit tenants list shows them)
  --name NAME   what the token is for, e.g. auditor-2026
prints the token once: store it at once, it cannot be shown again
needs KAFKA_BROKERS`,
  run: create,
};

export const tokensList: Command = {
  path: ["tokens", "list"],
  summary: "a tenant's API tokens: id, name, created, revoked (never the token or its hash)",
  usage: `usage: aiaudit tokens list --tenant T [--json]
  --tenant T   the tenant
  --json       one JSON document instead of a table
needs KAFKA_BROKERS`,
  run: list,
};

export const tokensRevoke: Command = {
  path: ["tokens", "revoke"],
  summary: "revoke a tenant's API token by its id: the HTTP APIs refuse it from then on",
  usage: `usage: aiaudit tokens revoke --tenant T TOKEN_ID
  --tenant T   the tenant the token acts for
  TOKEN_ID     the token's id, 12 hex digits (aiaudit tokens list shows them; not the token itself)
the record stays, with the time it was revoked; needs KAFKA_BROKERS`,
  run: revoke,
};

async function create(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, { tenant: { type: "string" }, name: { type: "string" } });
  const tenant = tenantOption(values.tenant);
  const name = nameOption(values.name, "--name");
  const { directory, problems } = await readTenants(io.env);
  for (const problem of problems) io.err(`note: ${problem}`);
  if (!directory.tenant(tenant)) throw noTenant(tenant);
  const made = createToken(tenant, name);
  await publishTenantRecords(io.env, tenant, { tokens: [made.record] });
  io.out(`created a token for tenant ${tenant}`);
  for (const line of newTokenLines(made.token, made.record)) io.out(line);
  return 0;
}

function noTenant(tenant: string): Error {
  return new Error(
    `no tenant ${tenant}: create it with \`aiaudit tenants create ${tenant}\` (\`aiaudit tenants list\` shows them)`,
  );
}

export interface TokenRow {
  token_id: string;
  name: string | null;
  created_at: string;
  /** null while the token is valid. */
  revoked_at: string | null;
}

/** The tenant's tokens, oldest first, without their hashes; pure, for tests. */
export function tokenRows(directory: TenantDirectory, tenant: string): TokenRow[] {
  return directory.tokens(tenant).map((t) => ({
    token_id: t.token_id,
    name: t.name,
    created_at: iso(t.created_at),
    revoked_at: t.revoked_at === null ? null : iso(t.revoked_at),
  }));
}

/** The table a person reads. */
export function renderTokens(tenant: string, rows: TokenRow[]): string[] {
  if (rows.length === 0)
    return [`tenant ${tenant} has no tokens: \`aiaudit tokens create --tenant ${tenant}\` makes one`];
  return table(
    ["TOKEN ID", "NAME", "CREATED", "STATUS"],
    rows.map((r) => [
      r.token_id,
      r.name ?? "-",
      r.created_at,
      r.revoked_at === null ? "valid" : `revoked ${r.revoked_at}`,
    ]),
  );
}

async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const tenant = tenantOption(values.tenant);
  const { directory, problems } = await readTenants(io.env);
  for (const problem of problems) io.err(`note: ${problem}`);
  const rows = tokenRows(directory, tenant);
  // Tokens of a tenant whose record is gone are still listed: they say who had access.
  if (rows.length === 0 && !directory.tenant(tenant)) throw noTenant(tenant);
  if (values.json) io.out(JSON.stringify({ tenant, tokens: rows }, null, 2));
  else for (const line of renderTokens(tenant, rows)) io.out(line);
  return 0;
}

/**
 * What `revoke` does with the token `tokenId` of `tenant`: the record to write, or what to say
 * instead. A token of another tenant is "no token" too, so the answer tells nothing about others.
 */
export function revocation(
  directory: TenantDirectory,
  tenant: string,
  tokenId: string,
  now: number,
): { write: ApiTokenRecord } | { refused: string } | { already: string } {
  const token = directory.tokens(tenant).find((t) => t.token_id === tokenId);
  if (token === undefined) {
    return {
      refused: `no token ${tokenId} for tenant ${tenant}: \`aiaudit tokens list --tenant ${tenant}\` shows its tokens`,
    };
  }
  if (token.revoked_at !== null) {
    return {
      already: `token ${tokenId} of tenant ${tenant} was revoked already, at ${iso(token.revoked_at)}: nothing written`,
    };
  }
  return { write: { ...token, revoked_at: now } };
}

async function revoke(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions(args, { tenant: { type: "string" } }, true);
  const tenant = tenantOption(values.tenant);
  const [tokenId, ...extra] = positionals;
  if (tokenId === undefined) throw new UsageError("TOKEN_ID is required: aiaudit tokens list shows the ids");
  if (extra.length > 0) throw new UsageError(`one TOKEN_ID, not ${positionals.length}`);
  const inside = tokenIdOf(tokenId);
  if (inside !== undefined) {
    // Not echoed: the argument is a secret. It is in the shell's history now, hence the advice.
    throw new UsageError(
      `TOKEN_ID is a whole token (not repeated here), not its id: give ${inside}, and revoke it, since it is now in this shell's history`,
    );
  }
  const { directory, problems } = await readTenants(io.env);
  for (const problem of problems) io.err(`note: ${problem}`);
  const outcome = revocation(directory, tenant, tokenId, Date.now());
  if ("refused" in outcome) throw new Error(outcome.refused);
  if ("already" in outcome) {
    io.out(outcome.already);
    return 0;
  }
  await publishTenantRecords(io.env, tenant, { tokens: [outcome.write] });
  const named = outcome.write.name ? ` (${outcome.write.name})` : "";
  io.out(
    `revoked token ${tokenId}${named} of tenant ${tenant} at ${iso(outcome.write.revoked_at ?? 0)}: the HTTP APIs refuse it within seconds`,
  );
  return 0;
}
