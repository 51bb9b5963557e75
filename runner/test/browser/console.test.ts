/**
 * Issue 10, the dashboard in a real browser: headless Chromium (Debian's package, through
 * playwright-core) against the all-in-one runner — ingest-copilot, ingest-openai, the snapshotter,
 * the packer and the console on the real broker and the embedded ClickHouse — and the GitHub and
 * OpenAI simulators. A wrong token is refused without a cookie; with the right one, a GitHub org
 * and an OpenAI org are connected from the forms, the key figures and tables fill once the ingest
 * services have pulled them, idle seats and stale keys are red with their word, last month's
 * Copilot pack is generated and downloaded, and no page scrolls sideways on a phone.
 *
 * Each run writes its screenshots to .cache/screenshots/console-{copilot,openai}.png (ignored by
 * git). The copies the README links, docs/screenshots/, are rewritten only when asked:
 * `UPDATE_SCREENSHOTS=1 node --test runner/test/browser/console.test.ts`, so that a plain run
 * leaves the work tree clean.
 */
import assert from "node:assert/strict";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { loadConfig as loadConsoleConfig } from "@aiaudit/console/config";
import { codecs, topicNames, topicSpecs } from "@aiaudit/contracts";
import { generateKeyPair, privateKeyPem } from "@aiaudit/evidence-pack";
import { loadConfig as loadIngestConfig } from "@aiaudit/ingest-copilot/config";
import { loadConfig as loadPackerConfig } from "@aiaudit/packer/config";
import { auditEvents, seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { openaiOrg, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { loadConfig as loadSnapshotterConfig } from "@aiaudit/snapshotter/config";
import { createToken, tenantKey, tokenKey } from "@aiaudit/tenants";
import { captureLogger, launchChromium, publishControl, randomSuffix, uniquePrefix } from "@aiaudit/testing";
import type { Browser, BrowserContext, Page } from "playwright-core";
import { createAllInOne, ingestOpenaiConfig, type AllInOne } from "../../src/all-in-one.ts";

// The callbacks given to evaluate() run in the browser. The project compiles without the DOM
// library (it would change Node's types everywhere), so the few browser names they use are
// declared here, for this file only.
interface DomElement {
  textContent: string | null;
  classList: { contains(name: string): boolean };
  querySelectorAll(selector: string): Iterable<DomElement>;
}
interface DomBox extends DomElement {
  tagName: string;
  className: string;
  closest(selector: string): DomElement | null;
  getBoundingClientRect(): { right: number };
}
declare const document: {
  documentElement: { scrollWidth: number };
  querySelectorAll(selector: string): Iterable<DomBox>;
};
declare const window: { innerWidth: number };
declare function getComputedStyle(element: DomElement): { backgroundColor: string; color: string };

const REPO = new URL("../../../", import.meta.url).pathname;
/** Where every run writes its screenshots. */
const SCREENSHOTS = join(REPO, ".cache", "screenshots");
/** The README's copies, rewritten with UPDATE_SCREENSHOTS=1 only. */
const DOC_SCREENSHOTS = join(REPO, "docs", "screenshots");
const DEADLINE_MS = 60_000;

const prefix = uniquePrefix("console-browser");
const dir = mkdtempSync(join(tmpdir(), "aiaudit-console-browser-"));
const githubToken = `ghp_console${randomSuffix()}${"0".repeat(20)}`;
const adminKey = `sk-admin-console${randomSuffix()}`;
const ORG = "acme";
const OPENAI_ORG = "org-acme";
const SEATS = 14;
const DAY_MS = 86_400_000;
// seats(): every 7th seat has no activity at all (2 of 14 "never used"); the first one was last
// used 45 days ago ("idle"); the others 2 days ago.
const NEVER_USED = 2;
const IDLE = 1;
const ago = (days: number) => new Date(Date.now() - days * DAY_MS).toISOString().replace(/\.\d+Z$/, "Z");
const orgSeats = seats(ORG, SEATS).map((s, i) => {
  if (s.last_activity_at === null) return s;
  const at = ago(i === 0 ? 45 : 2);
  return { ...s, last_activity_at: at, last_authenticated_at: at };
});

/** The first day of last month (UTC), where the simulated audit log starts. */
function lastMonthStart(now: number): number {
  const d = new Date(now);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() - 1, 1);
}

const openai = openaiOrg({
  orgId: OPENAI_ORG,
  adminKey,
  now: Date.now(),
  users: 12,
  projects: 4,
  archivedProjects: 1,
  keys: 12,
  staleKeys: 4,
  orphanKeys: 3,
  auditEvents: 20,
  auditDays: 7,
});

let github: GithubSimulator;
let openaiSim: OpenaiSimulator;
let app: AllInOne;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let token: string;
let base: string;
const { logger, lines } = captureLogger("console-browser");
/** Undone in reverse order after the tests, whatever part of the setup was reached. */
const cleanups: (() => Promise<void> | void)[] = [() => rmSync(dir, { recursive: true, force: true })];

before(async () => {
  const start = lastMonthStart(Date.now());
  github = await startGithubSimulator({
    tokens: [githubToken],
    orgs: {
      [ORG]: {
        id: 9001,
        seats: orgSeats,
        auditEvents: auditEvents(ORG, 24, {
          startMs: start,
          spanMs: Date.now() - 120_000 - start,
          agentEvery: 4,
        }),
      },
    },
  });
  cleanups.push(() => github.close());
  openaiSim = await startOpenaiSimulator({ orgs: { [OPENAI_ORG]: openai.org } });
  cleanups.push(() => openaiSim.close());

  writeFileSync(join(dir, "signing.pem"), privateKeyPem(generateKeyPair().privateKey), { mode: 0o600 });
  const env = {
    ...process.env,
    KAFKA_TOPIC_PREFIX: prefix,
    CLICKHOUSE_DATABASE: `test_${randomSuffix()}`,
    CLICKHOUSE_DATA_DIR: join(dir, "chdb"),
    SNAPSHOTTER_GROUP_ID: `${prefix}-snapshotter`,
    TENANT_ID: "acme",
    PSEUDONYM_KEY: "99".repeat(32),
    SECRETS_KEY: "77".repeat(32),
    AUDIT_INITIAL_LOOKBACK_DAYS: "62",
    PACKER_SIGNING_KEY_FILE: join(dir, "signing.pem"),
    PACKER_STORE_DIR: join(dir, "packs"),
    PACKER_API_PORT: "0",
    PACKER_API_HOST: "127.0.0.1",
    CONSOLE_PORT: "0",
    CONSOLE_HOST: "127.0.0.1",
  };
  app = await createAllInOne(
    {
      ingestCopilot: loadIngestConfig(env),
      snapshotter: loadSnapshotterConfig(env),
      ingestOpenai: ingestOpenaiConfig(env),
      packer: loadPackerConfig(env),
      console: loadConsoleConfig(env),
    },
    logger,
  );

  // The tenant and its token, as `aiaudit tenants create` and `aiaudit tokens create` write them.
  await app.kafka.ensureTopics(topicSpecs(prefix));
  const made = createToken("acme", "browser test");
  token = made.token;
  await publishControl(app.kafka, topicNames(prefix).tenants, [
    {
      key: tenantKey("acme"),
      value: codecs.tenant.encode({ tenant: "acme", display_name: "Acme Corp", created_at: Date.now() }),
    },
    { key: tokenKey("acme", made.record.token_id), value: codecs.apiToken.encode(made.record) },
  ]);

  cleanups.push(() => app.stop());
  await app.start();
  const service = app.console;
  if (!service) throw new Error("the all-in-one runner has no console");
  base = service.url();
  browser = await launchChromium();
  cleanups.push(() => browser.close());
  context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  page = await context.newPage();
});

after(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup();
});

