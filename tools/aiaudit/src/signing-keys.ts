/**
 * The evidence-pack signing key in files: the private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`,
 * RFC 8410 §7), which `openssl pkeyutl -sign -inkey` reads as it is, and the public key as SPKI PEM,
 * which `openssl pkeyutl -verify -pubin -inkey` and both pack verifiers read. Signing and key ids
 * are @aiaudit/evidence-pack's; this module only moves keys between files and bytes, and reads an
 * `--expected-pubkey` argument the way tools/evidence-pack-verify.py does.
 */
import { createPrivateKey } from "node:crypto";
import { statSync } from "node:fs";
import { readTextFile } from "@aiaudit/config";
import { isPublicKey, keyPairFromSeed, parsePublicKey, type KeyPair } from "@aiaudit/evidence-pack";

/** DER prefix of an Ed25519 OneAsymmetricKey v1 (RFC 8410 §7): the 32-byte seed follows it. */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const PUBLIC_PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";

/** The PKCS#8 PEM of a 32-byte seed: what `openssl genpkey -algorithm ed25519` writes. */
export function privateKeyPem(seed: Uint8Array): string {
  if (seed.length !== 32) throw new RangeError("an Ed25519 private key is a 32-byte seed");
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64")}\n-----END PRIVATE KEY-----\n`;
}

/**
 * The key pair of an Ed25519 private key in PEM (PKCS#8 v1 or v2, as openssl or `keys generate`
 * write it). Node's parser reads the ASN.1; the public key is derived from the seed, never taken
 * from the file. Throws an Error saying what the text is instead.
 */
export function keyPairFromPrivatePem(pem: string): KeyPair {
  let d: string | undefined;
  try {
    const key = createPrivateKey({ key: pem, format: "pem" });
    if (key.asymmetricKeyType !== "ed25519") {
      throw new Error(`it is a ${key.asymmetricKeyType ?? "unknown"} key, not Ed25519`);
    }
    d = key.export({ format: "jwk" }).d;
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`not an unencrypted Ed25519 private key in PEM (PKCS#8): ${why}`, { cause: err });
  }
  if (d === undefined) throw new Error("the Ed25519 private key has no seed");
  return keyPairFromSeed(Buffer.from(d, "base64url"));
}

/**
 * The 32 bytes of a public key given as text: base64 (standard or URL-safe, padding optional) or
 * hex of the raw key, or a PEM `PUBLIC KEY` anywhere in the text (as the Python verifier reads it).
 * Throws RangeError when it is none of these or not a point of the curve.
 */
export function publicKeyFromText(text: string): Uint8Array {
  const trimmed = text.trim();
  const pemAt = trimmed.indexOf(PUBLIC_PEM_BEGIN);
  const key = parsePublicKey(
    pemAt >= 0
      ? trimmed.slice(pemAt)
      : /^[A-Za-z0-9+/_-]{43}=?$/.test(trimmed)
        ? `${trimmed.replace(/-/g, "+").replace(/_/g, "/").replace(/=$/, "")}=`
        : trimmed,
  );
  // Not a point: unusable input (exit 2), not a signature that fails (exit 1), as in Python.
  if (!isPublicKey(key)) throw new RangeError("not a valid Ed25519 public key (not a curve point)");
  return key;
}

/**
 * `--expected-pubkey KEY` as tools/evidence-pack-verify.py reads it: the path of an existing file
 * (PEM, or base64 / hex text), else the key itself. Throws an Error saying why it is unusable.
 */
export function expectedPublicKey(argument: string): Uint8Array {
  let text = argument;
  if (isFile(argument)) {
    const read = readTextFile(argument);
    if (!read.ok) throw new Error(`cannot read the key file ${argument}: ${read.why}`);
    text = read.text;
  }
  try {
    return publicKeyFromText(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`--expected-pubkey is unusable: ${why}`, { cause: err });
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
