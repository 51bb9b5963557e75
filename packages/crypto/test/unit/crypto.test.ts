import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { describe, it } from "node:test";
import { createPseudonymizer, openSecret, pseudonymizeDeep, sealSecret, uuidv7 } from "@aiaudit/crypto";

const key = Buffer.alloc(32, 7);

describe("pseudonyms", () => {
  const p = createPseudonymizer(key);
  it("same key and input give the same value", () =>
    assert.equal(p.pseudonym("octocat"), p.pseudonym("octocat")));
  it("are HMAC-SHA256 hex", () => assert.match(p.pseudonym("octocat"), /^[0-9a-f]{64}$/));
  it("normalize case and surrounding space", () =>
    assert.equal(p.pseudonym(" OctoCat "), p.pseudonym("octocat")));
  it("another key gives another value", () =>
    assert.notEqual(createPseudonymizer(Buffer.alloc(32, 8)).pseudonym("octocat"), p.pseudonym("octocat")));
  it("different people differ", () => assert.notEqual(p.pseudonym("octocat"), p.pseudonym("octokitten")));
  it("carry a key id that does not reveal the key", () => {
    assert.match(p.keyId, /^[0-9a-f]{16}$/);
    assert.ok(!key.toString("hex").includes(p.keyId));
  });
  it("refuse a short key", () => assert.throws(() => createPseudonymizer(Buffer.alloc(16))));
  it("of long text are computed like any other, without being remembered", () => {
    const text = "x".repeat(10_000);
    assert.equal(p.pseudonym(text), p.pseudonym(` ${text.toUpperCase()} `));
    assert.match(p.pseudonym(text), /^[0-9a-f]{64}$/);
  });

  it("pseudonymizeDeep removes logins, emails and user URLs from any payload", () => {
    const raw = {
      created_at: "x",
      assignee: {
        login: "OctoCat",
        id: 1,
        url: "https://api.github.com/users/OctoCat",
        html_url: "https://github.com/OctoCat",
      },
      actor: "octocat",
      data: [{ email: "octo@cat.dev", name: "Octo Cat" }],
    };
    const out = JSON.stringify(pseudonymizeDeep(raw, p, "seat"));
    assert.ok(!/octo/i.test(out), out);
    assert.ok(out.includes(`hmac:${p.pseudonym("octocat")}`));
    assert.ok(out.includes('"created_at":"x"'));
  });
});

describe("sealed secrets", () => {
  const token = "ghp_exampleexampleexampleexample0000";
  it("round-trip with the same key and context", () => {
    assert.equal(openSecret(key, sealSecret(key, token, "tenant-a/acme"), "tenant-a/acme"), token);
  });
  it("never contain the plaintext and use a fresh nonce each time", () => {
    const a = sealSecret(key, token, "c");
    const b = sealSecret(key, token, "c");
    assert.ok(!JSON.stringify(a).includes(token));
    assert.notEqual(a.nonce, b.nonce);
    assert.notEqual(a.ciphertext, b.ciphertext);
  });
  for (const field of ["ciphertext", "tag", "nonce"] as const) {
    it(`reject a flipped byte in the ${field}`, () => {
      const sealed = sealSecret(key, token, "c");
      const bytes = Buffer.from(sealed[field], "base64");
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      assert.throws(() => openSecret(key, { ...sealed, [field]: bytes.toString("base64") }, "c"), {
        code: "SECRET_UNSEALABLE",
      });
    });
  }
  it("reject a truncated tag", () => {
    const sealed = sealSecret(key, token, "c");
    const tag = Buffer.from(sealed.tag, "base64").subarray(0, 4).toString("base64");
    assert.throws(() => openSecret(key, { ...sealed, tag }, "c"), { code: "SECRET_UNSEALABLE" });
  });
  it("reject the wrong key, naming both key ids", () => {
    const other = randomBytes(32);
    assert.throws(() => openSecret(other, sealSecret(key, token, "c"), "c"), /sealed with key [0-9a-f]{16}/);
  });
  it("reject another context (a token moved to another connection)", () => {
    assert.throws(() => openSecret(key, sealSecret(key, token, "tenant-a/acme"), "tenant-b/acme"), {
      code: "SECRET_UNSEALABLE",
    });
  });
});

describe("uuidv7", () => {
  it("is a version 7, variant 10 UUID that sorts by time", () => {
    const a = uuidv7(1_700_000_000_000);
    const b = uuidv7(1_700_000_000_001);
    assert.match(a, /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.ok(a < b);
  });
});
