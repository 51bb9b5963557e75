/**
 * aiaudit pseudonym: the customer's HR computes the same keyed pseudonym the pipeline stores, to
 * find a person's records (docs/design.md §6). The key is the one ingest-copilot uses: a file, or
 * PSEUDONYM_KEY, or — for a deployment serving many tenants — the tenant's key from
 * PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE.
 */
import { z } from "zod";
import { configError, key32, parseEnv, pseudonymKeyEnv, pseudonymKeysFrom } from "@aiaudit/config";
import { createKeyring, createPseudonymizer, type Pseudonymizer } from "@aiaudit/crypto";
import { parseOptions, readInputFile, tenantOption, UsageError, type Command, type Io } from "../io.ts";

export const pseudonym: Command = {
  path: ["pseudonym"],
  summary: "the keyed pseudonym the pipeline stores for a login or email, to look a person up",
  usage: `usage: aiaudit pseudonym [--tenant T] [--key-file F] LOGIN_OR_EMAIL...
  --tenant T      the tenant, with PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE (each tenant has its key)
  --key-file F    the tenant's 32-byte pseudonym key (hex or base64); without it, the key comes from
                  PSEUDONYM_KEY, PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE, as ingest-copilot reads them
  LOGIN_OR_EMAIL  a GitHub login, an email, or id:<n> for a numeric GitHub user id`,
  run,
};

function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    { tenant: { type: "string" }, "key-file": { type: "string" } },
    true,
  );
  if (positionals.length === 0) throw new UsageError("give at least one login or email");
  const tenant = values.tenant === undefined ? undefined : tenantOption(values.tenant);
  const p = pseudonymizer(values["key-file"], tenant, io.env);
  for (const identity of positionals) io.out(`${p.pseudonym(identity)}  ${identity}  (key ${p.keyId})`);
  return Promise.resolve(0);
}

function pseudonymizer(
  keyFile: string | undefined,
  tenant: string | undefined,
  env: Io["env"],
): Pseudonymizer {
  if (keyFile !== undefined) {
    const file = z.object({ PSEUDONYM_KEY: key32.describe("the tenant's pseudonym key, in --key-file") });
    return createPseudonymizer(
      parseEnv(file, { PSEUDONYM_KEY: readInputFile(keyFile, "key") }).PSEUDONYM_KEY,
    );
  }
  const settings = parseEnv(z.object(pseudonymKeyEnv), env);
  if (tenant === undefined) {
    if (settings.PSEUDONYM_MASTER_KEY || settings.PSEUDONYM_KEYRING_FILE)
      throw new UsageError(
        "--tenant is required with PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE: each tenant has its own key",
      );
    const one = z.object({ PSEUDONYM_KEY: key32.describe("the tenant's pseudonym key, or --key-file") });
    return createPseudonymizer(parseEnv(one, env).PSEUDONYM_KEY);
  }
  const problems: string[] = [];
  const keys = pseudonymKeysFrom(settings, tenant, problems);
  if (!keys) throw configError(problems);
  return createKeyring(keys).pseudonymizer(tenant);
}
