/**
 * Issue 6: pseudonym keys per tenant. The known answers were computed independently of Node's
 * crypto, with Python's standard library (HKDF written out from RFC 5869):
 *
 *   import hmac, hashlib
 *   def hkdf(ikm, salt, info, n=32):
 *       prk = hmac.new(salt, ikm, hashlib.sha256).digest()
 *       t = okm = b""; i = 1
 *       while len(okm) < n:
 *           t = hmac.new(prk, t + info + bytes([i]), hashlib.sha256).digest(); okm += t; i += 1
 *       return okm[:n]
 *   master = bytes([0x42]) * 32
 *   k = hkdf(master, b"aiaudit-pseudonym-v1", b"tenant-a")
 *   k.hex(); hmac.new(k, b"octocat", hashlib.sha256).hexdigest()
 *   hmac.new(k, b"id:583231", hashlib.sha256).hexdigest(); hashlib.sha256(k).hexdigest()[:16]
 *
 * The same hkdf() gives RFC 5869 test case 1's OKM (3cb25f25…5865), which checks the helper.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createKeyring, createPseudonymizer, deriveTenantKey } from "@aiaudit/crypto";

const master = Buffer.alloc(32, 0x42);
const vectors = {
  "tenant-a": {
    key: "5ea60f43f62af04551bd0d95f1b3ffb06991cf9125d78c509582a1d0435a5df0",
    octocat: "0a8c2bca4daf7cfde521a28a697d5bfad95976d53ceccbe438cc05ddda05f825",
    id: "cdb072c06d7fd825973fd2ba8c2dde5e79a5c05bff195696fb1f6f0cb6391782",
    keyId: "866163c328c94b6d",
  },
  "tenant-b": {
    key: "f4ced9e9f37034af104b8ba5d202831e7d870de6141f2b2a2d24329425365f5b",
    octocat: "10415060ea023250c37e7ebe19d491d8c64699c5f9021812c920e3311f40cf41",
    id: "800bfd39dee842d2bbcfc9bdcf0e123acc99e82e550ad8226d6bdc5c18f69652",
    keyId: "ff6bccff128bb768",
  },
};

describe("keyring", () => {
  describe("master key", () => {
    const keyring = createKeyring({ kind: "master", key: master });
    for (const [tenant, expected] of Object.entries(vectors)) {
      it(`derives ${tenant}'s key with HKDF-SHA256 (known answer)`, () => {
        assert.equal(deriveTenantKey(master, tenant).toString("hex"), expected.key);
        const p = keyring.pseudonymizer(tenant);
        assert.equal(p.pseudonym("OctoCat"), expected.octocat);
        assert.equal(p.pseudonym("id:583231"), expected.id);
        assert.equal(p.keyId, expected.keyId);
      });
    }
    it("gives each tenant other pseudonyms and another key id", () => {
      const a = keyring.pseudonymizer("tenant-a");
      const b = keyring.pseudonymizer("tenant-b");
      assert.notEqual(a.pseudonym("octocat"), b.pseudonym("octocat"));
      assert.notEqual(a.mac("text"), b.mac("text"));
      assert.notEqual(a.keyId, b.keyId);
      // A tenant id differing only in case is another tenant: no normalization of the info.
      assert.notEqual(keyring.pseudonymizer("Tenant-A").pseudonym("octocat"), a.pseudonym("octocat"));
    });
    it("hands out one pseudonymizer per tenant", () =>
      assert.equal(keyring.pseudonymizer("tenant-a"), keyring.pseudonymizer("tenant-a")));
    it("refuses an empty tenant id", () =>
      assert.throws(() => keyring.pseudonymizer(""), { code: "CONFIG_INVALID" }));
  });

  describe("single key", () => {
    const key = Buffer.alloc(32, 7);
    const keyring = createKeyring({ kind: "single", tenant: "tenant-a", key });
    it("is the tenant's key as given (what PSEUDONYM_KEY computed before keyrings)", () =>
      assert.equal(
        keyring.pseudonymizer("tenant-a").pseudonym("octocat"),
        createPseudonymizer(key).pseudonym("octocat"),
      ));
    it("serves no other tenant, naming it", () =>
      assert.throws(() => keyring.pseudonymizer("tenant-b"), {
        code: "CONFIG_INVALID",
        message: /tenant "tenant-b"/,
      }));
  });

  describe("explicit keyring", () => {
    const keyring = createKeyring({
      kind: "keyring",
      keys: { "tenant-a": Buffer.alloc(32, 1), "tenant-b": Buffer.alloc(32, 2) },
    });
    it("uses each tenant's own key", () => {
      assert.equal(
        keyring.pseudonymizer("tenant-b").pseudonym("octocat"),
        createPseudonymizer(Buffer.alloc(32, 2)).pseudonym("octocat"),
      );
      assert.notEqual(
        keyring.pseudonymizer("tenant-a").pseudonym("octocat"),
        keyring.pseudonymizer("tenant-b").pseudonym("octocat"),
      );
    });
    it("throws CONFIG_INVALID naming a tenant without a key (not even an inherited property)", () => {
      assert.throws(() => keyring.pseudonymizer("tenant-c"), {
        code: "CONFIG_INVALID",
        message: /"tenant-c"/,
      });
      assert.throws(() => keyring.pseudonymizer("constructor"), { code: "CONFIG_INVALID" });
    });
  });

  it("refuses a short key when created, naming whose it is", () => {
    assert.throws(() => createKeyring({ kind: "master", key: Buffer.alloc(16) }), {
      code: "CONFIG_INVALID",
      message: /master pseudonym key is 16 bytes/,
    });
    assert.throws(
      () =>
        createKeyring({
          kind: "keyring",
          keys: { "tenant-a": Buffer.alloc(32), "tenant-b": Buffer.alloc(8) },
        }),
      { code: "CONFIG_INVALID", message: /tenant "tenant-b"/ },
    );
    assert.throws(() => createKeyring({ kind: "single", tenant: "t", key: Buffer.alloc(31) }), {
      code: "CONFIG_INVALID",
    });
  });
});
