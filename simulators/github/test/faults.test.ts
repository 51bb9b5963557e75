import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { auditEvents, faults, seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { client, links, TOKEN } from "./helpers.ts";

const START = Date.parse("2026-11-20T00:00:00Z");
const clock = Date.parse("2026-11-21T12:00:00Z");
let sim: GithubSimulator;
const get = client(() => sim);
const message = async (res: Response) => ((await res.json()) as { message: string }).message;
const SEATS = "/orgs/acme/copilot/billing/seats";
const AUDIT = "/orgs/acme/audit-log";

before(async () => {
  sim = await startGithubSimulator({
    tokens: [TOKEN],
    now: () => clock,
    orgs: {
      acme: { id: 1, seats: seats("acme", 10), auditEvents: auditEvents("acme", 40, { startMs: START }) },
    },
  });
});
after(() => sim.close());

describe("faults", () => {
  it("match by path, method and query substring, and fire `times` times", async () => {
    sim.injectFault(faults.serverError(AUDIT, 502, { query: "after=", times: 2 }));
    sim.injectFault(faults.serverError(AUDIT, 500, { method: "POST" }));
    const first = await get(`${AUDIT}?per_page=10`);
    assert.equal(first.status, 200, "the first page has no after= and the POST fault does not match a GET");
    const next = links(first).next ?? "";
    assert.equal((await get(next)).status, 502);
    assert.equal((await get(next)).status, 502);
    assert.equal((await get(next)).status, 200);
    sim.clearFaults();
  });

  it("times: Infinity lasts until clearFaults; a RegExp path matches many paths", async () => {
    sim.injectFault(faults.status(/^\/orgs\/acme\//, 503, { times: Infinity, body: { message: "down" } }));
    assert.equal((await get(SEATS)).status, 503);
    assert.equal(await message(await get(AUDIT)), "down");
    assert.equal((await get("/orgs/acme")).status, 200, "the RegExp needs a trailing slash");
    sim.clearFaults();
    assert.equal((await get(SEATS)).status, 200);
  });

  it("401 Bad credentials, 404, and 403 not accessible with x-accepted-github-permissions", async () => {
    sim.injectFault(faults.badCredentials(SEATS));
    sim.injectFault(faults.notFound(AUDIT));
    sim.injectFault(faults.forbidden("/orgs/acme"));
    const bad = await get(SEATS);
    assert.equal(bad.status, 401);
    assert.equal(await message(bad), "Bad credentials");
    assert.equal((await get(AUDIT)).status, 404);
    const forbidden = await get("/orgs/acme");
    assert.equal(forbidden.status, 403);
    assert.equal(await message(forbidden), "Resource not accessible by personal access token");
    assert.equal(forbidden.headers.get("x-accepted-github-permissions"), "members=read; administration=read");
  });

  it("secondary rate limit: 403 or 429, retry-after, a message naming the secondary limit", async () => {
    sim.injectFault(faults.secondaryRateLimit({ path: AUDIT, retryAfterSeconds: 17 }));
    sim.injectFault(faults.secondaryRateLimit({ path: SEATS, retryAfterSeconds: 5, status: 429 }));
    for (const [path, status, retry] of [
      [AUDIT, 403, "17"],
      [SEATS, 429, "5"],
    ] as const) {
      const res = await get(path);
      assert.equal(res.status, status);
      assert.equal(res.headers.get("retry-after"), retry);
      assert.match(await message(res), /^You have exceeded a secondary rate limit/);
      assert.notEqual(res.headers.get("x-ratelimit-remaining"), "0");
    }
  });

  it("primary rate limit: remaining 0 and reset = now + N seconds", async () => {
    sim.injectFault(faults.primaryRateLimit({ path: SEATS, resetInSeconds: 90, status: 429 }));
    const res = await get(SEATS);
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("x-ratelimit-remaining"), "0");
    assert.equal(Number(res.headers.get("x-ratelimit-reset")), Math.floor(clock / 1000) + 90);
    assert.match(await message(res), /^API rate limit exceeded for user ID \d+\./);
    assert.equal(res.headers.get("retry-after"), null);
  });

  it("slow: waits, then answers normally, so a client timeout fires first", async () => {
    sim.injectFault(faults.slow(SEATS, 300, { times: 2 }));
    await assert.rejects(get(SEATS, {}, { signal: AbortSignal.timeout(50) }), { name: "TimeoutError" });
    const started = Date.now();
    const res = await get(SEATS);
    assert.ok(Date.now() - started >= 250);
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { total_seats: number }).total_seats, 10);
    const slowOnes = sim.requests.filter((r) => r.fault === "slow");
    assert.equal(slowOnes.length, 2);
  });

  it("truncated: 200 with the JSON body cut in half", async () => {
    const whole = await (await get(SEATS)).text();
    sim.injectFault(faults.truncated(SEATS));
    const res = await get(SEATS);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(text.length, Math.floor(whole.length / 2));
    assert.throws(() => JSON.parse(text) as unknown, SyntaxError);
    assert.equal(res.headers.get("etag"), null);
  });

  it("a status fault can also be slow", async () => {
    sim.injectFault({ path: SEATS, status: 500, delayMs: 100 });
    const started = Date.now();
    assert.equal((await get(SEATS)).status, 500);
    assert.ok(Date.now() - started >= 90);
  });
});

