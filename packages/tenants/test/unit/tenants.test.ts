import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codecs } from "@aiaudit/contracts";
import { TenantDirectory, createToken, tenantKey, tokenIdOf, tokenKey, tokenSha256 } from "@aiaudit/tenants";

function directoryWith(tenants: string[]) {
  const directory = new TenantDirectory();
  for (const tenant of tenants) {
    directory.apply(tenantKey(tenant), codecs.tenant.encode({ tenant, display_name: null, created_at: 1 }));
  }
  return directory;
}

function addToken(directory: TenantDirectory, tenant: string) {
  const made = createToken(tenant, "test", 1000);
  directory.apply(tokenKey(tenant, made.record.token_id), codecs.apiToken.encode(made.record));
  return made;
}

describe("API tokens", () => {
  it("are aat_<12 hex>_<43 base64url>, stored as the sha256 of the whole token only", () => {
    const { token, record } = createToken("acme", null);
    assert.match(token, /^aat_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    assert.equal(tokenIdOf(token), record.token_id);
    assert.equal(record.token_sha256, tokenSha256(token));
    assert.ok(!JSON.stringify(record).includes(token.slice(17)), "the secret part is not in the record");
  });

  it("differ every time", () => {
    const a = createToken("acme", null);
    const b = createToken("acme", null);
    assert.notEqual(a.token, b.token);
    assert.notEqual(a.record.token_id, b.record.token_id);
  });
});

describe("TenantDirectory.authenticate", () => {
  it("gives the token's tenant", () => {
    const directory = directoryWith(["acme", "globex"]);
    const { token, record } = addToken(directory, "acme");
    assert.deepEqual(directory.authenticate(`Bearer ${token}`), {
      ok: true,
      tenant: "acme",
      tokenId: record.token_id,
    });
    assert.equal(directory.authenticate(`bearer  ${token}`).ok, true, "the scheme is case-insensitive");
  });

  it("refuses a missing header, another scheme, a malformed or unknown token, a changed secret", () => {
    const directory = directoryWith(["acme"]);
    const { token } = addToken(directory, "acme");
    const changed = `${token.slice(0, -1)}${token.endsWith("A") ? "B" : "A"}`;
    for (const header of [undefined, "", `Basic ${token}`, "Bearer nope", `Bearer ${changed}`]) {
      const result = directory.authenticate(header) as { ok: boolean; reason: string };
      assert.equal(result.ok, false, String(header));
      assert.ok(!result.reason.includes(token), "the reason never repeats the token");
    }
    assert.match((directory.authenticate(undefined) as { reason: string }).reason, /Authorization: Bearer/);
    assert.match(
      (directory.authenticate(`Bearer ${createToken("acme", null).token}`) as { reason: string }).reason,
      /unknown bearer token/,
    );
  });

  it("refuses a revoked token and a token whose tenant was removed", () => {
    const directory = directoryWith(["acme", "globex"]);
    const a = addToken(directory, "acme");
    const g = addToken(directory, "globex");
    directory.apply(
      tokenKey("acme", a.record.token_id),
      codecs.apiToken.encode({ ...a.record, revoked_at: 2000 }),
    );
    assert.match((directory.authenticate(`Bearer ${a.token}`) as { reason: string }).reason, /revoked/);
    directory.apply(tenantKey("globex"), null);
    assert.match(
      (directory.authenticate(`Bearer ${g.token}`) as { reason: string }).reason,
      /does not exist/,
    );
  });

  it("lists a tenant's tokens, revoked ones included, and only that tenant's", () => {
    const directory = directoryWith(["acme", "globex"]);
    const a1 = addToken(directory, "acme");
    addToken(directory, "globex");
    directory.apply(
      tokenKey("acme", a1.record.token_id),
      codecs.apiToken.encode({ ...a1.record, revoked_at: 5 }),
    );
    const listed = directory.tokens("acme");
    assert.deepEqual(
      listed.map((t) => [t.tenant, t.token_id, t.revoked_at]),
      [["acme", a1.record.token_id, 5]],
    );
    assert.deepEqual(
      directory.tenants().map((t) => t.tenant),
      ["acme", "globex"],
    );
  });

  it("throws on a key it does not know, so the follower reports it", () => {
    const directory = new TenantDirectory();
    assert.throws(() => directory.apply("connection/acme", Buffer.from("x")), /neither tenant/);
    assert.throws(() => directory.apply("tenant/acme", Buffer.from("not avro")), /Avro/);
  });
});
