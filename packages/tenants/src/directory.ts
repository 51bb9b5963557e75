/**
 * The tenants and their tokens as the compacted tenants topic holds them (keys `tenant/<tenant>`
 * and `token/<tenant>/<token id>`, docs/design.md §3), applied record by record: the newest value
 * per key wins, a tombstone removes it. A service follows the topic into a directory and asks it
 * who a bearer token acts for; the CLI reads the topic into one to list.
 */
import { codecs, type ApiTokenRecord, type TenantRecord } from "@aiaudit/contracts";
import { tokenIdOf, tokenMatches } from "./tokens.ts";

export const tenantKey = (tenant: string): string => `tenant/${tenant}`;
export const tokenKey = (tenant: string, tokenId: string): string => `token/${tenant}/${tokenId}`;

/** Who a request acts for, or why it is refused (a message for the caller, never the token). */
export type Authentication = { ok: true; tenant: string; tokenId: string } | { ok: false; reason: string };

export class TenantDirectory {
  readonly #tenants = new Map<string, TenantRecord>();
  /** By token id: ids are random and global, the record says whose it is. */
  readonly #tokens = new Map<string, ApiTokenRecord>();

  /** Applies one record of the topic; throws when its key or value cannot be read. */
  apply(key: string, value: Buffer | null): void {
    const [kind, tenant, tokenId, ...rest] = key.split("/");
    if (kind === "tenant" && tenant && tokenId === undefined) {
      if (value === null) this.#tenants.delete(tenant);
      else this.#tenants.set(tenant, codecs.tenant.decode(value));
    } else if (kind === "token" && tenant && tokenId && rest.length === 0) {
      if (value === null) this.#tokens.delete(tokenId);
      else this.#tokens.set(tokenId, codecs.apiToken.decode(value));
    } else {
      throw new Error(`key ${JSON.stringify(key)} is neither tenant/<tenant> nor token/<tenant>/<token id>`);
    }
  }

  tenant(tenant: string): TenantRecord | undefined {
    return this.#tenants.get(tenant);
  }

  tenants(): TenantRecord[] {
    return [...this.#tenants.values()].sort((a, b) => a.tenant.localeCompare(b.tenant));
  }

  /** The tenant's tokens, revoked ones included, oldest first. */
  tokens(tenant: string): ApiTokenRecord[] {
    return [...this.#tokens.values()]
      .filter((t) => t.tenant === tenant)
      .sort((a, b) => a.created_at - b.created_at || a.token_id.localeCompare(b.token_id));
  }

  /** Who `authorization` (an HTTP Authorization header) acts for. */
  authenticate(authorization: string | undefined): Authentication {
    const match = /^Bearer +(\S+) *$/i.exec(authorization ?? "");
    if (!match) {
      return { ok: false, reason: "missing bearer token: send the header Authorization: Bearer aat_…" };
    }
    const token = match[1] as string;
    const tokenId = tokenIdOf(token);
    if (tokenId === undefined) return { ok: false, reason: "the bearer token is not an aiaudit API token" };
    const record = this.#tokens.get(tokenId);
    if (record === undefined || !tokenMatches(record, token)) {
      return {
        ok: false,
        reason:
          "unknown bearer token (a token created in the last few seconds may not have reached this service yet: try again)",
      };
    }
    if (record.revoked_at !== null) {
      return { ok: false, reason: `the bearer token ${tokenId} was revoked` };
    }
    if (!this.#tenants.has(record.tenant)) {
      return { ok: false, reason: `the bearer token's tenant ${record.tenant} does not exist (any more)` };
    }
    return { ok: true, tenant: record.tenant, tokenId };
  }
}
