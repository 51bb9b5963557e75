/**
 * Pseudonym keys per tenant (docs/design.md §2 "Scale-out"): one deployment serves many tenants,
 * and a tenant's pseudonyms must mean nothing under another tenant's key, so that one customer's
 * HR, holding its own key, can look up its own people and no one else's.
 *
 * Three ways to configure them (the config package parses the environment into `PseudonymKeys`):
 * - `single`: one tenant, one key (the PSEUDONYM_KEY of a one-tenant deployment);
 * - `master`: one secret, each tenant's key derived from it with HKDF-SHA256 (RFC 5869), salt
 *   `aiaudit-pseudonym-v1`, info the tenant id (UTF-8), 32 bytes: new tenants need no new
 *   secret, and the derivation can be redone by anyone holding the master key;
 * - `keyring`: an explicit key per tenant id.
 */
import { hkdfSync } from "node:crypto";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import { createPseudonymizer, type Pseudonymizer } from "./pseudonym.ts";

export type PseudonymKeys =
  | { kind: "single"; tenant: string; key: Buffer }
  | { kind: "master"; key: Buffer }
  | { kind: "keyring"; keys: Record<string, Buffer> };

export interface Keyring {
  /** The tenant's pseudonymizer (the same object on every call); throws CONFIG_INVALID without a key. */
  pseudonymizer(tenant: string): Pseudonymizer;
}

/** HKDF salt of the tenant-key derivation; a new scheme gets a new salt (and a new key id). */
export const PSEUDONYM_HKDF_SALT = "aiaudit-pseudonym-v1";
const MIN_KEY_BYTES = 32;

/** A tenant's pseudonym key derived from the master key: HKDF-SHA256(master, salt, tenant id, 32 bytes). */
export function deriveTenantKey(master: Buffer, tenant: string): Buffer {
  return Buffer.from(hkdfSync("sha256", master, PSEUDONYM_HKDF_SALT, Buffer.from(tenant, "utf8"), 32));
}

function requireLength(key: Buffer, what: string): void {
  if (key.length < MIN_KEY_BYTES) {
    throw new AiauditError(
      ErrorCodes.CONFIG_INVALID,
      `the ${what} is ${key.length} bytes; a pseudonym key needs at least ${MIN_KEY_BYTES}`,
    );
  }
}

export function createKeyring(keys: PseudonymKeys): Keyring {
  // Check every key now: a short key must stop the process at start, not the first poll of a tenant.
  if (keys.kind === "single") requireLength(keys.key, `pseudonym key of tenant "${keys.tenant}"`);
  else if (keys.kind === "master") requireLength(keys.key, "master pseudonym key");
  else
    for (const [tenant, key] of Object.entries(keys.keys))
      requireLength(key, `pseudonym key of tenant "${tenant}"`);

  function keyOf(tenant: string): Buffer | undefined {
    if (tenant === "") return undefined;
    if (keys.kind === "single") return tenant === keys.tenant ? keys.key : undefined;
    if (keys.kind === "master") return deriveTenantKey(keys.key, tenant);
    return Object.hasOwn(keys.keys, tenant) ? keys.keys[tenant] : undefined;
  }

  const cache = new Map<string, Pseudonymizer>();
  return {
    pseudonymizer(tenant) {
      let p = cache.get(tenant);
      if (p === undefined) {
        const key = keyOf(tenant);
        if (key === undefined) {
          throw new AiauditError(
            ErrorCodes.CONFIG_INVALID,
            `no pseudonym key for tenant "${tenant}": add one to the keyring, or configure a master key`,
            { details: { tenant } },
          );
        }
        p = createPseudonymizer(key);
        cache.set(tenant, p);
      }
      return p;
    },
  };
}