/** Reloads `path` until `ready()` holds on the page, or fails after DEADLINE_MS. */
async function reloadUntil(what: string, path: string, ready: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    await page.goto(`${base}${path}`);
    if (await ready()) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${DEADLINE_MS / 1000} s`);
    await page.waitForTimeout(500);
  }
}

/** A full-page screenshot of the page as it is, to .cache/screenshots/ (and docs/screenshots/ when asked). */
async function screenshot(name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, name);
  await page.screenshot({ path, fullPage: true });
  assert.deepEqual([...readFileSync(path).subarray(1, 4)], [...Buffer.from("PNG")], `${path} is not a PNG`);
  if (process.env.UPDATE_SCREENSHOTS === "1") {
    mkdirSync(DOC_SCREENSHOTS, { recursive: true });
    copyFileSync(path, join(DOC_SCREENSHOTS, name));
  }
}

const kpi = async (name: string): Promise<number> =>
  Number((await page.locator(`[data-kpi="${name}"] .value`).textContent())?.replaceAll(",", ""));

/** The table's rows on the page: their classes and cell texts. */
async function rows(table: string): Promise<{ alert: boolean; cells: string[] }[]> {
  return page.locator(`#table-${table} tbody tr`).evaluateAll((trs: DomElement[]) =>
    trs.map((tr) => ({
      alert: tr.classList.contains("alert"),
      cells: [...tr.querySelectorAll("td")].map((td) => (td.textContent ?? "").trim()),
    })),
  );
}

