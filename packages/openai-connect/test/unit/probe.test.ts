/**
 * probeOpenai against the OpenAI simulator: one GET /v1/organization/users?limit=1, never
 * retried, and every refusal told in words a person acts on — a wrong or revoked key (401), a key
 * without admin rights (403), a rate limit with its wait, a base URL that is not OpenAI's API, and
 * a host that cannot be reached. No message holds the key.
 */
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, before, beforeEach, describe, it } from "node:test";
import { probeOpenai, REJECTED_ADMIN_KEY } from "@aiaudit/openai-connect";
import {
  faults,
  startOpenaiSimulator,
  type OpenaiSimulator,
  type SimulatedOpenaiOrg,
} from "@aiaudit/sim-openai";

const adminKey = "sk-admin-probegoodkey000000000000";
const projectKey = "sk-proj-proberestricted00000000000";
const USERS = "/v1/organization/users";
let sim: OpenaiSimulator;
let base: string;

/** One organization whose only admin key is `adminKey`. */
const acme = (): SimulatedOpenaiOrg => ({
  adminKeys: [adminKey],
  users: [{ object: "organization.user", id: "user-1", email: "a@acme.example", added_at: 1 }],
  projects: [],
  projectApiKeys: {},
  projectUsers: {},
  serviceAccounts: {},
  adminApiKeys: [],
  auditLogs: [],
  auditLoggingEnabled: true,
});

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { "org-acme": acme() }, restrictedKeys: [projectKey] });
  base = `${sim.url}/v1`;
});
after(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.requests.length = 0;
});

const noKeyIn = (text: string) => {
  for (const key of [adminKey, projectKey]) assert.ok(!text.includes(key), "the key is in the message");
  assert.ok(!/sk-(admin|proj)-/.test(text), "part of a key is in the message");
};

