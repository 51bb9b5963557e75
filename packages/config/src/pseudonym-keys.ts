/**
 * Where each tenant's pseudonym key comes from (docs/design.md §2 "Scale-out"): one key for the one
 * tenant (PSEUDONYM_KEY), a master key each tenant's key is derived from (PSEUDONYM_MASTER_KEY), or
 * a keyring file of per-tenant keys (PSEUDONYM_KEYRING_FILE) — exactly one. Parsed here, shared by
 * ingest-copilot and `aiaudit pseudonym`; packages/crypto `createKeyring` turns it into keys.
 */
import { z } from "zod";
import type { PseudonymKeys } from "@aiaudit/crypto";
import { key32, readTextFile, tenantId } from "./values.ts";

export type { PseudonymKeys };

export const pseudonymKeyEnv = {
  PSEUDONYM_KEY: key32
    .optional()
    .describe("TENANT_ID's key for HMAC-SHA256 pseudonyms of people, 32 bytes (hex or base64)"),
  PSEUDONYM_MASTER_KEY: key32
    .optional()
    .describe("32-byte key (hex or base64) each tenant's pseudonym key is derived from, with the tenant id"),
  PSEUDONYM_KEYRING_FILE: z
    .string()
    .optional()
    .describe('JSON file of each tenant\'s pseudonym key: {"tenant-id": "<64 hex or base64>", …}'),
};

export interface PseudonymKeySettings {
  PSEUDONYM_KEY?: Buffer | undefined;
  PSEUDONYM_MASTER_KEY?: Buffer | undefined;
  PSEUDONYM_KEYRING_FILE?: string | undefined;
}

/**
 * The keys, or undefined with the problems pushed. `tenant` is TENANT_ID: PSEUDONYM_KEY needs it,
 * and a keyring must hold it.
 */
export function pseudonymKeysFrom(
  settings: PseudonymKeySettings,
  tenant: string | undefined,
  problems: string[],
): PseudonymKeys | undefined {
  const given = (["PSEUDONYM_KEY", "PSEUDONYM_MASTER_KEY", "PSEUDONYM_KEYRING_FILE"] as const).filter(
    (variable) => settings[variable] !== undefined,
  );
  if (given.length === 0) {
    problems.push(
      "PSEUDONYM_KEY (with TENANT_ID), PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE must be set: people cannot be pseudonymized",
    );
    return undefined;
  }
  if (given.length > 1) {
    problems.push(`set only one of ${given.join(", ")}: each gives the tenants' pseudonym keys`);
    return undefined;
  }
  if (settings.PSEUDONYM_KEY !== undefined) {
    if (tenant !== undefined) return { kind: "single", tenant, key: settings.PSEUDONYM_KEY };
    problems.push(
      "PSEUDONYM_KEY is one tenant's key: set TENANT_ID, or give every tenant a key with PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE",
    );
    return undefined;
  }
  if (settings.PSEUDONYM_MASTER_KEY !== undefined)
    return { kind: "master", key: settings.PSEUDONYM_MASTER_KEY };
  const file = settings.PSEUDONYM_KEYRING_FILE ?? "";
  const keys = readKeyring(file, problems);
  if (keys && tenant !== undefined && keys[tenant] === undefined) {
    problems.push(`PSEUDONYM_KEYRING_FILE (${file}) has no key for tenant ${tenant}`);
    return undefined;
  }
  return keys && { kind: "keyring", keys };
}

const keyringFile = z
  .record(z.string(), z.string())
  .refine((entries) => Object.keys(entries).length > 0, "it holds no tenant");

/** The keyring file's keys, each checked like PSEUDONYM_KEY; problems name the tenant, never a key. */
function readKeyring(file: string, problems: string[]): Record<string, Buffer> | undefined {
  const before = problems.length;
  const fail = (why: string) => {
    problems.push(`PSEUDONYM_KEYRING_FILE (${file}) ${why}`);
    return undefined;
  };
  const read = readTextFile(file);
  if (!read.ok) return fail(`cannot be read: ${read.why}`);
  let json: unknown;
  try {
    json = JSON.parse(read.text);
  } catch {
    return fail('is not JSON: write {"tenant-id": "<64 hex or base64>", …}');
  }
  const entries = keyringFile.safeParse(json);
  if (!entries.success) {
    return fail(`is not an object of tenant ids to keys: ${entries.error.issues[0]?.message ?? "malformed"}`);
  }
  const keys: Record<string, Buffer> = {};
  for (const [tenant, value] of Object.entries(entries.data)) {
    const key = key32.safeParse(value);
    if (!tenantId.safeParse(tenant).success)
      fail(`names a tenant that is not a valid tenant id: ${JSON.stringify(tenant)}`);
    else if (!key.success)
      fail(`has a malformed key for tenant ${tenant}: must be 32 bytes, as 64 hex characters or base64`);
    else keys[tenant] = key.data;
  }
  return problems.length === before ? keys : undefined;
}
