/**
 * Issue 8, the packer's HTTP API against the real broker (tenants and tokens on the tenants topic)
 * and the real ClickHouse engine: the seed flow (POST April → download → the Python verifier exits
 * 0; the event at 23:59:59.500 is in, the next midnight is not), the same period twice is the same
 * pack, tenant isolation (another tenant's token gets 404 for every pack of this one), 401s, 400s
 * with messages, and fuzzed bodies that never get a 5xx.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { generateKeyPair, privateKeyPem, verifyPack } from "@aiaudit/evidence-pack";
import type { KafkaClient } from "@aiaudit/kafka";
import { loadConfig } from "@aiaudit/packer/config";
import { createService, type PackerService } from "@aiaudit/packer/service";
import { createToken } from "@aiaudit/tenants";
import {
  apiCall,
  captureLogger,
  publishControl,
  revocation,
  tenantWithToken,
  testClickHouse,
  testKafka,
  uniquePrefix,
  waitFor,
  type ControlRecord,
} from "@aiaudit/testing";

const REPO = new URL("../../../../", import.meta.url).pathname;
const VERIFIER = join(REPO, "tools", "evidence-pack-verify.py");
const APRIL = { period_start: "2026-04-01T00:00:00Z", period_end: "2026-04-30T23:59:59Z" };

const cleanups: (() => Promise<void> | void)[] = [];
const prefix = uniquePrefix("packer-api");
const topics = topicNames(prefix);
const key = generateKeyPair();
const publicKeyB64 = Buffer.from(key.publicKey).toString("base64");
let ch: ClickHouse;
let kafka: KafkaClient;
let packer: PackerService;
let tokens: Record<"acme" | "globex", string>;
let revoked: string;
let logLines: string[];

async function event(tenant: string, id: string, createdAt: string): Promise<void> {
  await ch.insert("copilot_audit_events", [
    {
      tenant,
      org: "acme",
      scope: "ORGANIZATION",
      event_id: id,
      action: "copilot.cfb_seat_added",
      created_at: createdAt,
      actor_pseudonym: "p-alice",
      actor_agent: null,
      actor_is_agent: false,
      agent_session_id: null,
      user_pseudonym: "p-bob",
      actor_country_code: null,
      business: null,
      event_org: "acme",
      raw_json: `{"_document_id":"${id}"}`,
      pseudonym_key_id: "pk-1",
      ingested_at: "2026-05-01T00:00:01.000Z",
    },
  ]);
}

/** A request as acme (the default), another tenant (`token`), or nobody (`token: null`). */
const call = (
  path: string,
  options: { method?: string; token?: string | null; body?: string; contentType?: string } = {},
): Promise<Response> =>
  apiCall(`${packer.apiUrl()}${path}`, {
    ...options,
    token: options.token === undefined ? tokens.acme : options.token,
  });

const post = (body: unknown, token?: string) =>
  call("/api/v1/copilot/evidence-packs", { body: JSON.stringify(body), ...(token ? { token } : {}) });

async function json(response: Response): Promise<Record<string, unknown>> {
  return (await response.json()) as Record<string, unknown>;
}

