/**
 * Ed25519 (RFC 8032) for the pack signature: @noble/ed25519's audited pure-JS implementation, given
 * node:crypto's SHA-512 so its synchronous API works (its README: set `hashes.sha512`). Keys travel
 * as the raw 32-byte public key (base64 in the manifest, what the customer hands an auditor) or as a
 * PEM SPKI file (what `openssl pkeyutl -inkey` reads). Verification follows RFC 8032 strictly
 * (`zip215: false`), like openssl: non-canonical point encodings are refused.
 */
import { createHash, randomBytes } from "node:crypto";
import * as ed from "@noble/ed25519";

ed.hashes.sha512 = (message) => new Uint8Array(createHash("sha512").update(message).digest());

/** DER prefix of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4): the raw key follows it. */
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");
const PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";
const PEM_END = "-----END PUBLIC KEY-----";

export interface KeyPair {
  /** The 32-byte RFC 8032 seed: a secret. */
  privateKey: Uint8Array;
  publicKey: Uint8Array;
}

export function generateKeyPair(): KeyPair {
  return keyPairFromSeed(randomBytes(32));
}

/** The key pair of a 32-byte seed (tests and golden packs use fixed seeds). */
export function keyPairFromSeed(seed: Uint8Array): KeyPair {
  if (seed.length !== 32) throw new RangeError("an Ed25519 private key is a 32-byte seed");
  return { privateKey: Uint8Array.from(seed), publicKey: ed.getPublicKey(seed) };
}

/** The manifest's `key_id`: sha256 hex of the raw 32-byte public key. */
export function keyId(publicKey: Uint8Array): string {
  return createHash("sha256").update(publicKey).digest("hex");
}

/** The raw 64-byte signature over `message`. */
export function sign(message: Uint8Array, privateKey: Uint8Array): Uint8Array {
  if (privateKey.length !== 32) throw new RangeError("an Ed25519 private key is a 32-byte seed");
  return ed.sign(message, privateKey);
}

/** True only for a valid signature; never throws on malformed input. */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (signature.length !== 64 || publicKey.length !== 32) return false;
  try {
    return ed.verify(signature, message, publicKey, { zip215: false });
  } catch {
    return false;
  }
}

/** True when the 32 bytes are a canonical encoding of a point of edwards25519 (RFC 8032 §5.1.3). */
export function isPublicKey(key: Uint8Array): boolean {
  if (key.length !== 32) return false;
  try {
    ed.Point.fromBytes(key, false);
    return true;
  } catch {
    return false;
  }
}

/**
 * A public key as the customer may hand it over: base64 or hex of the 32 raw bytes, or a PEM
 * `PUBLIC KEY` (SPKI). Throws RangeError on anything else.
 */
export function parsePublicKey(text: string): Uint8Array {
  const trimmed = text.trim();
  if (trimmed.startsWith(PEM_BEGIN)) return fromPem(trimmed);
  if (/^[0-9a-fA-F]{64}$/.test(trimmed)) return Buffer.from(trimmed, "hex");
  if (/^[A-Za-z0-9+/]{43}=$/.test(trimmed)) return Buffer.from(trimmed, "base64");
  throw new RangeError("a public key is base64 or hex of 32 bytes, or a PEM PUBLIC KEY");
}

function fromPem(pem: string): Uint8Array {
  const end = pem.indexOf(PEM_END);
  if (end < 0) throw new RangeError("PEM public key has no END line");
  const body = pem.slice(PEM_BEGIN.length, end).replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body)) throw new RangeError("PEM public key body is not base64");
  const der = Buffer.from(body, "base64");
  if (der.length !== SPKI_PREFIX.length + 32 || !der.subarray(0, SPKI_PREFIX.length).equals(SPKI_PREFIX)) {
    throw new RangeError("PEM public key is not an Ed25519 SubjectPublicKeyInfo");
  }
  return Uint8Array.from(der.subarray(SPKI_PREFIX.length));
}

/** The PEM SPKI form of a raw public key, for `openssl pkeyutl -verify -pubin -inkey`. */
export function publicKeyPem(publicKey: Uint8Array): string {
  if (publicKey.length !== 32) throw new RangeError("an Ed25519 public key is 32 bytes");
  const der = Buffer.concat([SPKI_PREFIX, publicKey]);
  return `${PEM_BEGIN}\n${der.toString("base64")}\n${PEM_END}\n`;
}
