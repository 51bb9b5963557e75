import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  auditEvents,
  seats,
  startGithubSimulator,
  usageRecords,
  type GithubSimulator,
} from "@aiaudit/sim-github";
import { client, TOKEN } from "./helpers.ts";

let clock = Date.parse("2026-11-21T12:00:00Z");
let sim: GithubSimulator;
const as = (token: string) => client(() => sim, token);
const status = async (token: string, path: string) => (await as(token)(path)).status;

before(async () => {
  sim = await startGithubSimulator({
    now: () => clock,
    tokens: [
      TOKEN,
      { token: "ghp_readorg", scopes: ["read:org"] },
      { token: "ghp_adminorg", scopes: ["admin:org"] },
      { token: "ghp_audit", scopes: ["read:audit_log"] },
      { token: "ghp_billing", scopes: ["manage_billing:copilot"] },
      { token: "ghp_enterprise", scopes: ["read:enterprise"] },
      { token: "ghp_expiring", expiresAt: "2026-11-22T00:00:00Z", userId: 4242 },
    ],
    orgs: {
      acme: {
        id: 1,
        seats: seats("acme", 3),
        auditEvents: auditEvents("acme", 3, { startMs: clock - 60_000 }),
      },
    },
    enterprises: {
      bigcorp: {
        id: 7,
        seats: seats("acme", 2),
        usageRecords: usageRecords(7, 2, { startMs: clock - 60_000 }),
      },
    },
  });
});
after(() => sim.close());

describe("token scopes", () => {
  it("grants each endpoint to the classic scopes the reference names", async () => {
    const table: [string, string, number][] = [
      ["ghp_readorg", "/orgs/acme/copilot/billing/seats", 200],
      ["ghp_readorg", "/orgs/acme/copilot/billing", 200],
      ["ghp_adminorg", "/orgs/acme/copilot/billing/seats", 200],
      ["ghp_billing", "/orgs/acme/copilot/billing/seats", 200],
      ["ghp_audit", "/orgs/acme/copilot/billing/seats", 403],
      ["ghp_audit", "/orgs/acme/audit-log", 200],
      ["ghp_readorg", "/orgs/acme/audit-log", 403],
      ["ghp_adminorg", "/orgs/acme/audit-log", 403],
      ["ghp_enterprise", "/enterprises/bigcorp/copilot/billing/seats", 200],
      ["ghp_billing", "/enterprises/bigcorp/copilot/billing/seats", 200],
      ["ghp_readorg", "/enterprises/bigcorp/copilot/billing/seats", 403],
      ["ghp_enterprise", "/enterprises/bigcorp/copilot/usage-records", 200],
      ["ghp_billing", "/enterprises/bigcorp/copilot/usage-records", 403],
      ["ghp_audit", "/orgs/acme", 200],
      [TOKEN, "/enterprises/bigcorp/copilot/usage-records", 200],
    ];
    for (const [token, path, expected] of table)
      assert.equal(await status(token, path), expected, `${token} ${path}`);
  });

  it("a refusal is 403 'Resource not accessible by personal access token' with the permission headers", async () => {
    const res = await as("ghp_billing")("/enterprises/bigcorp/copilot/usage-records");
    assert.equal(res.status, 403);
    assert.equal(
      ((await res.json()) as { message: string }).message,
      "Resource not accessible by personal access token",
    );
    assert.ok(res.headers.get("x-accepted-github-permissions"));
    assert.equal(res.headers.get("x-oauth-scopes"), "manage_billing:copilot");
    assert.equal(res.headers.get("x-accepted-oauth-scopes"), "read:enterprise");
  });

  it("x-oauth-scopes is sent for scoped tokens only", async () => {
    assert.equal((await as("ghp_readorg")("/orgs/acme")).headers.get("x-oauth-scopes"), "read:org");
    assert.equal((await as(TOKEN)("/orgs/acme")).headers.get("x-oauth-scopes"), null);
  });
});

describe("token expiry", () => {
  it("every response carries github-authentication-token-expiration; after it, 401 Bad credentials", async () => {
    const get = as("ghp_expiring");
    for (const path of ["/orgs/acme", "/orgs/nobody", "/orgs/acme/audit-log"]) {
      const res = await get(path);
      assert.equal(
        res.headers.get("github-authentication-token-expiration"),
        "2026-11-22 00:00:00 UTC",
        path,
      );
    }
    assert.equal((await as(TOKEN)("/orgs/acme")).headers.get("github-authentication-token-expiration"), null);
    clock = Date.parse("2026-11-22T00:00:00Z");
    const expired = await get("/orgs/acme");
    assert.equal(expired.status, 401);
    assert.equal(((await expired.json()) as { message: string }).message, "Bad credentials");
    assert.equal(expired.headers.get("github-authentication-token-expiration"), "2026-11-22 00:00:00 UTC");
    assert.equal(await status(TOKEN, "/orgs/acme"), 200);
  });

  it("401 for an unknown token, a missing token and a missing User-Agent is 403", async () => {
    assert.equal(await status("ghp_unknown", "/orgs/acme"), 401);
    assert.equal((await fetch(`${sim.url}/orgs/acme`, { headers: { "user-agent": "t" } })).status, 401);
    const noAgent = await fetch(`${sim.url}/orgs/acme`, {
      headers: { authorization: `Bearer ${TOKEN}`, "user-agent": "" },
    });
    assert.equal(noAgent.status, 403);
    const badVersion = await as(TOKEN)("/orgs/acme", { "x-github-api-version": "2020-01-01" });
    assert.equal(badVersion.status, 400);
  });
});
