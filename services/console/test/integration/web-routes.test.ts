/**
 * The dashboard's routes through fastify's inject, over real parts: the tenant directory, a
 * migrated database of the embedded ClickHouse holding a seat snapshot (an idle seat, a seat never
 * used whose team is markup), the connections followed on and written to the real broker with the
 * probe against the GitHub simulator, and the real packer client pointed at a port where nothing
 * listens. Login and logout, a wrong token (401 page, no cookie), cross-site posts (403), bad
 * queries (4xx pages, never 500), connect refused and made (the secret never echoed nor logged),
 * disconnect (twice: 404), the CSV, the packer not answering (the page says so; 502), unknown
 * pages (an HTML 404; an unknown /api/ path stays JSON). A pack made and downloaded through the
 * real packer is the browser test's (runner/test/browser/console.test.ts): a service's tests do
 * not start another service.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { after, before, describe, it } from "node:test";
import type { FastifyInstance } from "fastify";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames, topicSpecs } from "@aiaudit/contracts";
import type { KafkaClient } from "@aiaudit/kafka";
import { seats as githubSeats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { createToken, TenantDirectory, tenantKey, tokenKey } from "@aiaudit/tenants";
import { captureLogger, insertSeatSnapshot, testClickHouse, testKafka, uniquePrefix } from "@aiaudit/testing";
import { createApp } from "../../src/api.ts";
import { followConnections } from "../../src/source/connections.ts";
import { packerClient } from "../../src/source/packs.ts";
import { tableSpec } from "../../src/source/tables.ts";
import { telemetry } from "../../src/telemetry.ts";
import { registerDashboard } from "../../src/web/dashboard.ts";

const EVIL = `<script>alert("x")</script>&'`;
const GITHUB_TOKEN = `ghp_webroutes${randomBytes(12).toString("hex")}`;
const REFUSED_TOKEN = `ghp_refused${randomBytes(12).toString("hex")}`;
const GH_ORG = "acme-gh";

/** Markup without the templates' indentation, for matching: no white space around < and >. */
const squash = (text: string): string => text.replace(/\s+/g, " ").replace(/\s*([<>])\s*/g, "$1");

const cleanups: (() => Promise<void> | void)[] = [];
const prefix = uniquePrefix("console-web");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger("console-web");
let ch: ClickHouse;
let kafka: KafkaClient;
let github: GithubSimulator;
let app: FastifyInstance;
let token: string;
let cookie: string;
let packerUrl: string;
/** The UTC day of the seat snapshot: its bar in the seats chart. */
let snapshotDay: string;

/** A port on 127.0.0.1 where nothing listens any more. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  await new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve())));
  return address.port;
}

/** The calendar month before now (UTC), YYYY-MM: what the pack button seals. */
function lastMonth(): string {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString().slice(0, 7);
}

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  kafka = testKafka(logger);
  await kafka.ensureTopics(topicSpecs(prefix));

  // Sorted by last activity, oldest first: never used (its team is markup), idle 60 days, in use.
  snapshotDay = await insertSeatSnapshot(ch, "acme", "acme", [
    { team: EVIL, lastActivityDaysAgo: null },
    { team: "idle-team", lastActivityDaysAgo: 60 },
    { team: "ok-team", lastActivityDaysAgo: 1 },
  ]);

  github = await startGithubSimulator({
    tokens: [GITHUB_TOKEN],
    orgs: { [GH_ORG]: { id: 7, seats: githubSeats(GH_ORG, 3), auditEvents: [] } },
  });
  cleanups.push(() => github.close());

  const directory = new TenantDirectory();
  directory.apply(
    tenantKey("acme"),
    codecs.tenant.encode({ tenant: "acme", display_name: "Acme <Corp>", created_at: 1 }),
  );
  const made = createToken("acme", "test");
  directory.apply(tokenKey("acme", made.record.token_id), codecs.apiToken.encode(made.record));
  token = made.token;
  cookie = `aiaudit_session=${token}`;

  const events = telemetry(logger);
  const connections = await followConnections({
    kafka,
    topics,
    producerId: `${prefix}.console.connections`,
    groupPrefix: `${prefix}.console`,
    secretsKey: randomBytes(32),
    pollIntervalSeconds: 600,
    onUnreadable: (fields) => events.recordUnreadable(fields),
  });
  cleanups.push(() => connections.stop());

  packerUrl = `http://127.0.0.1:${await closedPort()}`;
  const deps = {
    directory,
    ch,
    connections,
    packs: packerClient(() => packerUrl, 5_000),
    telemetry: events,
    secureCookie: false,
  };
  const api = createApp(deps);
  registerDashboard(api, deps);
  app = api.app;
  await app.ready();
  cleanups.push(() => app.close());
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const form = (fields: Record<string, string>, headers: Record<string, string> = {}) => ({
  headers: {
    "content-type": "application/x-www-form-urlencoded",
    host: "localhost:80",
    origin: "http://localhost:80",
    ...headers,
  },
  payload: new URLSearchParams(fields).toString(),
});