/**
 * What sticks out to the right of the window, outside the tables' own scroll boxes: nothing when
 * the page does not scroll sideways.
 */
const sidewaysScroll = (): Promise<string[]> =>
  page.evaluate(() => {
    const width = window.innerWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width)
      out.push(`the page is ${document.documentElement.scrollWidth} px wide`);
    for (const e of document.querySelectorAll("body *")) {
      if (e.closest(".scroll") === null && e.getBoundingClientRect().right > width + 0.5) {
        out.push(
          `${e.tagName.toLowerCase()}.${e.className} reaches ${Math.round(e.getBoundingClientRect().right)} px`,
        );
      }
    }
    return out.slice(0, 10);
  });

it("a wrong token is refused with the reason and sets no cookie", async () => {
  await page.goto(`${base}/`);
  assert.ok(page.url().endsWith("/login"), page.url());
  await page.getByLabel("API token").fill(`aat_000000000000_${"x".repeat(43)}`);
  await page.getByRole("button", { name: "Sign in" }).click();
  assert.match((await page.getByRole("alert").textContent()) ?? "", /Not signed in: unknown token/);
  assert.deepEqual(await context.cookies(), []);
});

it("signs in with the token, connects the GitHub org, and the figures and tables fill after the pull", async () => {
  await page.getByLabel("API token").fill(token);
  await page.getByRole("button", { name: "Sign in" }).click();
  assert.equal(new URL(page.url()).pathname, "/copilot");
  const [cookie] = await context.cookies();
  assert.equal(cookie?.name, "aiaudit_session");
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
  assert.match((await page.locator("header .tenant").textContent()) ?? "", /Acme Corp/);

  await page.getByLabel("Organization or enterprise name").fill(ORG);
  await page.getByLabel("Token", { exact: true }).fill(githubToken);
  await page.getByLabel("API base URL").fill(github.url);
  await page.getByRole("button", { name: "Connect" }).click();
  assert.match(page.url(), /\/copilot\?connected=github-org-acme/);
  assert.match((await page.getByRole("status").textContent()) ?? "", /acme: connected\./);
  assert.equal(await page.locator('[data-connection="github-org-acme"] .badge').textContent(), "connected");
  assert.ok(!(await page.content()).includes(githubToken), "the token is written into the page");

  await reloadUntil(
    "the seats of the pull",
    "/copilot",
    async () => (await kpi("seats")) === SEATS && (await rows("seats")).length === SEATS,
  );
  assert.equal(await kpi("idle_seats"), IDLE);
  assert.equal(await kpi("never_used_seats"), NEVER_USED);
  assert.equal(await page.locator('[data-kpi="never_used_seats"].alert').count(), 1);
  await reloadUntil(
    "the audit events of the pull",
    "/copilot",
    async () => (await rows("audit-events")).length > 0 && (await rows("agent-events")).length > 0,
  );
  assert.equal(await page.locator("#chart-seats-desc").count(), 1);
  assert.ok((await page.locator(".chart rect.bar").count()) > 0, "the charts have no bar");
});

