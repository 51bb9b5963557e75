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
  /** 64 hex characters. */
  pseudonym(identity: string): string;
  /** HMAC-SHA256 of `text` as it is (no normalization), hex: keyed digests of content. */
  mac(text: string): string;
}

/** Pseudonyms remembered per pseudonymizer before the memo starts over. */
const MEMO_LIMIT = 100_000;

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
        if (memo.size >= MEMO_LIMIT) memo.clear();
        memo.set(normalized, value);
      }
      return value;
    },
    mac: (text) => createHmac("sha256", secret).update(text, "utf8").digest("hex"),
  };
}

/** Keys whose string values name a person in GitHub and OpenAI payloads. */
const PERSON_FIELDS = new Set([
  "login",
  "email",
  "name",
  "user",
  "actor",
  "target_login",
  "old_user",
  "blocked_user",
  "user_login",
  "user_email",
]);

/**
 * A copy of an arbitrary vendor payload that is safe to keep (the dead-letter topic, raw
 * payload columns): person fields replaced by `hmac:<pseudonym>`, and the URL fields of any object
 * that has a login or email dropped, since GitHub's user URLs spell the login out.
 */
export function pseudonymizeDeep(value: unknown, pseudonymizer: Pseudonymizer): unknown {
  if (Array.isArray(value)) return value.map((item) => pseudonymizeDeep(item, pseudonymizer));
  if (value === null || typeof value !== "object") return value;
  const input = value as Record<string, unknown>;
  const isPerson = typeof input.login === "string" || typeof input.email === "string";
  const output: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(input)) {
    if (isPerson && (key === "url" || key.endsWith("_url") || key === "node_id")) continue;
    output[key] =
      PERSON_FIELDS.has(key) && typeof field === "string"
        ? `hmac:${pseudonymizer.pseudonym(field)}`
        : pseudonymizeDeep(field, pseudonymizer);
  }
  return output;
}
