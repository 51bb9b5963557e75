/**
 * Issue 8: the signing key in files (src/pem.ts), shared by `aiaudit keys` and the packer's
 * PACKER_SIGNING_KEY_FILE. Known answers: the RFC 8032 §7.1 seeds written as PKCS#8 give their
 * public keys, and RFC 8410 §10.3's v2 example (with attributes and the public key) reads as its
 * seed. node:crypto, not the code under test, checks what privateKeyPem writes.
 */
import assert from "node:assert/strict";
import { createPrivateKey, generateKeyPairSync } from "node:crypto";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import {
  generateKeyPair,
  keyPairFromPrivatePem,
  privateKeyPem,
  publicKeyFromText,
  publicKeyPem,
  readPrivateKeyFile,
} from "@aiaudit/evidence-pack";

interface Vector {
  name: string;
  secret_key: string;
  public_key: string;
}

const { vectors } = JSON.parse(
  readFileSync(new URL("../vectors/rfc8032-ed25519.json", import.meta.url), "utf8"),
) as { vectors: Vector[] };
const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** RFC 8410 §10.3: a OneAsymmetricKey v2 with an attribute and the public key. */
const RFC8410_V2 = `-----BEGIN PRIVATE KEY-----
MHICAQEwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC
oB8wHQYKKoZIhvcNAQkJFDEPDA1DdXJkbGUgQ2hhaXJzgSEAGb9ECWmEzf6FQbrB
Z9w7lshQhqowtrbLDFw4rXAxZuE=
-----END PRIVATE KEY-----
`;
const RFC8410_SEED = "d4ee72dbf913584ad5b6d8f1f769f8ad3afe7c28cbf1d4fbe097a88f44755842";
const RFC8410_PUBLIC = "19bf44096984cdfe8541bac167dc3b96c85086aa30b6b6cb0c5c38ad703166e1";

const tempFile = (name: string, content: string | Buffer): string => {
  const path = join(mkdtempSync(join(tmpdir(), "aiaudit-pem-")), name);
  writeFileSync(path, content);
  return path;
};

describe("privateKeyPem / keyPairFromPrivatePem", () => {
  for (const v of vectors) {
    it(`${v.name}: the seed as PKCS#8 reads back with the vector's public key`, () => {
      const pem = privateKeyPem(Buffer.from(v.secret_key, "hex"));
      assert.match(pem, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/]{64}\n-----END PRIVATE KEY-----\n$/);
      const jwk = createPrivateKey(pem).export({ format: "jwk" });
      assert.equal(
        Buffer.from(jwk.d ?? "", "base64url").toString("hex"),
        v.secret_key,
        "node reads the seed",
      );
      const pair = keyPairFromPrivatePem(pem);
      assert.equal(hex(pair.privateKey), v.secret_key);
      assert.equal(hex(pair.publicKey), v.public_key);
    });
  }
  it("reads RFC 8410's v2 example (attributes, public key) as its seed and derives the same public key", () => {
    const pair = keyPairFromPrivatePem(RFC8410_V2);
    assert.equal(hex(pair.privateKey), RFC8410_SEED);
    assert.equal(hex(pair.publicKey), RFC8410_PUBLIC);
  });
  it("reads a key node:crypto generated (what openssl genpkey writes)", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    const pem = String(privateKey.export({ type: "pkcs8", format: "pem" }));
    const raw = publicKey.export({ format: "jwk" }).x ?? "";
    assert.equal(hex(keyPairFromPrivatePem(pem).publicKey), Buffer.from(raw, "base64url").toString("hex"));
  });
  it("refuses a seed that is not 32 bytes", () => {
    assert.throws(() => privateKeyPem(new Uint8Array(31)), RangeError);
  });
  const refused: [string, () => string, RegExp][] = [
    ["text that is no PEM", () => "not a key\n", /no -----BEGIN PRIVATE KEY----- line$/],
    [
      "a public key",
      () => publicKeyPem(generateKeyPair().publicKey),
      /no -----BEGIN PRIVATE KEY----- line \(it holds a public key\)/,
    ],
    [
      "an EC key",
      () =>
        String(
          generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({
            type: "pkcs8",
            format: "pem",
          }),
        ),
      /it is a ec key, not Ed25519/,
    ],
    [
      "an encrypted key",
      () =>
        String(
          generateKeyPairSync("ed25519").privateKey.export({
            type: "pkcs8",
            format: "pem",
            cipher: "aes-256-cbc",
            passphrase: "secret",
          }),
        ),
      /the private key is encrypted \(a passphrase is needed\)/,
    ],
    [
      "a damaged PEM body",
      () => "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n",
      /: not an unencrypted Ed25519 private key in PEM \(PKCS#8\): error/,
    ],
  ];
  for (const [what, text, message] of refused)
    it(`refuses ${what}, saying what it is`, () => {
      assert.throws(() => keyPairFromPrivatePem(text()), message);
    });
});

