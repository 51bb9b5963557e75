/**
 * Issue 10, the console's operator API against the real broker (tenants, tokens and connections on
 * their topics), the real ClickHouse engine (rows of two tenants) and the real packer (packs): every
 * endpoint, tenant isolation (globex's token gets 404 for acme's connections and packs, and never
 * one of acme's rows), bad input (a 4xx with a message, never a 5xx, fuzzed bodies and queries), the
 * secret of a connection never returned or logged, CSV with formula-like cells neutralized, and the
 * OpenAPI document.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { createService as createConsole, type ConsoleService } from "@aiaudit/console";
import { loadConfig as loadConsoleConfig } from "@aiaudit/console/config";
import { topicNames, topicSpecs } from "@aiaudit/contracts";
import { generateKeyPair, privateKeyPem } from "@aiaudit/evidence-pack";
import type { KafkaClient } from "@aiaudit/kafka";
import { loadConfig as loadPackerConfig } from "@aiaudit/packer/config";
import { createService as createPacker, type PackerService } from "@aiaudit/packer/service";
import { seats as githubSeats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { openaiOrg, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import {
  apiCall,
  captureLogger,
  insertSeatSnapshot,
  publishControl,
  revocation,
  tenantWithToken,
  testClickHouse,
  testKafka,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";

const cleanups: (() => Promise<void> | void)[] = [];
const prefix = uniquePrefix("console-api");
const topics = topicNames(prefix);
const GITHUB_TOKEN = `ghp_console${randomBytes(12).toString("hex")}`;
const ADMIN_KEY = `sk-admin-console${randomBytes(12).toString("hex")}`;
const DAY = 86_400_000;
let ch: ClickHouse;
let kafka: KafkaClient;
let packer: PackerService;
let consoleService: ConsoleService;
let github: GithubSimulator;
let openai: OpenaiSimulator;
let tokens: Record<"acme" | "globex", string>;
let revoked: string;
let logLines: string[];

const time = (ms: number): string => new Date(ms).toISOString();

async function auditEvent(tenant: string, id: string, agent: boolean, daysAgo: number): Promise<void> {
  await ch.insert("copilot_audit_events", [
    {
      tenant,
      org: `${tenant}-org`,
      scope: "ORGANIZATION",
      event_id: id,
      action: agent ? "pull_request.create" : "copilot.cfb_seat_added",
      created_at: time(Date.now() - daysAgo * DAY),
      actor_pseudonym: "a".repeat(64),
      actor_agent: agent ? "Copilot" : null,
      actor_is_agent: agent,
      agent_session_id: agent ? "session-1" : null,
      user_pseudonym: "b".repeat(64),
      actor_country_code: "DE",
      business: null,
      event_org: `${tenant}-org`,
      raw_json: "{}",
      pseudonym_key_id: "pk-1",
      ingested_at: time(Date.now()),
    },
  ]);
}

/** A request as acme (the default), another tenant (`token`), or nobody (`token: null`). */
const call = (
  path: string,
  options: { method?: string; token?: string | null; body?: string; contentType?: string } = {},
): Promise<Response> =>
  apiCall(`${consoleService.url()}${path}`, {
    ...options,
    token: options.token === undefined ? tokens.acme : options.token,
  });

async function json(response: Response): Promise<Record<string, unknown>> {
  const text = await response.text();
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    assert.fail(`not JSON (${response.status}): ${text.slice(0, 200)}`);
  }
}

