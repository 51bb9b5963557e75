/**
 * Keyed pseudonyms for people (docs/design.md §6): HMAC-SHA256(tenant key, normalized login or email).
 * A plain hash of a public GitHub login can be reversed by hashing every login; a keyed one cannot
 * without the key, and the customer, who holds the key, can still compute it to look a person up.
 */
import { createHmac } from "node:crypto";
import { keyId } from "./sealed-secret.ts";

/** Logins and emails compare case-insensitively at both vendors; trim and lower-case them. */
export function normalizeIdentity(value: string): string {
  return value.normalize("NFC").trim().toLowerCase();
}

export interface Pseudonymizer {
  /** Identifies the key (sha256 fingerprint prefix), recorded next to every pseudonym. */
  readonly keyId: string;
  /**
   * 64 hex characters: HMAC-SHA256 of the normalized login or email. A numeric user id is
   * pseudonymized as `id:<n>` (e.g. `id:583231`), so it never equals a login's pseudonym.
   */
  pseudonym(identity: string): string;
  /** HMAC-SHA256 of `text` as it is (no normalization), hex: keyed digests of content. */
  mac(text: string): string;
}

/** Pseudonyms remembered per pseudonymizer before the memo starts over. */
const MEMO_LIMIT = 100_000;
/**
 * Only identities this short are remembered: logins, emails and ids recur, long text (a free-text
 * field pseudonymized whole) does not, and 100,000 of those would hold megabytes each.
 */
const MEMO_MAX_LENGTH = 256;

export function createPseudonymizer(key: Buffer): Pseudonymizer {
  if (key.length < 32) throw new RangeError("a pseudonym key must be at least 32 bytes");
  const secret = Buffer.from(key);
  const memo = new Map<string, string>();
  return {
    keyId: keyId(secret),
    pseudonym(identity) {
      // The same few people recur in every page; an HMAC costs ~20 µs, a lookup ~0.1 µs.
      const normalized = normalizeIdentity(identity);
      let value = memo.get(normalized);
      if (value === undefined) {
        value = createHmac("sha256", secret).update(normalized).digest("hex");
        if (normalized.length > MEMO_MAX_LENGTH) return value;
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(normalized, value);
      }
      return value;
    },
    mac: (text) => createHmac("sha256", secret).update(text, "utf8").digest("hex"),
  };
}