describe("readPrivateKeyFile", () => {
  it("gives the seed and the public key of a file keys generate wrote", () => {
    const pair = generateKeyPair();
    const read = readPrivateKeyFile(tempFile("private-key.pem", privateKeyPem(pair.privateKey)));
    assert.deepEqual(
      [hex(read.privateKey), hex(read.publicKey)],
      [hex(pair.privateKey), hex(pair.publicKey)],
    );
    assert.equal(read.privateKey.length, 32);
  });
  it("a missing file: names it, 'no such file'", () => {
    const path = join(mkdtempSync(join(tmpdir(), "aiaudit-pem-")), "absent.pem");
    assert.throws(
      () => readPrivateKeyFile(path),
      (err: Error) => err.message === `cannot read the signing key file ${path}: no such file`,
    );
  });
  it("a directory: names it", () => {
    const dir = mkdtempSync(join(tmpdir(), "aiaudit-pem-"));
    assert.throws(() => readPrivateKeyFile(dir), /cannot read the signing key file .*: it is a directory/);
  });
  it("a file that is not an Ed25519 PKCS#8 key: names the file, the reason, how to make one, never the content", () => {
    const rsa = String(
      generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }),
    );
    const path = tempFile("rsa.pem", rsa);
    assert.throws(
      () => readPrivateKeyFile(path),
      (err: Error) =>
        err.message.startsWith(`the signing key file ${path} is unusable: `) &&
        /it is a rsa key, not Ed25519/.test(err.message) &&
        err.message.includes("openssl genpkey -algorithm ed25519") &&
        !err.message.includes(rsa.split("\n")[1] ?? "?"),
    );
  });
  it("a file far larger than a key is refused without parsing it", () => {
    const path = tempFile("huge.pem", Buffer.alloc(100_000, 0x41));
    assert.throws(() => readPrivateKeyFile(path), /is 100000 bytes: not a PEM private key/);
  });
});

describe("publicKeyFromText", () => {
  const { publicKey } = generateKeyPair();
  const raw = Buffer.from(publicKey);
  const forms: [string, string][] = [
    ["base64", raw.toString("base64")],
    ["URL-safe base64 without padding", raw.toString("base64url")],
    ["hex", raw.toString("hex")],
    ["a PEM with text before it", `the customer's key:\n${publicKeyPem(publicKey)}`],
  ];
  for (const [what, text] of forms)
    it(`reads ${what}`, () => assert.equal(hex(publicKeyFromText(`  ${text}\n`)), raw.toString("hex")));
  it("refuses 32 bytes that are not a curve point, and text that is no key", () => {
    const notAPoint = Buffer.concat([Buffer.from([2]), Buffer.alloc(31)]).toString("base64");
    assert.throws(() => publicKeyFromText(notAPoint), /not a curve point/);
    assert.throws(() => publicKeyFromText("AAAA"), RangeError);
  });
});