it("an idle seat is red, with the word idle, and the hint about last_activity_at beside the table", async () => {
  const seatRows = await rows("seats");
  const red = seatRows.filter((r) => r.alert);
  assert.equal(red.length, IDLE + NEVER_USED);
  for (const r of red)
    assert.ok(r.cells.includes("idle"), `an idle row without the word: ${r.cells.join(" | ")}`);
  assert.deepEqual(red.map((r) => r.cells.at(-1)).sort(), ["idle", "never used", "never used"]);
  const cell = page.locator("#table-seats tbody tr.alert td").first();
  assert.equal(
    await cell.evaluate((td: DomElement) => getComputedStyle(td).backgroundColor),
    "rgb(253, 236, 235)",
  );
  assert.equal(await cell.evaluate((td: DomElement) => getComputedStyle(td).color), "rgb(140, 29, 24)");
  const badge = page.locator("#table-seats tbody tr.alert .badge.alert").first();
  assert.equal(
    await badge.evaluate((b: DomElement) => getComputedStyle(b).backgroundColor),
    "rgb(179, 38, 30)",
  );
  assert.match((await page.locator("#table-seats-hint").textContent()) ?? "", /last_activity_at.*telemetry/);
});

it("connects the OpenAI org; a stale key is red with the word stale", async () => {
  await page.getByRole("link", { name: "OpenAI Audit" }).click();
  assert.equal(new URL(page.url()).pathname, "/openai");
  await page.getByLabel("Organization id").fill(OPENAI_ORG);
  await page.getByLabel("Display name (optional)").fill("Acme OpenAI");
  await page.getByLabel("Admin key").fill(adminKey);
  await page.getByLabel("API base URL").fill(`${openaiSim.url}/v1`);
  await page.getByRole("button", { name: "Connect" }).click();
  assert.match((await page.getByRole("status").textContent()) ?? "", /Acme OpenAI: connected\./);
  assert.ok(!(await page.content()).includes(adminKey), "the admin key is written into the page");

  const staleIds = openai.expected.staleKeyIds;
  await reloadUntil("the users, API keys and audit log of the pull", "/openai", async () => {
    const keys = await rows("api-keys");
    const redIds = keys.filter((r) => r.alert).map((r) => r.cells.at(-1));
    return (
      (await kpi("users")) === openai.org.users.length &&
      staleIds.every((id) => redIds.includes(id)) &&
      (await rows("audit-events")).length === openai.org.auditLogs.length
    );
  });
  const red = (await rows("api-keys")).filter((r) => r.alert);
  for (const r of red)
    assert.ok(r.cells.includes("stale"), `a stale row without the word: ${r.cells.join(" | ")}`);
  const cell = page.locator("#table-api-keys tbody tr.alert td").first();
  assert.equal(
    await cell.evaluate((td: DomElement) => getComputedStyle(td).backgroundColor),
    "rgb(253, 236, 235)",
  );
  assert.ok((await kpi("stale_keys")) >= staleIds.length);
  assert.equal(await page.locator('[data-kpi="stale_keys"].alert').count(), 1);

  await screenshot("console-openai.png");
});

it("generates last month's Copilot pack and downloads it", async () => {
  await page.goto(`${base}/copilot`);
  await page.getByRole("button", { name: /Generate last month's pack/ }).click();
  assert.match(page.url(), /\/copilot\?pack=/);
  assert.match((await page.getByRole("status").textContent()) ?? "", /Evidence pack 1 .* is sealed/);
  const listed = page.locator("#packs tbody tr");
  assert.equal(await listed.count(), 1);

  const [download] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#packs tbody tr a[download]").first().click(),
  ]);
  const path = await download.path();
  const bytes = readFileSync(path);
  assert.ok(statSync(path).size > 0);
  assert.deepEqual([...bytes.subarray(0, 2)], [0x1f, 0x8b], "not a gzip");
  assert.match(download.suggestedFilename(), /\.tar\.gz$|\.gz$/);

  await screenshot("console-copilot.png");
});

it("on a phone (390 px) neither page scrolls sideways", async () => {
  await page.setViewportSize({ width: 390, height: 844 });
  for (const path of ["/copilot", "/openai", "/login"]) {
    await page.goto(`${base}${path}`);
    assert.deepEqual(await sidewaysScroll(), [], `${path} is wider than the phone`);
  }
});

it("no secret reached a log line", () => {
  const text = lines.join("\n");
  for (const secret of [token, githubToken, adminKey]) assert.ok(!text.includes(secret));
});