before(async () => {
  const { logger, lines } = captureLogger("console-api");
  logLines = lines;
  ch = await testClickHouse((fn) => cleanups.push(fn));
  kafka = testKafka(logger);
  await kafka.ensureTopics(topicSpecs(prefix));

  // acme: 4 seats (one idle for 60 days, one never used, one with a formula-like team name);
  // globex: 1 seat. Events of both.
  await insertSeatSnapshot(ch, "acme", "acme-org", [
    { team: '=HYPERLINK("http://evil")', lastActivityDaysAgo: 1 },
    { team: "platform", lastActivityDaysAgo: 60 },
    { team: null, lastActivityDaysAgo: null },
    { team: "platform", lastActivityDaysAgo: 2 },
  ]);
  await insertSeatSnapshot(ch, "globex", "globex-org", [
    { team: "globex-secret-team", lastActivityDaysAgo: 1 },
  ]);
  for (let i = 0; i < 7; i++) await auditEvent("acme", `acme-ev-${i}`, i % 3 === 0, i);
  await auditEvent("globex", "globex-ev-0", false, 0);

  const acme = tenantWithToken("acme");
  const globex = tenantWithToken("globex");
  const gone = tenantWithToken("acme");
  await publishControl(kafka, topics.tenants, [...acme.records, ...globex.records, revocation(gone.records)]);
  tokens = { acme: acme.token, globex: globex.token };
  revoked = gone.token;

  github = await startGithubSimulator({
    tokens: [GITHUB_TOKEN],
    orgs: { "acme-gh": { id: 7, seats: githubSeats("acme-gh", 3), auditEvents: [] } },
  });
  cleanups.push(() => github.close());
  const org = openaiOrg({
    orgId: "org-acme",
    adminKey: ADMIN_KEY,
    now: Date.now(),
    users: 3,
    projects: 1,
    archivedProjects: 0,
    keys: 2,
    staleKeys: 0,
    orphanKeys: 0,
    auditEvents: 0,
  });
  openai = await startOpenaiSimulator({ orgs: { "org-acme": org.org } });
  cleanups.push(() => openai.close());

  const dir = mkdtempSync(join(tmpdir(), "aiaudit-console-api-"));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, "signing.pem"), privateKeyPem(generateKeyPair().privateKey), { mode: 0o600 });
  const common = { KAFKA_TOPIC_PREFIX: prefix, KAFKA_BROKERS: process.env.KAFKA_BROKERS, LOG_LEVEL: "info" };
  packer = createPacker(
    loadPackerConfig({
      ...common,
      PACKER_API_PORT: "0",
      PACKER_API_HOST: "127.0.0.1",
      PACKER_STORE_DIR: join(dir, "store"),
      PACKER_SIGNING_KEY_FILE: join(dir, "signing.pem"),
    }),
    { logger, kafka, clickhouse: ch },
    { schedule: false },
  );
  await packer.start();
  cleanups.push(() => packer.stop());
  consoleService = createConsole(
    loadConsoleConfig({
      ...common,
      CONSOLE_PORT: "0",
      CONSOLE_HOST: "127.0.0.1",
      SECRETS_KEY: randomBytes(32).toString("hex"),
      POLL_INTERVAL_SECONDS: "600",
    }),
    { logger, kafka, clickhouse: ch, packerUrl: () => packer.apiUrl() },
  );
  await consoleService.start();
  cleanups.push(() => consoleService.stop());
  // Both services follow the tenants topic: the tokens reach them within a fetch.
  await waitFor(
    "the console accepts acme's token",
    async () => (await call("/api/v1/connections")).status === 200,
  );
  await waitFor("the packer accepts acme's token", async () => {
    const r = await fetch(`${packer.apiUrl()}/api/v1/copilot/evidence-packs`, {
      headers: { authorization: `Bearer ${tokens.acme}` },
    });
    await r.arrayBuffer();
    return r.status === 200;
  });
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("the console API", () => {
  it("answers 401 with a message for a missing, malformed, unknown or revoked token, and never repeats it", async () => {
    for (const token of [null, "nonsense", `aat_${"0".repeat(12)}_${"x".repeat(40)}`, revoked]) {
      const response = await call("/api/v1/copilot/kpis", { token });
      const body = await json(response);
      assert.equal(response.status, 401, String(token));
      assert.equal(typeof body.message, "string");
      if (token !== null) assert.ok(!JSON.stringify(body).includes(token), "the token is not repeated");
    }
  });

  it("gives the KPI strip and day series of each module, from the views", async () => {
    const copilot = await json(await call("/api/v1/copilot/kpis"));
    const figures = Object.fromEntries(
      (copilot.kpis as { name: string; value: number }[]).map((k) => [k.name, k.value]),
    );
    assert.equal(figures.seats, 4);
    assert.equal(figures.idle_seats, 1);
    assert.equal(figures.never_used_seats, 1);
    assert.equal(figures.connected_orgs, 1);
    const series = copilot.series as { name: string; points: { day: string; value: number }[] }[];
    const events = series.find((s) => s.name === "events");
    assert.equal(
      events?.points.reduce((n, p) => n + p.value, 0),
      7,
      "acme's 7 events, not globex's",
    );
    assert.equal(
      series.find((s) => s.name === "agent_activity")?.points.reduce((n, p) => n + p.value, 0),
      3,
    );
    const openaiKpis = await json(await call("/api/v1/openai/kpis"));
    assert.ok(
      (openaiKpis.kpis as { value: number }[]).every((k) => k.value === 0),
      "nothing connected yet: zeros",
    );
  });

  it("pages and sorts a table, flags idle seats, and shows only the tenant's rows", async () => {
    const first = await json(
      await call("/api/v1/copilot/tables/seats?per_page=2&sort=last_activity_at&order=asc"),
    );
    assert.equal(first.total, 4);
    const rows = first.rows as Record<string, unknown>[];
    const [never, idle] = rows as [Record<string, unknown>, Record<string, unknown>];
    assert.equal(rows.length, 2);
    assert.equal(never.last_activity_at, null, "never used first (NULLS FIRST ascending)");
    assert.equal(never.idle, true);
    assert.equal(never.idle_reason, "never used");
    assert.equal(idle.idle_reason, "idle");
    assert.equal((never.assignee as string).length, 12, "a pseudonym prefix, not the whole keyed hash");
    const second = await json(
      await call("/api/v1/copilot/tables/seats?per_page=2&page=2&sort=last_activity_at&order=asc"),
    );
    const both = [...rows, ...(second.rows as Record<string, unknown>[])];
    assert.equal(new Set(both.map((r) => r.assignee)).size, 4, "two pages, four different seats");
    assert.ok(both.every((r) => r.org === "acme-org"));
    assert.ok(!JSON.stringify(both).includes("globex"), "no row of globex");
    const past = await json(await call("/api/v1/copilot/tables/seats?per_page=2&page=9"));
    assert.deepEqual(past.rows, [], "a page past the end is empty");
    assert.equal(past.total, 4, "and still says how many there are");
    const agents = await json(await call("/api/v1/copilot/tables/agent-events"));
    assert.equal(agents.total, 3);
    const globexSeats = await json(await call("/api/v1/copilot/tables/seats", { token: tokens.globex }));
    assert.equal(globexSeats.total, 1);
    for (const table of ["users", "projects", "api-keys", "audit-events"]) {
      const page = await call(`/api/v1/openai/tables/${table}`);
      assert.equal(page.status, 200, table);
      assert.equal((await json(page)).total, 0, table);
    }
  });

  it("gives every table as CSV, formula-like cells neutralized, GitHub's seat-report columns included", async () => {
    const response = await call("/api/v1/copilot/tables/seats.csv?sort=team");
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /^text\/csv/);
    const lines = (await response.text()).trim().split("\r\n");
    const header = lines[0]?.split(",") ?? [];
    for (const column of ["last_authenticated_at", "last_activity_at", "last_activity_editor"]) {
      assert.ok(header.includes(column), column);
    }
    assert.equal(lines.length, 5, "a header and four seats");
    assert.ok(
      lines.some((l) => l.includes(`"'=HYPERLINK(""http://evil"")"`)),
      "the formula is prefixed and quoted",
    );
    const bad = await call("/api/v1/copilot/tables/seats.csv?sort=nope");
    assert.equal(bad.status, 400);
    assert.match(String((await json(bad)).message), /sort: "nope" is not a column of seats/);
  });

  it("connects a GitHub org after the probe, never returns the token, and lists it for its tenant only", async () => {
    const refused = await call("/api/v1/copilot/connections", {
      body: JSON.stringify({
        kind: "organization",
        slug: "acme-gh",
        token: "ghp_wrong",
        base_url: github.url,
      }),
    });
    assert.equal(refused.status, 422);
    assert.match(String((await json(refused)).message), /not connected: GitHub rejected the token/);

    const made = await call("/api/v1/copilot/connections", {
      body: JSON.stringify({
        kind: "organization",
        slug: "acme-gh",
        token: GITHUB_TOKEN,
        base_url: github.url,
      }),
    });
    const text = await made.text();
    assert.equal(made.status, 201, text);
    assert.ok(!text.includes(GITHUB_TOKEN), "the token is not in the answer");
    const connection = (JSON.parse(text) as { connection: Record<string, unknown> }).connection;
    assert.equal(connection.connection_id, "github-org-acme-gh");
    assert.equal(connection.state, "ACTIVE");
    assert.equal(connection.last_pull_at, null, "not pulled yet");

    const listed = (await json(await call("/api/v1/connections"))).connections as Record<string, unknown>[];
    assert.deepEqual(
      listed.map((c) => c.connection_id),
      ["github-org-acme-gh"],
    );
    assert.ok(!JSON.stringify(listed).includes("sealed"), "no sealed token either");
    const other = (await json(await call("/api/v1/connections", { token: tokens.globex }))).connections;
    assert.deepEqual(other, [], "globex sees none of acme's connections");
    const stolen = await call("/api/v1/connections/github-org-acme-gh", {
      method: "DELETE",
      token: tokens.globex,
    });
    assert.equal(stolen.status, 404, "globex cannot disconnect acme's");

    // The connection is on the topic, as `aiaudit connect` would have put it.
    const records = await kafka.readTopic(topics.connections, { idleMs: 1000 });
    const record = records.find((r) => r.key === "acme/github-org-acme-gh");
    assert.ok(record?.value, "published on the connections topic");
    assert.ok(!record.value.toString("latin1").includes(GITHUB_TOKEN), "sealed, not in clear");
    assert.ok(!logLines.join("\n").includes(GITHUB_TOKEN), "the token is in no log line");
  });

  it("connects an OpenAI org with an admin key, refuses a project key with the reason, and disconnects", async () => {
    const wrongKind = await call("/api/v1/openai/connections", {
      body: JSON.stringify({ org_id: "org-acme", admin_key: "sk-proj-abc", base_url: `${openai.url}/v1` }),
    });
    assert.equal(wrongKind.status, 422);
    assert.match(String((await json(wrongKind)).message), /not connected: .*project API key/);
    const made = await call("/api/v1/openai/connections", {
      body: JSON.stringify({
        org_id: "org-acme",
        name: "Acme AI",
        admin_key: ADMIN_KEY,
        base_url: `${openai.url}/v1`,
      }),
    });
    const text = await made.text();
    assert.equal(made.status, 201, text);
    assert.ok(!text.includes(ADMIN_KEY));
    assert.equal((await call("/api/v1/connections/openai-org-acme", { method: "DELETE" })).status, 204);
    assert.equal((await call("/api/v1/connections/openai-org-acme", { method: "DELETE" })).status, 404);
    const listed = (await json(await call("/api/v1/connections"))).connections as Record<string, unknown>[];
    assert.ok(!listed.some((c) => c.connection_id === "openai-org-acme"));
    assert.ok(!logLines.join("\n").includes(ADMIN_KEY), "the key is in no log line");
  });

  it("bills a month", async () => {
    const month = new Date().toISOString().slice(0, 7);
    const bill = await json(await call(`/api/v1/billing?month=${month}`));
    assert.equal(bill.tenant, "acme");
    assert.equal(bill.month, month);
    const copilot = bill.copilot as { seats: { total: number } };
    assert.ok(copilot.seats.total >= 4, "today's four seats count");
    assert.equal((await call("/api/v1/billing?month=2026-13")).status, 400);
    assert.equal((await call("/api/v1/billing")).status, 400);
  });

  it("generates, lists and downloads packs through the packer, with the caller's tenant only", async () => {
    const lastMonth = new Date(Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth() - 1, 1))
      .toISOString()
      .slice(0, 7);
    const made = await call("/api/v1/copilot/evidence-packs", { body: JSON.stringify({ month: lastMonth }) });
    const pack = await json(made);
    assert.equal(made.status, 201, JSON.stringify(pack));
    assert.equal(pack.tenant, "acme");
    const again = await call("/api/v1/copilot/evidence-packs", {
      body: JSON.stringify({ month: lastMonth }),
    });
    assert.equal(again.status, 200, "the same month again: the same pack");
    const list = (await json(await call("/api/v1/copilot/evidence-packs"))).packs as { pack_id: string }[];
    assert.deepEqual(
      list.map((p) => p.pack_id),
      [pack.pack_id],
    );
    const download = await call(`/api/v1/copilot/evidence-packs/${String(pack.pack_id)}/download`);
    assert.equal(download.status, 200);
    const bytes = Buffer.from(await download.arrayBuffer());
    assert.equal(bytes.length, pack.bytes);
    assert.ok(gunzipSync(bytes).includes("manifest.json"), "a gzip'd tar with its manifest");

    const globexList = (await json(await call("/api/v1/copilot/evidence-packs", { token: tokens.globex })))
      .packs as unknown[];
    assert.deepEqual(globexList, [], "globex sees none of acme's packs");
    const stolen = await call(`/api/v1/copilot/evidence-packs/${String(pack.pack_id)}/download`, {
      token: tokens.globex,
    });
    assert.equal(stolen.status, 404);
  });

  it("answers bad input with a 4xx and a message", async () => {
    const cases: [string, { method?: string; body?: string; contentType?: string }, number, RegExp][] = [
      ["/api/v1/nope/kpis", {}, 400, /module must be copilot or openai/],
      ["/api/v1/copilot/tables/nope", {}, 404, /no table "nope" in copilot/],
      ["/api/v1/copilot/tables/seats?per_page=0", {}, 400, /per_page must be 1 or more/],
      ["/api/v1/copilot/tables/seats?per_page=501", {}, 400, /per_page must be at most 500/],
      ["/api/v1/copilot/tables/seats?page=-1", {}, 400, /page must be 1 or more/],
      ["/api/v1/copilot/tables/seats?order=up", {}, 400, /order must be asc or desc/],
      ["/api/v1/copilot/tables/seats?sort=1;DROP", {}, 400, /is not a column of seats/],
      ["/api/v1/copilot/tables/seats?extra=1", {}, 400, /extra/],
      ["/api/v1/copilot/connections", { body: "{" }, 400, /JSON/i],
      ["/api/v1/copilot/connections", { body: "{}" }, 400, /kind must be organization or enterprise/],
      [
        "/api/v1/copilot/connections",
        { body: JSON.stringify({ kind: "organization", slug: "a b", token: "x" }) },
        400,
        /slug is not a GitHub name/,
      ],
      [
        "/api/v1/copilot/connections",
        { body: JSON.stringify({ kind: "organization", slug: "a", token: "x", base_url: "https://u:p@h" }) },
        400,
        /base_url must not hold credentials/,
      ],
      [
        "/api/v1/openai/connections",
        { body: JSON.stringify({ org_id: "acme", admin_key: "k" }) },
        400,
        /org_id/,
      ],
      ["/api/v1/copilot/evidence-packs", { body: JSON.stringify({ month: "2026-13" }) }, 400, /month/],
      ["/api/v1/copilot/evidence-packs", { body: JSON.stringify({ period_start: "x" }) }, 400, /period/],
      ["/api/v1/copilot/connections", { body: "x".repeat(70_000) }, 413, /./],
      ["/api/v1/copilot/connections", { body: "a=b", contentType: "text/plain" }, 415, /./],
      ["/api/v1/nothing", {}, 404, /no route GET \/api\/v1\/nothing/],
    ];
    for (const [path, options, status, message] of cases) {
      const response = await call(path, options);
      const body = await json(response);
      assert.equal(
        response.status,
        status,
        `${path} ${options.body?.slice(0, 60) ?? ""}: ${JSON.stringify(body)}`,
      );
      assert.match(String(body.message), message, path);
      assert.ok(!String(body.message).includes("    at "), "no stack trace");
    }
  });

  it("never answers fuzzed bodies and queries with a 5xx", async () => {
    const values = [
      null,
      0,
      -1,
      1e308,
      "",
      "x".repeat(300),
      [],
      {},
      true,
      "__proto__",
      "../../etc",
      "org-\u0000",
    ];
    const pick = () => values[Math.floor(Math.random() * values.length)];
    const keys = [
      "kind",
      "slug",
      "token",
      "base_url",
      "org_id",
      "admin_key",
      "name",
      "month",
      "__proto__",
      "constructor",
    ];
    let sent = 0;
    for (let i = 0; i < 120; i++) {
      const body: Record<string, unknown> = {};
      for (const key of keys) if (Math.random() < 0.5) body[key] = pick();
      for (const path of [
        "/api/v1/copilot/connections",
        "/api/v1/openai/connections",
        "/api/v1/openai/evidence-packs",
      ]) {
        const response = await call(path, { body: JSON.stringify(body) });
        await response.arrayBuffer();
        sent++;
        assert.ok(response.status < 500, `${path} ${JSON.stringify(body)} → ${response.status}`);
      }
      const query = new URLSearchParams({
        page: JSON.stringify(pick()),
        per_page: JSON.stringify(pick()),
        sort: JSON.stringify(pick()),
      });
      const response = await call(`/api/v1/openai/tables/api-keys?${query.toString()}`);
      await response.arrayBuffer();
      assert.ok(response.status < 500, `${query.toString()} → ${response.status}`);
    }
    assert.ok(sent >= 360);
  });

  it("describes itself in an OpenAPI document made from the request schemas", async () => {
    const response = await call("/api/v1/openapi.json", { token: null });
    assert.equal(response.status, 200, "served without a token");
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<
        string,
        Record<string, { requestBody?: { content: Record<string, { schema: unknown }> } }>
      >;
    };
    assert.equal(doc.openapi, "3.1.0");
    const connect = doc.paths["/api/v1/copilot/connections"]?.post?.requestBody?.content["application/json"]
      ?.schema as { properties: Record<string, unknown>; required: string[] };
    assert.deepEqual(Object.keys(connect.properties).sort(), [
      "base_url",
      "keep_usage_content",
      "kind",
      "slug",
      "token",
    ]);
    assert.ok(connect.required.includes("token"));
    assert.ok(doc.paths["/api/v1/{module}/tables/{table}"]?.get, "the table route");
  });

  it("logs one line per request with the tenant, and never a token", () => {
    const requests = logLines.filter((l) => l.includes('"event":"api_request"'));
    assert.ok(requests.length > 50);
    assert.ok(requests.some((l) => l.includes('"tenant":"acme"')));
    const all = logLines.join("\n");
    for (const token of [tokens.acme, tokens.globex, revoked]) assert.ok(!all.includes(token));
  });
});