/** A form posted by the signed-in user from the console's own page. */
const post = (url: string, fields: Record<string, string>) =>
  app.inject({ method: "POST", url, ...form(fields, { cookie }) });

const get = (url: string) => app.inject({ url, headers: { cookie } });

describe("signing in", () => {
  it("without a session, / and the module pages redirect to /login; the login page answers", async () => {
    for (const url of ["/", "/copilot", "/openai", "/copilot/tables/seats.csv"]) {
      const response = await app.inject({ url });
      assert.equal(response.statusCode, 303, url);
      assert.equal(response.headers.location, "/login", url);
    }
    const login = await app.inject({ url: "/login" });
    assert.equal(login.statusCode, 200);
    assert.match(login.headers["content-security-policy"] as string, /default-src 'none'/);
    const css = await app.inject({ url: "/dashboard.css" });
    assert.match(css.headers["content-type"] as string, /^text\/css/);
    const home = await get("/");
    assert.equal(home.headers.location, "/copilot", "signed in, / goes to the Copilot page");
  });

  it("a wrong token is a 401 page with the reason and no cookie; the right one sets the session cookie", async () => {
    const wrong = await app.inject({
      method: "POST",
      url: "/login",
      ...form({ token: "aat_000000000000_" + "x".repeat(43) }),
    });
    assert.equal(wrong.statusCode, 401);
    assert.equal(wrong.headers["set-cookie"], undefined);
    assert.match(wrong.body, /Not signed in: unknown token/);
    const right = await app.inject({ method: "POST", url: "/login", ...form({ token }) });
    assert.equal(right.statusCode, 303);
    assert.equal(right.headers.location, "/copilot");
    assert.equal(right.headers["set-cookie"], `aiaudit_session=${token}; HttpOnly; SameSite=Strict; Path=/`);
    const out = await app.inject({ method: "POST", url: "/logout", ...form({}) });
    assert.equal(out.statusCode, 303);
    assert.match(out.headers["set-cookie"] as string, /Max-Age=0/);
    assert.ok(!lines.join("\n").includes(token), "the token is in a log line");
  });

  it("a form posted from another site is refused with 403 and signs nobody in", async () => {
    const response = await app.inject({
      method: "POST",
      url: "/login",
      ...form({ token }, { origin: "https://evil.example" }),
    });
    assert.equal(response.statusCode, 403);
    assert.equal(response.headers["set-cookie"], undefined);
    assert.match(response.body, /this form was sent from another site/);
    const connect = await app.inject({
      method: "POST",
      url: "/copilot/connect",
      ...form(
        { kind: "organization", slug: GH_ORG, token: GITHUB_TOKEN },
        { cookie, origin: "https://evil.example" },
      ),
    });
    assert.equal(connect.statusCode, 403);
    assert.equal(github.requests.length, 0, "nothing was probed");
  });
});

