import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { faults, HTML_PAGE, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { client, fixture, ok, type ErrorBody, type List } from "./helpers.ts";

let sim: OpenaiSimulator;
const get = client(() => sim);
const USERS = "/v1/organization/users";
const AUDIT = "/v1/organization/audit_logs";

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { "org-acme": fixture().org } });
});
after(() => sim.close());

describe("faults", () => {
  it("status faults: ErrorResponse by default, match by method and query, fire `times` times", async () => {
    sim.injectFault(faults.status(AUDIT, 502, { query: "after=", times: 2 }));
    sim.injectFault(faults.status(USERS, 500, { method: "POST" }));
    const first = await ok(await get("/organization/audit_logs?limit=5"));
    assert.equal((await get("/organization/users")).status, 200, "the POST fault does not match a GET");
    const next = `/organization/audit_logs?limit=5&after=${first.last_id ?? ""}`;
    const failed = await get(next);
    assert.equal(failed.status, 502);
    assert.equal(((await failed.json()) as ErrorBody).error.type, "server_error");
    assert.equal((await get(next)).status, 502);
    assert.equal((await get(next)).status, 200);
    assert.deepEqual(
      sim.requests.slice(-4).map((r) => [r.status, r.fault]),
      [
        [200, undefined],
        [502, "status"],
        [502, "status"],
        [200, undefined],
      ],
    );
    sim.clearFaults();
  });

  it("a RegExp path with times: Infinity lasts until clearFaults; a given body is sent as is", async () => {
    sim.injectFault(faults.status(/^\/v1\/organization\//, 503, { times: Infinity, body: { down: true } }));
    for (const path of ["/organization/users", "/organization/projects"]) {
      const res = await get(path);
      assert.equal(res.status, 503);
      assert.deepEqual(await res.json(), { down: true });
    }
    sim.clearFaults();
    assert.equal((await get("/organization/users")).status, 200);
  });

  it("rateLimited: 429 with retry-after in seconds and a rate_limit_exceeded body", async () => {
    sim.injectFault(faults.rateLimited(AUDIT, 7));
    const res = await get("/organization/audit_logs");
    assert.equal(res.status, 429);
    assert.equal(res.headers.get("retry-after"), "7");
    assert.equal(((await res.json()) as ErrorBody).error.code, "rate_limit_exceeded");
    assert.equal(sim.requests.at(-1)?.fault, "rate-limited");
  });

  it("slow: a client timeout fires; without one the normal answer arrives late", async () => {
    sim.injectFault(faults.slow(USERS, 300));
    await assert.rejects(
      get("/organization/users", { signal: AbortSignal.timeout(50) }),
      /TimeoutError|aborted/,
    );
    sim.injectFault(faults.slow(USERS, 100));
    const started = performance.now();
    assert.equal((await ok(await get("/organization/users"))).object, "list");
    assert.ok(performance.now() - started >= 95);
  });

  it("truncated: 200 with JSON cut in half", async () => {
    const whole = await (await get("/organization/users?limit=5")).text();
    sim.injectFault(faults.truncated(USERS));
    const res = await get("/organization/users?limit=5");
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.equal(text, whole.slice(0, Math.floor(whole.length / 2)));
    assert.throws(() => JSON.parse(text) as unknown);
  });

  it("html: 200 text/html login page instead of JSON", async () => {
    sim.injectFault(faults.html(USERS, { query: "limit=" }));
    assert.equal((await get("/organization/users")).status, 200);
    const res = await get("/organization/users?limit=2");
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
    assert.equal(await res.text(), HTML_PAGE);
  });

  it("rewrite: the real answer reshaped (an object where data belongs); errors pass untouched", async () => {
    sim.injectFault(faults.rewrite(USERS, (b) => ({ ...(b as List), data: { oops: true } })));
    const body = (await (await get("/organization/users?limit=3")).json()) as Record<string, unknown>;
    assert.deepEqual(body.data, { oops: true });
    assert.equal(body.has_more, true);
    sim.injectFault(faults.rewrite(USERS, () => "never"));
    assert.equal((await get("/organization/users?limit=0")).status, 400);
    sim.clearFaults();
  });
});
