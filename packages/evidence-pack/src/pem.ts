/**
 * The pack signing key in files and text: the private key as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`,
 * RFC 8410 §7), which `openssl genpkey -algorithm ed25519` writes and `openssl pkeyutl -sign -inkey`
 * reads as it is, and a public key as the customer hands it over (base64, hex or SPKI PEM, read the
 * way tools/evidence-pack-verify.py reads `--expected-pubkey`). Here, not in the CLI, because both
 * `aiaudit keys` and the packer (its PACKER_SIGNING_KEY_FILE) read the same files.
 */
import { createPrivateKey } from "node:crypto";
import { readFileSync } from "node:fs";
import { isPublicKey, keyPairFromSeed, parsePublicKey, type KeyPair } from "./signing.ts";

/** DER prefix of an Ed25519 OneAsymmetricKey v1 (RFC 8410 §7): the 32-byte seed follows it. */
const PKCS8_PREFIX = Buffer.from("302e020100300506032b657004220420", "hex");
const PUBLIC_PEM_BEGIN = "-----BEGIN PUBLIC KEY-----";
/** More than any PEM private key: a larger file is not a key, and is not read into memory. */
const MAX_KEY_FILE_BYTES = 64 * 1024;

/** The PKCS#8 PEM of a 32-byte seed: what `openssl genpkey -algorithm ed25519` writes. */
export function privateKeyPem(seed: Uint8Array): string {
  if (seed.length !== 32) throw new RangeError("an Ed25519 private key is a 32-byte seed");
  const der = Buffer.concat([PKCS8_PREFIX, seed]);
  return `-----BEGIN PRIVATE KEY-----\n${der.toString("base64")}\n-----END PRIVATE KEY-----\n`;
}

/**
 * The key pair of an Ed25519 private key in PEM (PKCS#8 v1 or v2, as openssl or `aiaudit keys
 * generate` write it). Node's parser reads the ASN.1; the public key is derived from the seed, never
 * taken from the file. Throws an Error saying what the text is instead; the key never appears in it.
 */
export function keyPairFromPrivatePem(pem: string): KeyPair {
  // Named before node's parser sees them: its messages for these are OpenSSL's ("interrupted or
  // cancelled" for a key that needs a passphrase).
  if (pem.includes("-----BEGIN ENCRYPTED PRIVATE KEY-----")) {
    throw new Error(
      "the private key is encrypted (a passphrase is needed): give its unencrypted PKCS#8 PEM (`openssl pkey -in KEY -out PLAIN`)",
    );
  }
  if (!/-----BEGIN (?:[A-Z0-9]+ )?PRIVATE KEY-----/.test(pem)) {
    throw new Error(
      `not an unencrypted Ed25519 private key in PEM (PKCS#8): no -----BEGIN PRIVATE KEY----- line${
        pem.includes(PUBLIC_PEM_BEGIN) ? " (it holds a public key)" : ""
      }`,
    );
  }
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
 * The key pair in a PKCS#8 PEM file (the packer's PACKER_SIGNING_KEY_FILE, `aiaudit keys generate`'s
 * private-key.pem). Throws an Error naming the file and why it is unusable: missing, unreadable,
 * too large, or not an unencrypted Ed25519 private key.
 */
export function readPrivateKeyFile(path: string): KeyPair {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why =
      code === "ENOENT"
        ? "no such file"
        : code === "EACCES"
          ? "permission denied"
          : code === "EISDIR"
            ? "it is a directory"
            : err instanceof Error
              ? err.message
              : String(err);
    throw new Error(`cannot read the signing key file ${path}: ${why}`, { cause: err });
  }
  if (bytes.length > MAX_KEY_FILE_BYTES) {
    throw new Error(`the signing key file ${path} is ${bytes.length} bytes: not a PEM private key`);
  }
  try {
    return keyPairFromPrivatePem(bytes.toString("utf8"));
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(
      `the signing key file ${path} is unusable: ${why} (\`openssl genpkey -algorithm ed25519\` or \`aiaudit keys generate\` write one)`,
      { cause: err },
    );
  }
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