describe("the Copilot page", () => {
  it("shows the tenant, the key figures, the seats chart, the idle rows in red with their word, escaped data", async () => {
    const response = await get("/copilot");
    assert.equal(response.statusCode, 200);
    assert.match(response.headers["content-type"] as string, /^text\/html/);
    const page = squash(response.body);
    assert.match(page, /Tenant:<strong>Acme &lt;Corp&gt;<\/strong>/);
    assert.match(page, /<a href="\/copilot" aria-current="page">Copilot Audit<\/a>/);
    assert.match(page, /data-kpi="seats"><span class="value">3<\/span>/);
    assert.match(page, /data-kpi="idle_seats"><span class="value">1<\/span>/);
    assert.match(page, /data-kpi="never_used_seats"><span class="value">1<\/span>/);
    assert.ok(page.includes(`<title>${snapshotDay}: 3</title>`), "the seats chart has the snapshot's bar");
    const seats = page.slice(
      page.indexOf('<section id="table-seats"'),
      page.indexOf('<section id="table-audit-events"'),
    );
    assert.equal(seats.match(/<tr class="alert">/g)?.length, 2, "the idle and the never used seat are red");
    assert.match(
      seats,
      /<tr class="alert"><td>acme<\/td><td>[0-9a-f]{12}<\/td><td>business<\/td><td>&lt;script&gt;alert\(&quot;x&quot;\)&lt;\/script&gt;&amp;&#39;<\/td>.*?<span class="badge alert">idle<\/span>/,
    );
    assert.match(seats, /<td>ok-team<\/td>/);
    assert.ok(!page.includes("<script>"));
    assert.match(page, new RegExp(`Generate last month's pack \\(${lastMonth()}\\)`));
    assert.ok(!/(src|href|action)="(https?:)?\/\//.test(page), "the page points outside the console");
  });

  it("bad table queries are 4xx pages with the reason, never 500", async () => {
    const cases: [string, RegExp][] = [
      ["/copilot?table=seats&page=0", /page must be 1 or more/],
      ["/copilot?table=seats&per_page=501", /per_page must be at most 500/],
      ["/copilot?table=seats&order=up", /order must be asc or desc/],
      ["/copilot?table=seats&sort=nope", /is not a column of seats/],
      ["/copilot?table=users", /no table &quot;users&quot; in copilot/],
      ["/copilot?page=2", /table is required/],
      ["/copilot?disconnected=%3Cb%3Eyour%20account", /disconnected must be a connection or pack id/],
      ["/copilot?x=1", /Unrecognized key: &quot;x&quot;/],
      ["/copilot/tables/nope.csv", /no table/],
      ["/copilot/tables/seats.csv?sort=1;DROP", /is not a column of seats/],
    ];
    for (const [url, message] of cases) {
      const response = await get(url);
      assert.ok(response.statusCode >= 400 && response.statusCode < 500, `${url}: ${response.statusCode}`);
      assert.match(response.headers["content-type"] as string, /^text\/html/, url);
      assert.match(response.body, message, url);
    }
    assert.ok(!lines.some((l) => l.includes('"event":"request_failed"')), "no bad query failed inside");
  });

  it("the CSV of a table is served for the cookie session, in the asked order", async () => {
    const response = await get("/copilot/tables/seats.csv?sort=last_activity_at&order=asc");
    assert.equal(response.statusCode, 200);
    assert.match(response.headers["content-type"] as string, /^text\/csv/);
    assert.match(response.headers["content-disposition"] as string, /filename="copilot-seats\.csv"/);
    const [head, ...rows] = response.body.trim().split("\r\n");
    assert.equal(
      head,
      tableSpec("copilot", "seats")
        ?.columns.map((c) => c.name)
        .join(","),
    );
    assert.equal(rows.length, 3);
    assert.match(rows[0] ?? "", /^acme,[0-9a-f]{12},business,"<script>alert\(""x""\)<\/script>&'",/);
    assert.match(rows[0] ?? "", /,true,never used$/);
    assert.match(rows[2] ?? "", /,ok-team,.*,false,$/);
  });
});

describe("connections", () => {
  it("a bad form or a refused token shows the form again with the message and without the secret", async () => {
    const bad = await post("/copilot/connect", {
      kind: "organization",
      slug: "not a name",
      token: REFUSED_TOKEN,
    });
    assert.equal(bad.statusCode, 400);
    assert.match(bad.body, /slug is not a GitHub name/);
    assert.match(bad.body, /value="not a name"/);
    assert.ok(!bad.body.includes(REFUSED_TOKEN));
    assert.equal(github.requests.length, 0, "a bad form is not probed");

    const refused = await post("/copilot/connect", {
      kind: "organization",
      slug: GH_ORG,
      token: REFUSED_TOKEN,
      base_url: `${github.url}/`,
    });
    assert.equal(refused.statusCode, 422);
    assert.match(refused.body, /not connected: GitHub rejected the token/);
    assert.ok(!refused.body.includes(REFUSED_TOKEN));
    assert.ok(refused.body.includes(`value="${github.url}/"`), "the base URL is shown again");
    // The real probe ran against the simulator, at the base URL without its trailing slash.
    const probes = github.requests.map((r) => `${r.status} ${r.path}`);
    assert.ok(
      probes.some((p) => p.startsWith("401 /")),
      probes.join(", "),
    );
    assert.ok(!probes.some((p) => p.includes("//")), probes.join(", "));
    assert.match(refused.body, /No GitHub organization is connected yet/);
  });

  it("a good token connects: 303 to the page, which says connected; disconnect removes it, twice is 404", async () => {
    const done = await post("/copilot/connect", {
      kind: "organization",
      slug: GH_ORG,
      token: GITHUB_TOKEN,
      base_url: github.url,
      keep_usage_content: "on",
    });
    assert.equal(done.statusCode, 303, done.body);
    assert.equal(done.headers.location, `/copilot?connected=github-org-${GH_ORG}#connections`);
    const page = await get(`/copilot?connected=github-org-${GH_ORG}`);
    assert.equal(page.statusCode, 200);
    assert.match(page.body, new RegExp(`${GH_ORG}: connected\\.`));
    assert.match(squash(page.body), /<span class="badge ok">connected<\/span>/);
    assert.ok(!page.body.includes(GITHUB_TOKEN));

    // On the connections topic as `aiaudit connect` writes it: the token sealed, not in clear.
    const records = await kafka.readTopic(topics.connections, { idleMs: 1000 });
    const record = records.find((r) => r.key === `acme/github-org-${GH_ORG}`);
    assert.ok(record?.value, "published on the connections topic");
    assert.ok(!record.value.toString("latin1").includes(GITHUB_TOKEN));

    const gone = await post("/copilot/disconnect", { connection_id: `github-org-${GH_ORG}` });
    assert.equal(gone.statusCode, 303);
    assert.equal(gone.headers.location, `/copilot?disconnected=github-org-${GH_ORG}#connections`);
    const listed = await get(`/copilot?disconnected=github-org-${GH_ORG}`);
    assert.match(listed.body, /disconnected; it is no longer pulled/);
    assert.ok(!listed.body.includes(`data-connection="github-org-${GH_ORG}"`));
    const again = await post("/copilot/disconnect", { connection_id: `github-org-${GH_ORG}` });
    assert.equal(again.statusCode, 404);
    assert.match(again.headers["content-type"] as string, /^text\/html/);
    assert.match(again.body, /no GitHub connection/);

    const log = lines.join("\n");
    for (const secret of [GITHUB_TOKEN, REFUSED_TOKEN, token])
      assert.ok(!log.includes(secret), "a secret is logged");
    assert.ok(lines.some((l) => l.includes('"event":"connected"')));
    assert.ok(lines.some((l) => l.includes('"event":"disconnected"')));
  });
});

describe("evidence packs when the packer does not answer", () => {
  it("the page still shows, and says the packs cannot be listed", async () => {
    const page = await get("/copilot");
    assert.equal(page.statusCode, 200);
    assert.match(
      squash(page.body),
      new RegExp(`The evidence packs cannot be listed: the packer at ${packerUrl} did not answer`),
    );
  });

  it("the pack button answers 502 with the reason; a download is a 502 page", async () => {
    const made = await post("/copilot/packs", {});
    assert.equal(made.statusCode, 502);
    assert.match(made.headers["content-type"] as string, /^text\/html/);
    assert.match(
      squash(made.body),
      new RegExp(`No evidence pack for ${lastMonth()}: the packer at ${packerUrl} did not answer`),
    );
    const download = await get("/copilot/packs/pk_1/download");
    assert.equal(download.statusCode, 502);
    assert.match(download.headers["content-type"] as string, /^text\/html/);
    assert.match(download.body, /did not answer/);
    assert.ok(
      lines.filter((l) => l.includes('"event":"request_failed"')).length >= 2,
      "logged for the operator",
    );
  });
});

describe("unknown paths", () => {
  it("a page that does not exist is an HTML 404, with the header when signed in", async () => {
    const anonymous = await app.inject({ url: "/nothing?x=1" });
    assert.equal(anonymous.statusCode, 404);
    assert.match(anonymous.headers["content-type"] as string, /^text\/html/);
    assert.match(anonymous.body, /<h1>Not found<\/h1>/);
    assert.match(anonymous.body, /there is no page \/nothing</);
    assert.ok(!anonymous.body.includes("Tenant:"));
    const signedIn = await get("/copilot/nothing/a&b'c");
    assert.equal(signedIn.statusCode, 404);
    assert.match(squash(signedIn.body), /Tenant:<strong>Acme &lt;Corp&gt;<\/strong>/);
    assert.match(signedIn.body, /there is no page \/copilot\/nothing\/a&amp;b&#39;c</, "the path is escaped");
  });

  it("an unknown /api/ path stays the API's JSON: 401 without a token, 404 with one", async () => {
    const anonymous = await app.inject({ url: "/api/v1/nothing" });
    assert.equal(anonymous.statusCode, 401);
    assert.match(anonymous.headers["content-type"] as string, /^application\/json/);
    assert.equal(anonymous.headers["www-authenticate"], 'Bearer realm="aiaudit"');
    assert.equal(anonymous.json<{ error: string }>().error, "UNAUTHORIZED");
    const response = await app.inject({
      url: "/api/v1/nothing",
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(response.statusCode, 404);
    assert.match(response.headers["content-type"] as string, /^application\/json/);
    const body = response.json<{ error: string; message: string }>();
    assert.equal(body.error, "NOT_FOUND");
    assert.match(body.message, /^no route GET \/api\/v1\/nothing: see \/api\/v1\/openapi\.json/);
  });
});
