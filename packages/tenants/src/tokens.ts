/**
 * Bearer tokens of the HTTP APIs (docs/design.md §6): `aat_<token id>_<secret>`, the id 12 hex
 * digits (public: listed and revoked by it), the secret 256 random bits in base64url. Only the
 * SHA-256 of the whole token is kept; with 256 random bits a plain hash cannot be reversed by
 * guessing, so no slow password hash is needed, and checking a request costs one hash.
 */
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import type { ApiTokenRecord } from "@aiaudit/contracts";

const TOKEN = /^aat_([0-9a-f]{12})_[A-Za-z0-9_-]{43}$/;

export interface NewToken {
  /** The token, shown once to the person who created it; never stored. */
  token: string;
  record: ApiTokenRecord;
}

export function createToken(tenant: string, name: string | null, now = Date.now()): NewToken {
  const tokenId = randomBytes(6).toString("hex");
  const token = `aat_${tokenId}_${randomBytes(32).toString("base64url")}`;
  return {
    token,
    record: {
      tenant,
      token_id: tokenId,
      name,
      token_sha256: tokenSha256(token),
      created_at: now,
      revoked_at: null,
    },
  };
}

export function tokenSha256(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** The token's id, or undefined when `text` does not have a token's shape. */
export function tokenIdOf(text: string): string | undefined {
  return TOKEN.exec(text)?.[1];
}

/** Whether `token` is the one `record` was made for (constant time). */
export function tokenMatches(record: ApiTokenRecord, token: string): boolean {
  const expected = Buffer.from(record.token_sha256, "hex");
  const actual = Buffer.from(tokenSha256(token), "hex");
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}
