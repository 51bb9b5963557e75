/**
 * The admin-key shape check: each other kind of OpenAI key is named, the message says where an
 * admin key comes from, and the key itself is never repeated.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { checkAdminKeyShape } from "@aiaudit/openai-connect";

const ADMIN_KEYS_URL = "https://platform.openai.com/settings/organization/admin-keys";

describe("checkAdminKeyShape", () => {
  it("accepts an admin key", () => {
    assert.deepEqual(checkAdminKeyShape("sk-admin-abcdEFGH1234"), { ok: true });
  });

  for (const [key, kind] of [
    ["sk-proj-Abc123secretsecret", /is a project API key \(sk-proj-…\), not an admin key/],
    ["sk-svcacct-Abc123secretsecret", /is a service account key \(sk-svcacct-…\), not an admin key/],
    ["sk-Abc123secretsecretsecret", /is a user or legacy API key \(sk-…\), not an admin key/],
    ["ghp_Abc123secretsecretsecret", /is not an OpenAI key \(OpenAI keys start with sk-\)/],
    ["sk-adminAbc123secretsecret", /is a user or legacy API key/],
  ] as const) {
    it(`names ${key.slice(0, 8)}… and says how to get an admin key, without the key`, () => {
      const shape = checkAdminKeyShape(key);
      assert.ok(!shape.ok);
      assert.match(shape.message, kind);
      assert.match(shape.message, /Organization Admin Key/);
      assert.match(shape.message, /Only an Organization Owner can create one/);
      assert.match(shape.message, /Settings → Organization → Admin keys/);
      assert.ok(shape.message.includes(ADMIN_KEYS_URL));
      assert.ok(!shape.message.includes(key), "the key is repeated in the message");
      assert.ok(!shape.message.includes("secret"), "part of the key is repeated in the message");
    });
  }
});
