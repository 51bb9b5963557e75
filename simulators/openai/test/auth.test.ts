import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { startOpenaiSimulator } from "@aiaudit/sim-openai";
import { ADMIN_KEY, client, fixture, NOW, ok, type ErrorBody } from "./helpers.ts";

const OTHER_KEY = "sk-admin-otherorg00000000000000000wxyz";
const PROJECT_KEY = "sk-proj-restricted000000000000000000zz";
const error = async (res: Response) => ((await res.json()) as ErrorBody).error;

describe("auth and rate limit", () => {
  it("401 invalid_api_key for a missing or unknown key, masked; the log keeps the scheme only", async () => {
    const sim = await startOpenaiSimulator({ orgs: { "org-acme": fixture().org } });
    try {
      const missing = await fetch(`${sim.url}/v1/organization/users`);
      assert.equal(missing.status, 401);
      assert.equal((await error(missing)).code, "invalid_api_key");
      const wrongKey = "sk-admin-wrongwrongwrongwrong0000cd";
      const wrong = await client(() => sim, wrongKey)("/organization/users");
      assert.equal(wrong.status, 401);
      const body = await error(wrong);
      assert.deepEqual(
        [body.type, body.code, body.param],
        ["invalid_request_error", "invalid_api_key", null],
      );
      assert.match(body.message, /^Incorrect API key provided: sk-ad\*\*\*cd\./);
      assert.ok(!body.message.includes(wrongKey));
      assert.equal((await client(() => sim, "short")("/organization/users")).status, 401);
      assert.deepEqual(
        sim.requests.map((r) => [r.status, r.authorization]),
        [
          [401, undefined],
          [401, "Bearer"],
          [401, "Bearer"],
        ],
      );
      assert.ok(!JSON.stringify(sim.requests).includes("sk-"), "no key in the request log");
    } finally {
      await sim.close();
    }
  });

  it("403 for a valid key that is not an admin key; each admin key sees its own org", async () => {
    const acme = fixture();
    const other = fixture({ adminKey: OTHER_KEY, orgId: "org-other", users: 3, seed: 99 });
    const sim = await startOpenaiSimulator({
      orgs: { "org-acme": acme.org, "org-other": other.org },
      restrictedKeys: [PROJECT_KEY],
    });
    try {
      for (const path of ["/organization/users", "/organization/audit_logs", "/organization/nothing"]) {
        const res = await client(() => sim, PROJECT_KEY)(path);
        assert.equal(res.status, 403, path);
        const body = await error(res);
        assert.equal(body.code, null);
        assert.match(body.message, /admin API key/);
      }
      const mine = await ok(await client(() => sim)("/organization/users?limit=100"));
      const theirs = await ok(await client(() => sim, OTHER_KEY)("/organization/users?limit=100"));
      assert.deepEqual([mine.data.length, theirs.data.length], [25, 3]);
      assert.deepEqual(theirs.data[0]?.id, other.org.users[0]?.id);
    } finally {
      await sim.close();
    }
  });

  it("429 with retry-after once a key exceeds rateLimitPerMinute; another key and the next minute pass", async () => {
    let clock = NOW;
    const sim = await startOpenaiSimulator({
      orgs: { "org-acme": fixture().org, "org-other": fixture({ adminKey: OTHER_KEY, users: 2 }).org },
      rateLimitPerMinute: 3,
      now: () => clock,
    });
    try {
      const get = client(() => sim);
      for (let i = 0; i < 3; i++) assert.equal((await get("/organization/projects")).status, 200);
      clock += 15_000;
      const limited = await get("/organization/audit_logs");
      assert.equal(limited.status, 429);
      assert.equal(limited.headers.get("retry-after"), "45");
      assert.equal(limited.headers.get("retry-after-ms"), null);
      const body = await error(limited);
      assert.deepEqual([body.type, body.code], ["requests", "rate_limit_exceeded"]);
      assert.equal((await client(() => sim, OTHER_KEY)("/organization/users")).status, 200);
      clock += 45_000;
      assert.equal((await get("/organization/users")).status, 200);
      assert.deepEqual(
        sim.requests.map((r) => r.at - NOW),
        [0, 0, 0, 15_000, 15_000, 60_000],
      );
    } finally {
      await sim.close();
    }
  });

  it("listens on the requested port", async () => {
    const first = await startOpenaiSimulator({ orgs: {} });
    const port = Number(new URL(first.url).port);
    await first.close();
    const sim = await startOpenaiSimulator({ orgs: {}, port });
    try {
      assert.equal(sim.url, `http://127.0.0.1:${port}`);
      assert.equal(
        (
          await fetch(`${sim.url}/v1/organization/users`, {
            headers: { authorization: `Bearer ${ADMIN_KEY}` },
          })
        ).status,
        401,
      );
    } finally {
      await sim.close();
    }
  });
});
