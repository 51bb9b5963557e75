import assert from "node:assert/strict";
import { createPublicKey, verify as nodeVerify } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  generateKeyPair,
  keyId,
  keyPairFromSeed,
  parsePublicKey,
  publicKeyPem,
  sign,
  verify,
} from "@aiaudit/evidence-pack";

interface Vector {
  name: string;
  secret_key: string;
  public_key: string;
  message: string;
  signature: string;
}

const { vectors } = JSON.parse(
  readFileSync(new URL("../vectors/rfc8032-ed25519.json", import.meta.url), "utf8"),
) as { vectors: Vector[] };
const hex = (s: string): Buffer => Buffer.from(s, "hex");
const flipBit = (b: Uint8Array, byte: number, bit: number): Uint8Array => {
  const copy = Uint8Array.from(b);
  copy[byte] = (copy[byte] ?? 0) ^ (1 << bit);
  return copy;
};

describe("Ed25519: RFC 8032 §7.1 vectors", () => {
  it("holds the five vectors", () =>
    assert.deepEqual(
      vectors.map((v) => v.name),
      ["TEST 1", "TEST 2", "TEST 3", "TEST 1024", "TEST SHA(abc)"],
    ));
  for (const v of vectors) {
    describe(v.name, () => {
      const seed = hex(v.secret_key);
      const message = hex(v.message);
      const signature = hex(v.signature);
      const publicKey = hex(v.public_key);
      it("derives the public key", () =>
        assert.equal(Buffer.from(keyPairFromSeed(seed).publicKey).toString("hex"), v.public_key));
      it("sign reproduces the signature", () =>
        assert.equal(Buffer.from(sign(message, seed)).toString("hex"), v.signature));
      it("verify accepts it", () => assert.equal(verify(signature, message, publicKey), true));
      it("verify rejects a flipped bit in the signature, the message or the key", () => {
        for (const at of [0, 31, 32, 63])
          assert.equal(verify(flipBit(signature, at, 3), message, publicKey), false);
        if (message.length > 0) {
          assert.equal(verify(signature, flipBit(message, message.length - 1, 0), publicKey), false);
        }
        assert.equal(verify(signature, Buffer.concat([message, Buffer.from([0])]), publicKey), false);
        assert.equal(verify(signature, message, flipBit(publicKey, 5, 1)), false);
      });
    });
  }
  it("verify never throws on malformed input", () => {
    assert.equal(verify(new Uint8Array(63), new Uint8Array(0), new Uint8Array(32)), false);
    assert.equal(verify(new Uint8Array(64), new Uint8Array(0), new Uint8Array(31)), false);
    assert.equal(
      verify(new Uint8Array(64).fill(0xff), new Uint8Array(0), new Uint8Array(32).fill(0xff)),
      false,
    );
  });
});

describe("keys", () => {
  const pair = generateKeyPair();
  it("generateKeyPair gives a 32-byte seed and public key that sign and verify", () => {
    assert.equal(pair.privateKey.length, 32);
    assert.equal(pair.publicKey.length, 32);
    const message = Buffer.from("evidence");
    assert.ok(verify(sign(message, pair.privateKey), message, pair.publicKey));
    assert.notDeepEqual(generateKeyPair().publicKey, pair.publicKey);
  });
  it("keyId is the sha256 hex of the raw public key", () =>
    assert.equal(
      keyId(hex(vectors[0]?.public_key ?? "")),
      "21fe31dfa154a261626bf854046fd2271b7bed4b6abe45aa58877ef47f9721b9",
    ));
  it("parsePublicKey reads base64, hex and PEM", () => {
    const raw = Buffer.from(pair.publicKey);
    assert.deepEqual(Buffer.from(parsePublicKey(raw.toString("base64"))), raw);
    assert.deepEqual(Buffer.from(parsePublicKey(` ${raw.toString("hex").toUpperCase()}\n`)), raw);
    assert.deepEqual(Buffer.from(parsePublicKey(publicKeyPem(raw))), raw);
  });
  it("publicKeyPem is an SPKI node:crypto (and so openssl) reads", () => {
    const key = createPublicKey(publicKeyPem(pair.publicKey));
    assert.equal(key.asymmetricKeyType, "ed25519");
    const message = Buffer.from("m");
    assert.ok(nodeVerify(null, message, key, sign(message, pair.privateKey)));
  });
  it("parsePublicKey refuses anything else", () => {
    for (const bad of [
      "",
      "abc",
      "00".repeat(31),
      Buffer.alloc(33).toString("base64"),
      "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
    ]) {
      assert.throws(() => parsePublicKey(bad), RangeError, bad);
    }
  });
  it("sign refuses a private key that is not a 32-byte seed", () =>
    assert.throws(() => sign(Buffer.from("m"), new Uint8Array(64)), RangeError));
});