describe("primary rate limit (real)", () => {
  it("answers 403 with remaining 0 once the hourly budget is spent", async () => {
    const small = await startGithubSimulator({
      tokens: [TOKEN],
      rateLimit: 2,
      now: () => clock,
      orgs: { acme: { id: 1, seats: [] } },
    });
    try {
      const sget = client(() => small);
      const r1 = await sget("/orgs/acme");
      assert.equal(r1.headers.get("x-ratelimit-remaining"), "1");
      assert.equal((await sget("/orgs/acme")).headers.get("x-ratelimit-remaining"), "0");
      const over = await sget("/orgs/acme");
      assert.equal(over.status, 403);
      assert.equal(over.headers.get("x-ratelimit-remaining"), "0");
      assert.equal(Number(over.headers.get("x-ratelimit-reset")), Math.ceil((clock + 3600_000) / 1000));
      assert.match(await message(over), /^API rate limit exceeded for user ID \d+\./);
    } finally {
      await small.close();
    }
  });
});

describe("request log", () => {
  it("records method, path, query, status, time, If-None-Match, auth scheme and faults, never the token", async () => {
    const from = sim.requests.length;
    sim.injectFault(faults.serverError(SEATS, 502));
    await get(`${SEATS}?per_page=5`, { "if-none-match": 'W/"abc"' });
    await get(`${SEATS}?per_page=5`);
    await fetch(`${sim.url}/orgs/acme`, { headers: { authorization: TOKEN, "user-agent": "t" } });
    await fetch(`${sim.url}/orgs/acme`, { headers: { authorization: `token ${TOKEN}x`, "user-agent": "t" } });
    await fetch(`${sim.url}/orgs/acme?access_token=${TOKEN}`, { headers: { "user-agent": "t" } });
    const mine = sim.requests.slice(from);
    assert.deepEqual(
      mine.map((r) => [r.method, r.path, r.status, r.authorization, r.fault]),
      [
        ["GET", SEATS, 502, "Bearer", "status"],
        ["GET", SEATS, 200, "Bearer", undefined],
        ["GET", "/orgs/acme", 401, "unrecognized", undefined],
        ["GET", "/orgs/acme", 401, "token", undefined],
        ["GET", "/orgs/acme", 401, undefined, undefined],
      ],
    );
    const [first] = mine;
    assert.ok(first);
    assert.deepEqual(first.query, { per_page: "5" });
    assert.equal(first.ifNoneMatch, 'W/"abc"');
    assert.equal(mine[1]?.ifNoneMatch, undefined);
    assert.ok(mine.every((r) => r.at === clock && /^[0-9A-F:]+$/.test(r.requestId)));
    const everything = JSON.stringify(sim.requests);
    assert.ok(!everything.includes(TOKEN.slice(4)), "no token in the request log");
  });
});
