/**
 * Tokens: a plain string has every scope; an object can list classic OAuth scopes and an expiry.
 */

export interface TokenOptions {
  token: string;
  /** Classic scopes (e.g. `read:org`, `read:audit_log`). Omitted: access to everything. */
  scopes?: string[];
  /** ISO 8601 date-time. Responses carry `github-authentication-token-expiration`; after it, 401. */
  expiresAt?: string;
  /** The user the token belongs to (appears in rate-limit messages). @default 100 + index */
  userId?: number;
}

export type TokenSpec = string | TokenOptions;

export interface RegisteredToken {
  token: string;
  scopes: string[] | undefined;
  expiresAtMs: number | undefined;
  userId: number;
}

/** Scopes that imply narrower ones, as GitHub's classic scopes do. */
const IMPLIED: Record<string, string[]> = {
  "admin:org": ["write:org", "read:org"],
  "write:org": ["read:org"],
  "admin:enterprise": ["manage_runners:enterprise", "manage_billing:enterprise", "read:enterprise"],
  "manage_billing:enterprise": ["read:enterprise"],
};

export function registerTokens(specs: readonly TokenSpec[]): Map<string, RegisteredToken> {
  const tokens = new Map<string, RegisteredToken>();
  specs.forEach((spec, i) => {
    const o = typeof spec === "string" ? { token: spec } : spec;
    const expiresAtMs = o.expiresAt === undefined ? undefined : Date.parse(o.expiresAt);
    if (expiresAtMs !== undefined && Number.isNaN(expiresAtMs))
      throw new Error(`bad expiresAt: ${o.expiresAt}`);
    tokens.set(o.token, { token: o.token, scopes: o.scopes, expiresAtMs, userId: o.userId ?? 100 + i });
  });
  return tokens;
}

/** True when the token has one of `needed` (directly or implied). */
export function hasScope(token: RegisteredToken, needed: readonly string[] | undefined): boolean {
  if (!needed || !token.scopes) return true;
  const held = new Set<string>();
  const add = (s: string) => {
    if (held.has(s)) return;
    held.add(s);
    for (const implied of IMPLIED[s] ?? []) add(implied);
  };
  token.scopes.forEach(add);
  return needed.some((s) => held.has(s));
}

/** `2026-12-01 00:00:00 UTC`, the format of `github-authentication-token-expiration`. */
export function expirationHeader(ms: number): string {
  return `${new Date(ms).toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

/** The token from `Authorization: Bearer <t>` or `token <t>`. */
export function bearer(header: string | undefined): string | undefined {
  return /^(?:Bearer|token)\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

/**
 * The scheme only (`Bearer`), never the credential, for the request log. A header without a
 * known scheme is logged as `unrecognized` (it might be a bare token).
 */
export function authScheme(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /^(Bearer|token|Basic)\s/i.exec(header)?.[1] ?? "unrecognized";
}
