import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  auditEvents,
  faults,
  seats,
  startGithubSimulator,
  usageRecords,
  userMetricsRows,
  type GithubSimulator,
} from "@aiaudit/sim-github";
import { client, TOKEN } from "./helpers.ts";

const clock = Date.parse("2026-11-21T12:00:00Z");
let sim: GithubSimulator;
const get = client(() => sim);

const RESOURCES = [
  "/orgs/acme",
  "/orgs/acme/copilot/billing",
  "/orgs/acme/copilot/billing/seats",
  "/orgs/acme/members/acme-dev-1/copilot",
  "/orgs/acme/audit-log",
  "/enterprises/bigcorp/audit-log",
  "/enterprises/bigcorp/copilot/billing/seats",
  "/enterprises/bigcorp/copilot/usage-records",
  "/orgs/acme/copilot/metrics/reports/users-1-day?day=2026-11-20",
];

before(async () => {
  sim = await startGithubSimulator({
    tokens: [TOKEN],
    now: () => clock,
    orgs: {
      acme: {
        id: 1,
        seats: seats("acme", 5),
        auditEvents: auditEvents("acme", 5, { startMs: clock - 3600_000 }),
        reports: { "users-1-day": { "2026-11-20": userMetricsRows("2026-11-20", [{ login: "a", id: 1 }]) } },
      },
    },
    enterprises: {
      bigcorp: {
        id: 7,
        seats: seats("acme", 3),
        auditEvents: auditEvents("bigcorp", 3, { startMs: clock - 3600_000 }),
        usageRecords: usageRecords(7, 4, { startMs: clock - 60_000 }),
      },
    },
  });
});
after(() => sim.close());

describe("ETags and conditional requests", () => {
  for (const path of RESOURCES) {
    it(`GET ${path}: ETag, then 304 without body or rate-limit cost`, async () => {
      const first = await get(path);
      assert.equal(first.status, 200);
      await first.arrayBuffer();
      const etag = first.headers.get("etag") ?? "";
      assert.match(etag, /^W\/"[0-9a-f]{32}"$/);
      const remaining = Number(first.headers.get("x-ratelimit-remaining"));
      const again = await get(path, { "if-none-match": etag });
      assert.equal(again.status, 304);
      assert.equal(await again.text(), "");
      assert.equal(again.headers.get("etag"), etag);
      assert.equal(Number(again.headers.get("x-ratelimit-remaining")), remaining, "a 304 is free");
      const strong = await get(path, { "if-none-match": `"nope", ${etag.slice(2)}` });
      assert.equal(strong.status, 304, "weak comparison, lists of tags");
      const after = await get(path, { "if-none-match": '"other"' });
      assert.equal(after.status, 200);
      assert.equal(Number(after.headers.get("x-ratelimit-remaining")), remaining - 1);
    });
  }

  it("the ETag changes with the data", async () => {
    const path = "/orgs/acme/copilot/billing/seats";
    const etag = (await get(path)).headers.get("etag") ?? "";
    sim.setSeats("acme", seats("acme", 6));
    const res = await get(path, { "if-none-match": etag });
    assert.equal(res.status, 200);
    assert.notEqual(res.headers.get("etag"), etag);
  });
});

describe("x-github-request-id", () => {
  it("is on every response (200, 304, 401, 404, fault), unique, and logged", async () => {
    sim.injectFault(faults.serverError("/orgs/acme", 500));
    const ok = await get("/orgs/acme/copilot/billing/seats");
    const notModified = await get("/orgs/acme/copilot/billing/seats", {
      "if-none-match": ok.headers.get("etag") ?? "",
    });
    const responses = [
      ok,
      notModified,
      await get("/orgs/acme"),
      await get("/nowhere"),
      await fetch(`${sim.url}/orgs/acme`, { headers: { "user-agent": "t" } }),
    ];
    assert.deepEqual(
      responses.map((r) => r.status),
      [200, 304, 500, 404, 401],
    );
    const ids = responses.map((r) => r.headers.get("x-github-request-id"));
    assert.ok(ids.every((id) => id && /^[0-9A-F:]+$/.test(id)));
    assert.equal(new Set(ids).size, ids.length);
    const logged = sim.requests.slice(-5).map((r) => r.requestId);
    assert.deepEqual(logged, ids);
  });
});