describe("probeOpenai", () => {
  it("accepts an admin key with one GET /organization/users?limit=1", async () => {
    assert.deepEqual(await probeOpenai({ baseUrl: base, adminKey }), { ok: true });
    assert.deepEqual(
      sim.requests.map((r) => [r.method, r.path, r.query, r.authorization, r.status]),
      [["GET", USERS, { limit: "1" }, "Bearer", 200]],
    );
  });

  it("a trailing slash on the base URL is the same base URL", async () => {
    assert.deepEqual(await probeOpenai({ baseUrl: `${base}/`, adminKey }), { ok: true });
    assert.equal(sim.requests[0]?.path, USERS);
  });

  it("401: the shared words about a mistyped, revoked or non-admin key", async () => {
    const result = await probeOpenai({ baseUrl: base, adminKey: "sk-admin-wrongwrongwrong000000000" });
    assert.deepEqual(result, { ok: false, status: 401, message: REJECTED_ADMIN_KEY });
    assert.match(REJECTED_ADMIN_KEY, /mistyped, revoked or expired, or it is not an Organization Admin Key/);
    noKeyIn(REJECTED_ADMIN_KEY);
  });

  it("403: a key without admin rights, and who can make one", async () => {
    const result = await probeOpenai({ baseUrl: base, adminKey: projectKey });
    assert.ok(!result.ok);
    assert.equal(result.status, 403);
    assert.match(result.message, /no admin rights/);
    assert.match(result.message, /restricted key/);
    assert.match(result.message, /not an Organization Owner/);
    assert.match(result.message, /settings\/organization\/admin-keys/);
    noKeyIn(result.message);
  });

  it("429: retry in the seconds retry-after says, and the probe does not retry itself", async () => {
    sim.injectFault(faults.rateLimited(USERS, 37, { times: 5 }));
    const result = await probeOpenai({ baseUrl: base, adminKey });
    assert.ok(!result.ok);
    assert.equal(result.status, 429);
    assert.match(result.message, /rate-limited .*retry in 37 seconds/);
    assert.equal(sim.requests.length, 1, "the probe retried");
  });

  it("429 from the per-minute limit: the simulator's own retry-after", async () => {
    const limited = await startOpenaiSimulator({
      orgs: { "org-acme": acme() },
      rateLimitPerMinute: 1,
    });
    after(() => limited.close());
    assert.deepEqual(await probeOpenai({ baseUrl: `${limited.url}/v1`, adminKey }), { ok: true });
    const result = await probeOpenai({ baseUrl: `${limited.url}/v1`, adminKey });
    assert.ok(!result.ok);
    assert.match(result.message, /retry in (60|59|58) seconds/);
  });

  it("a login page answered with 200 is not OpenAI's API", async () => {
    sim.injectFault(faults.html(USERS));
    const result = await probeOpenai({ baseUrl: base, adminKey });
    assert.deepEqual(result, {
      ok: false,
      status: 200,
      message: `${base} does not answer like OpenAI's API (it answered 200 with text/html; charset=utf-8) — check --base-url: https://api.openai.com/v1, or a proxy's URL up to and including /v1`,
    });
  });

  it("JSON that is not a list of users is not OpenAI's API", async () => {
    sim.injectFault(faults.rewrite(USERS, () => ({ hello: "world" })));
    const result = await probeOpenai({ baseUrl: base, adminKey });
    assert.ok(!result.ok);
    assert.match(
      result.message,
      /does not answer like OpenAI's API \(it answered 200 with JSON that is not a list of users\)/,
    );
  });

  it("a base URL without /v1 gets a 404, told as a wrong base URL with the hint", async () => {
    const result = await probeOpenai({ baseUrl: sim.url, adminKey });
    assert.ok(!result.ok);
    assert.equal(result.status, 404);
    assert.match(
      result.message,
      /does not answer like OpenAI's API \(it answered 404 with application\/json\) — check --base-url \(it should end in \/v1\)/,
    );
  });

  it("a 500 is told as such, with OpenAI's words", async () => {
    sim.injectFault(faults.status(USERS, 500));
    const result = await probeOpenai({ baseUrl: base, adminKey });
    assert.ok(!result.ok);
    assert.equal(result.status, 500);
    assert.match(
      result.message,
      /OpenAI answered 500 when listing the organization's users; try again later\. OpenAI said: "The server had an error/,
    );
  });

  it("an OPENAI_ADMIN_KEY or OPENAI_BASE_URL in the environment changes nothing", async () => {
    const saved = { key: process.env.OPENAI_ADMIN_KEY, url: process.env.OPENAI_BASE_URL };
    process.env.OPENAI_ADMIN_KEY = adminKey;
    process.env.OPENAI_BASE_URL = base;
    try {
      const result = await probeOpenai({ baseUrl: base, adminKey: "sk-admin-wrongwrongwrong000000000" });
      assert.equal(result.ok ? 200 : result.status, 401);
    } finally {
      if (saved.key === undefined) delete process.env.OPENAI_ADMIN_KEY;
      else process.env.OPENAI_ADMIN_KEY = saved.key;
      if (saved.url === undefined) delete process.env.OPENAI_BASE_URL;
      else process.env.OPENAI_BASE_URL = saved.url;
    }
  });
});

describe("probeOpenai when OpenAI cannot be reached", () => {
  it("a refused connection: status 0, named as such", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const url = `http://127.0.0.1:${port}/v1`;
    assert.deepEqual(await probeOpenai({ baseUrl: url, adminKey }), {
      ok: false,
      status: 0,
      message: `cannot reach ${url}: connection refused — check --base-url`,
    });
  });

  it("a host that accepts the connection and never answers: the timeout", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const { port } = server.address() as { port: number };
    const started = Date.now();
    const result = await probeOpenai({ baseUrl: `http://127.0.0.1:${port}/v1`, adminKey, timeoutMs: 300 });
    assert.ok(!result.ok);
    assert.equal(result.status, 0);
    assert.match(result.message, /^cannot reach .*: no answer within 0\.3 s — check --base-url$/);
    assert.ok(Date.now() - started < 5000);
  });

  it("a host name that does not resolve", async () => {
    const result = await probeOpenai({
      baseUrl: "https://nonexistent.invalid/v1",
      adminKey,
      timeoutMs: 5000,
    });
    assert.ok(!result.ok);
    assert.equal(result.status, 0);
    assert.match(
      result.message,
      /^cannot reach https:\/\/nonexistent\.invalid\/v1: (the host name does not resolve|no answer within 5 s) — check --base-url$/,
    );
  });
});
