/**
 * The OpenAI connection record: its id, its fields, and a round trip through the connections
 * topic's Avro codec with the admin key sealed to its tenant and connection.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { codecs } from "@aiaudit/contracts";
import { openSecret } from "@aiaudit/crypto";
import { openaiConnection, openaiConnectionId, OPENAI_API_URL } from "@aiaudit/openai-connect";

const secretsKey = Buffer.alloc(32, 7);
const adminKey = "sk-admin-roundtrip0000000000000000";

describe("openaiConnectionId", () => {
  it("is openai- and the org id in lower case", () => {
    assert.equal(openaiConnectionId("org-AbC123"), "openai-org-abc123");
  });
});

describe("openaiConnection", () => {
  const unnamed = {
    tenant: "tenant-a",
    orgId: "org-AbC123",
    baseUrl: OPENAI_API_URL,
    adminKey,
    secretsKey,
    now: 1_760_000_000_000,
  };
  const input = { ...unnamed, name: "Acme research" };

  it("round-trips through the connection codec, the key sealed to tenant/connection", () => {
    const record = openaiConnection(input);
    const encoded = codecs.connection.encode(record);
    assert.ok(!encoded.toString("latin1").includes(adminKey), "the key is in the record in clear");
    const decoded = codecs.connection.decode(encoded);
    // The codec's objects are class instances: compare the data.
    assert.deepEqual(JSON.parse(JSON.stringify(decoded)), JSON.parse(JSON.stringify(record)));
    assert.deepEqual(
      {
        ...decoded,
        sealed_token: undefined,
      },
      {
        tenant: "tenant-a",
        connection_id: "openai-org-abc123",
        vendor: "OPENAI",
        kind: "ORGANIZATION",
        slug: "org-AbC123",
        base_url: "https://api.openai.com/v1",
        sealed_token: undefined,
        status: "ACTIVE",
        status_message: null,
        token_expires_at: null,
        scopes: [],
        keep_usage_content: false,
        display_name: "Acme research",
        created_at: 1_760_000_000_000,
        updated_at: 1_760_000_000_000,
      },
    );
    assert.equal(openSecret(secretsKey, decoded.sealed_token, "tenant-a/openai-org-abc123"), adminKey);
    assert.throws(() => openSecret(secretsKey, decoded.sealed_token, "tenant-b/openai-org-abc123"));
  });

  it("without a name, display_name is null", () => {
    assert.equal(openaiConnection(unnamed).display_name, null);
    assert.equal(openaiConnection({ ...unnamed, name: null }).display_name, null);
  });
});
