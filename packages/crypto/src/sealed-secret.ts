/**
 * Credentials at rest (docs/design.md §6): AES-256-GCM with a 96-bit random nonce; the key id and the
 * purpose are bound in as additional authenticated data, so a sealed token cannot be moved to
 * another connection or opened with another key without the tag failing.
 */
import { createCipheriv, createDecipheriv, createHash, randomBytes } from "node:crypto";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

export interface SealedSecret {
  /** Always A256GCM when sealed here; checked on open. */
  alg: string;
  /** sha256 fingerprint prefix of the key that sealed it. */
  kid: string;
  /** base64 */
  nonce: string;
  /** base64 */
  ciphertext: string;
  /** base64, 16 bytes */
  tag: string;
}

/** First 16 hex characters of sha256(key): names a key without revealing it. */
export function keyId(key: Buffer): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

function aad(kid: string, context: string): Buffer {
  return Buffer.from(`aiaudit.sealed.v1|${kid}|${context}`, "utf8");
}

/** Additional authenticated data of a connection's sealed credential: it opens only for this tenant and connection. */
export function sealContext(tenant: string, connectionId: string): string {
  return `${tenant}/${connectionId}`;
}

/** Additional authenticated data of a SIEM destination's sealed secret: it opens only for this tenant and destination. */
export function destinationSealContext(tenant: string, destinationId: string): string {
  return `${tenant}/destination:${destinationId}`;
}

/** `context` names what the secret belongs to (e.g. tenant/connection id); it must match on open. */
export function sealSecret(key: Buffer, plaintext: string, context: string): SealedSecret {
  if (key.length !== 32) throw new RangeError("AES-256-GCM needs a 32-byte key");
  const kid = keyId(key);
  const nonce = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad(kid, context));
  const ciphertext = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
  return {
    alg: "A256GCM",
    kid,
    nonce: nonce.toString("base64"),
    ciphertext: ciphertext.toString("base64"),
    tag: cipher.getAuthTag().toString("base64"),
  };
}

export function openSecret(key: Buffer, sealed: SealedSecret, context: string): string {
  const kid = keyId(key);
  if (sealed.alg !== "A256GCM") {
    throw new AiauditError(ErrorCodes.SECRET_UNSEALABLE, `sealed secret uses ${sealed.alg}, not A256GCM`);
  }
  if (sealed.kid !== kid) {
    throw new AiauditError(
      ErrorCodes.SECRET_UNSEALABLE,
      `secret was sealed with key ${sealed.kid}, not with the configured key ${kid}`,
    );
  }
  try {
    const tag = Buffer.from(sealed.tag, "base64");
    // A short tag would weaken authentication: accept exactly 16 bytes.
    if (tag.length !== 16) throw new Error(`tag is ${tag.length} bytes, not 16`);
    const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(sealed.nonce, "base64"), {
      authTagLength: 16,
    });
    decipher.setAAD(aad(kid, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(Buffer.from(sealed.ciphertext, "base64")),
      decipher.final(),
    ]).toString("utf8");
  } catch (cause) {
    throw new AiauditError(ErrorCodes.SECRET_UNSEALABLE, "sealed secret failed authentication", { cause });
  }
}