before(async () => {
  const { logger, lines } = captureLogger("packer-api");
  logLines = lines;
  ch = await testClickHouse((fn) => cleanups.push(fn));
  kafka = testKafka(logger);
  await kafka.ensureTopics(topicSpecs(prefix));
  await event("acme", "ev-in", "2026-04-30T23:59:59.500Z");
  await event("acme", "ev-out", "2026-05-01T00:00:00.000Z");
  await event("globex", "ev-globex", "2026-04-10T00:00:00.000Z");

  const acme = tenantWithToken("acme");
  const globex = tenantWithToken("globex");
  const gone = tenantWithToken("acme");
  await publishControl(kafka, topics.tenants, [
    ...acme.records,
    ...globex.records,
    gone.records[1] as ControlRecord,
    revocation(gone.records),
  ]);
  tokens = { acme: acme.token, globex: globex.token };
  revoked = gone.token;

  const dir = mkdtempSync(join(tmpdir(), "aiaudit-packer-api-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "signing.pem"), privateKeyPem(key.privateKey), { mode: 0o600 });
  const config = loadConfig({
    KAFKA_TOPIC_PREFIX: prefix,
    KAFKA_BROKERS: process.env.KAFKA_BROKERS,
    PACKER_API_PORT: "0",
    PACKER_API_HOST: "127.0.0.1",
    PACKER_STORE_DIR: join(dir, "store"),
    PACKER_SIGNING_KEY_FILE: join(dir, "signing.pem"),
  });
  packer = createService(config, { logger, kafka, clickhouse: ch }, { schedule: false });
  await packer.start();
  cleanups.push(() => packer.stop());
  // The packer follows the tenants topic: the tokens reach it within a fetch.
  await waitFor("the packer to know the tokens", async () =>
    (await call("/api/v1/copilot/evidence-packs")).status === 200 ? true : undefined,
  );
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("the seed flow: POST April, download, verify", () => {
  let created: Record<string, unknown>;
  let packFile: string;

  it("POST creates the pack (201) and describes it", async () => {
    const response = await post(APRIL);
    assert.equal(response.status, 201);
    created = await json(response);
    assert.equal(created.tenant, "acme");
    assert.equal(created.module, "copilot");
    assert.equal(created.sequence, 1);
    assert.equal(created.file, "pack-1.tar.gz");
    assert.equal(created.period_start, "2026-04-01T00:00:00.000Z");
    assert.equal(created.period_end, "2026-04-30T23:59:59.999Z");
    assert.match(String(created.pack_id), /^[0-9a-f]{32}$/);
  });

  it("download gives the pack, and the Python verifier accepts it with the public key", async () => {
    const response = await call(String(created.download));
    assert.equal(response.status, 200);
    assert.equal(response.headers.get("content-type"), "application/gzip");
    assert.match(response.headers.get("content-disposition") ?? "", /filename="pack-1\.tar\.gz"/);
    const bytes = Buffer.from(await response.arrayBuffer());
    assert.equal(bytes.length, created.bytes);
    const dir = mkdtempSync(join(tmpdir(), "aiaudit-download-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    packFile = join(dir, "pack-1.tar.gz");
    writeFileSync(packFile, bytes);
    const python = spawnSync("python3", [VERIFIER, packFile, "--expected-pubkey", publicKeyB64], {
      encoding: "utf8",
    });
    assert.equal(python.status, 0, python.stdout + python.stderr);
    const ts = await verifyPack(bytes, { expectedPublicKey: key.publicKey });
    assert.ok(ts.valid);
    assert.equal(ts.manifestSha256, created.manifest_sha256);
    assert.equal(response.headers.get("x-aiaudit-manifest-sha256"), created.manifest_sha256);
  });

  it("holds the event at 23:59:59.500 of April 30 and not the one at May 1 00:00:00", () => {
    const dir = mkdtempSync(join(tmpdir(), "aiaudit-extract-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    execFileSync("tar", ["-xzf", packFile, "-C", dir]);
    assert.ok(readdirSync(dir).includes("events.jsonl"));
    const ids = readFileSync(join(dir, "events.jsonl"), "utf8")
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { event_id: string }).event_id);
    assert.deepEqual(ids, ["ev-in"]);
  });

  it("the same period asked again is the same pack (200), byte for byte", async () => {
    const again = await post(APRIL);
    assert.equal(again.status, 200);
    const body = await json(again);
    assert.deepEqual(body, created);
    const bytes = Buffer.from(await (await call(String(created.download))).arrayBuffer());
    assert.deepEqual(bytes, readFileSync(packFile));
  });

  it("lists the tenant's packs, and gives one pack's metadata", async () => {
    const list = await json(await call("/api/v1/copilot/evidence-packs"));
    assert.deepEqual(list, { packs: [created] });
    const one = await json(await call(`/api/v1/copilot/evidence-packs/${String(created.pack_id)}`));
    assert.deepEqual(one, created);
    assert.deepEqual(await json(await call("/api/v1/openai/evidence-packs")), { packs: [] });
  });

  it("another tenant's token gets 404 for every pack of this tenant, and its own list", async () => {
    const id = String(created.pack_id);
    for (const path of [
      `/api/v1/copilot/evidence-packs/${id}`,
      `/api/v1/copilot/evidence-packs/${id}/download`,
      `/api/v1/openai/evidence-packs/${id}`,
    ]) {
      const response = await call(path, { token: tokens.globex });
      assert.equal(response.status, 404, path);
      assert.equal((await json(response)).error, "NOT_FOUND");
    }
    assert.deepEqual(await json(await call("/api/v1/copilot/evidence-packs", { token: tokens.globex })), {
      packs: [],
    });
    // Its own April pack is its own: its own sequence 1, its own event only.
    const own = await post(APRIL, tokens.globex);
    assert.equal(own.status, 201);
    const body = await json(own);
    assert.equal(body.tenant, "globex");
    assert.equal(body.sequence, 1);
    assert.notEqual(body.pack_id, id);
    const theirs = await call(`/api/v1/copilot/evidence-packs/${String(body.pack_id)}`);
    assert.equal(theirs.status, 404, "and acme cannot see globex's");
  });

  it("May chains to April", async () => {
    const may = await json(
      await post({ period_start: "2026-05-01T00:00:00Z", period_end: "2026-05-31T23:59:59Z" }),
    );
    assert.equal(may.sequence, 2);
    assert.deepEqual(may.previous, { pack_id: created.pack_id, manifest_sha256: created.manifest_sha256 });
  });
});

describe("authentication", () => {
  it("refuses a missing, malformed, unknown or revoked token with 401 and a message", async () => {
    const cases: [string | null, RegExp][] = [
      [null, /missing bearer token/],
      ["not-a-token", /not an aiaudit API token/],
      [createToken("acme", null).token, /unknown bearer token/],
      [revoked, /revoked/],
    ];
    for (const [token, message] of cases) {
      const response = await call("/api/v1/copilot/evidence-packs", { token });
      assert.equal(response.status, 401, String(token));
      assert.match(response.headers.get("www-authenticate") ?? "", /^Bearer/);
      const body = await json(response);
      assert.match(String(body.message), message);
      if (token) assert.ok(!JSON.stringify(body).includes(token), "the answer never repeats the token");
    }
  });
});

describe("the request log", () => {
  it("says who did what (tenant, token id), and never holds a token", () => {
    const requests = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((entry) => entry.event === "api_request");
    assert.ok(
      requests.some((r) => r.tenant === "acme" && r.route === "/api/v1/:module/evidence-packs/:id/download"),
    );
    assert.ok(requests.some((r) => r.status === 401 && r.tenant === null));
    const text = logLines.join("\n");
    for (const token of [tokens.acme, tokens.globex, revoked]) {
      assert.ok(!text.includes(token.slice(17)), "no token secret in the log");
    }
  });
});

describe("bad input", () => {
  const cases: [string, { body: string; contentType?: string }, number, RegExp][] = [
    ["no body", { body: "" }, 400, /empty|body/i],
    ["not JSON", { body: "{period_start:" }, 400, /JSON/],
    ["a JSON array", { body: "[]" }, 400, /object/],
    [
      "a missing period_end",
      { body: JSON.stringify({ period_start: APRIL.period_start }) },
      400,
      /period_end is required/,
    ],
    ["an unknown field", { body: JSON.stringify({ ...APRIL, tenant: "globex" }) }, 400, /tenant/],
    [
      "a number for a date",
      { body: JSON.stringify({ ...APRIL, period_start: 1775001600 }) },
      400,
      /period_start/,
    ],
    [
      "a date without a zone",
      { body: JSON.stringify({ ...APRIL, period_start: "2026-04-01T00:00:00" }) },
      400,
      /not an RFC 3339 date-time/,
    ],
    [
      "a day that does not exist",
      { body: JSON.stringify({ ...APRIL, period_end: "2026-04-31T23:59:59Z" }) },
      400,
      /does not exist/,
    ],
    [
      "an end before the start",
      { body: JSON.stringify({ period_start: APRIL.period_end, period_end: APRIL.period_start }) },
      400,
      /must be before period_end/,
    ],
    [
      "more than a year",
      { body: JSON.stringify({ period_start: "2024-01-01T00:00:00Z", period_end: "2025-12-31T23:59:59Z" }) },
      400,
      /longer than 366 days/,
    ],
    [
      "a period not over yet",
      {
        body: JSON.stringify({
          period_start: new Date(Date.now() - 10 * 86_400_000).toISOString(),
          period_end: new Date(Date.now() + 86_400_000).toISOString(),
        }),
      },
      400,
      /has not passed yet/,
    ],
    [
      "form data",
      { body: "period_start=x", contentType: "application/x-www-form-urlencoded" },
      415,
      /content-type|media type/i,
    ],
    ["a huge body", { body: JSON.stringify({ ...APRIL, pad: "x".repeat(100_000) }) }, 413, /too large/i],
  ];
  for (const [what, request, status, message] of cases) {
    it(`${what}: ${status} with a message`, async () => {
      const response = await call("/api/v1/copilot/evidence-packs", request);
      assert.equal(response.status, status);
      const body = await json(response);
      assert.match(String(body.message), message);
      assert.ok(!/\n\s+at /.test(JSON.stringify(body)), "no stack trace");
    });
  }

  it("an unknown module or pack id is 404", async () => {
    assert.equal((await call("/api/v1/gemini/evidence-packs")).status, 404);
    assert.equal((await call("/api/v1/copilot/evidence-packs/../../etc/passwd")).status, 404);
    assert.equal((await call("/api/v1/copilot/evidence-packs/0123456789abcdef0123456789abcdef")).status, 404);
  });

  it("fuzzed bodies never get a 5xx", async () => {
    const values: unknown[] = [
      null,
      true,
      0,
      -1e308,
      "",
      "2026-04-01T00:00:00Z",
      [],
      {},
      { period_start: null, period_end: null },
      { period_start: {}, period_end: [] },
      { period_start: "\u0000", period_end: "\ud800" },
      { __proto__: { period_start: "x" } },
      { constructor: { prototype: {} } },
    ];
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(Math.random() * xs.length)] as T;
    const dates = [
      "2026-04-01T00:00:00Z",
      "2026-04-30T23:59:59.500+02:00",
      "0000-01-01T00:00:00Z",
      "9999-12-31T23:59:59Z",
      "2026-02-29T00:00:00Z",
      "2024-02-29T00:00:00-23:59",
      "2026-04-01t00:00:00z",
      "2026-04-01 00:00:00Z",
      "2026-04-01T00:00:00.123456789Z",
    ];
    for (let i = 0; i < 120; i++) {
      values.push({ period_start: pick(dates), period_end: pick(dates) });
      values.push({
        period_start: pick(dates),
        period_end: pick([...dates, 1, null, {}]),
        [pick(["x", "period_end"])]: 1,
      });
    }
    for (let i = 0; i < 60; i++) values.push(randomBytes(1 + (i % 40)).toString("latin1"));
    const statuses = new Map<number, number>();
    for (const value of values) {
      const body = typeof value === "string" && !value.startsWith("2026") ? value : JSON.stringify(value);
      const response = await call("/api/v1/copilot/evidence-packs", { body });
      await response.arrayBuffer();
      statuses.set(response.status, (statuses.get(response.status) ?? 0) + 1);
      assert.ok(response.status < 500, `${JSON.stringify(body)} got ${response.status}`);
    }
    assert.ok((statuses.get(400) ?? 0) > 50, `mostly 400s: ${JSON.stringify([...statuses])}`);
  });
});
