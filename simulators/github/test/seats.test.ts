import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";

const token = "ghp_simulatortoken000000000000000000";
let sim: GithubSimulator;
const get = (path: string, headers: Record<string, string> = {}) =>
  fetch(`${sim.url}${path}`, {
    headers: { authorization: `Bearer ${token}`, "user-agent": "t", ...headers },
  });

before(async () => {
  sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: seats("acme", 120) } } });
});
after(() => sim.close());

describe("GitHub simulator: seats", () => {
  it("pages with Link headers like GitHub (next, last, first; prev after page 1)", async () => {
    const first = await get("/orgs/acme/copilot/billing/seats?per_page=50");
    assert.equal(first.status, 200);
    const body = (await first.json()) as { total_seats: number; seats: unknown[] };
    assert.equal(body.total_seats, 120);
    assert.equal(body.seats.length, 50);
    const link = first.headers.get("link") ?? "";
    assert.match(link, /page=2[^>]*>; rel="next"/);
    assert.match(link, /page=3[^>]*>; rel="last"/);
    assert.doesNotMatch(link, /rel="prev"/);
    const last = await get("/orgs/acme/copilot/billing/seats?per_page=50&page=3");
    assert.equal(((await last.json()) as { seats: unknown[] }).seats.length, 20);
    assert.doesNotMatch(last.headers.get("link") ?? "", /rel="next"/);
  });
  it("answers 304 to a matching If-None-Match, without spending rate limit", async () => {
    const first = await get("/orgs/acme/copilot/billing/seats");
    const etag = first.headers.get("etag") ?? "";
    const remaining = Number(first.headers.get("x-ratelimit-remaining"));
    const again = await get("/orgs/acme/copilot/billing/seats", { "if-none-match": etag });
    assert.equal(again.status, 304);
    assert.equal(Number(again.headers.get("x-ratelimit-remaining")), remaining);
  });
  it("sends rate-limit headers", async () => {
    const res = await get("/orgs/acme");
    for (const h of ["x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-used", "x-ratelimit-reset"]) {
      assert.ok(res.headers.get(h), h);
    }
  });
  it("answers 401 to a bad token and 404 to an unknown org", async () => {
    const bad = await fetch(`${sim.url}/orgs/acme`, {
      headers: { authorization: "Bearer nope", "user-agent": "t" },
    });
    assert.equal(bad.status, 401);
    assert.equal(((await bad.json()) as { message: string }).message, "Bad credentials");
    assert.equal((await get("/orgs/nobody/copilot/billing/seats")).status, 404);
  });
  it("injects faults and records every request", async () => {
    sim.injectFault({ path: "/orgs/acme", status: 502, times: 1 });
    assert.equal((await get("/orgs/acme")).status, 502);
    assert.equal((await get("/orgs/acme")).status, 200);
    const mine = sim.requests.filter((r) => r.path === "/orgs/acme").slice(-2);
    assert.deepEqual(
      mine.map((r) => r.status),
      [502, 200],
    );
  });
});
