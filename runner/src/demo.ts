/**
 * The demo (README, first command), on the embedded defaults (local broker, embedded ClickHouse
 * in .cache/chdb). Copilot: two seat snapshots and a day of audit log of a simulated GitHub
 * organization. OpenAI: one snapshot of every list (users, projects, service accounts, project
 * and admin keys) and a week of audit log of a simulated OpenAI organization with known
 * findings. It waits for ClickHouse to show each snapshot as current and prints what it wrote,
 * and the OpenAI organization's key figures as the analysts' views give them.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig as loadIngestConfig } from "@aiaudit/ingest-copilot/config";
import { createLogger } from "@aiaudit/logger";
import { openaiConnectionId } from "@aiaudit/openai-connect";
import { auditEvents, seats, startGithubSimulator } from "@aiaudit/sim-github";
import { openaiOrg, startOpenaiSimulator } from "@aiaudit/sim-openai";
import { loadConfig as loadSnapshotterConfig } from "@aiaudit/snapshotter/config";
import { bill } from "@aiaudit/billing";
import { codecs, topicNames } from "@aiaudit/contracts";
import { generateKeyPair, keyPairFromPrivatePem, privateKeyPem, verifyPack } from "@aiaudit/evidence-pack";
import { loadConfig as loadConsoleConfig } from "@aiaudit/console/config";
import { loadConfig as loadPackerConfig } from "@aiaudit/packer/config";
import { previousMonth } from "@aiaudit/packer/schedule";
import { createToken, tenantKey, tokenKey } from "@aiaudit/tenants";
import { createAllInOne, ingestOpenaiConfig } from "./all-in-one.ts";

const cache = process.env.AIAUDIT_CACHE ?? ".cache";
mkdirSync(`${cache}/demo`, { recursive: true });
// The demo tenant's pseudonym key, made once and kept, so pseudonyms stay stable between runs.
const keyFile = `${cache}/demo/pseudonym.key`;
if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });

// The key that signs evidence packs, made once and kept (as `aiaudit keys generate` would), so
// the packs of earlier runs still verify.
const signingKeyFile = `${cache}/demo/signing-key.pem`;
if (!existsSync(signingKeyFile)) {
  writeFileSync(signingKeyFile, privateKeyPem(generateKeyPair().privateKey), { mode: 0o600 });
}

// The key that seals the secrets of connections made in the dashboard, made once and kept, so the
// ingest services can open them on the next run too.
const secretsKeyFile = `${cache}/demo/secrets.key`;
if (!existsSync(secretsKeyFile))
  writeFileSync(secretsKeyFile, randomBytes(32).toString("hex"), { mode: 0o600 });

/** `--once`: exit after the run instead of serving the dashboard until Ctrl-C. */
const once = process.argv.includes("--once");

const token = `ghp_demo${randomBytes(16).toString("hex")}`;
const org = "acme-corp";
const initial = seats(org, 137, "acme-dev");
// The audit log since the start of last month: seat assignments and policy changes, and a Copilot
// agent opening pull requests; last month's part goes into the evidence pack at the end.
const lastMonth = previousMonth(Date.now());
const auditStartMs = Date.parse(lastMonth.periodStart);
const events = auditEvents(org, 400, {
  startMs: auditStartMs,
  spanMs: Date.now() - 60_000 - auditStartMs,
  agentEvery: 6,
});
const sim = await startGithubSimulator({
  tokens: [token],
  orgs: { [org]: { id: 9001, seats: initial, auditEvents: events } },
});

// An OpenAI organization with known findings: `expected` lists the stale and orphan keys and the
// external users a correct audit must find, and nothing else.
const openaiOrgId = "org-demo";
const ownDomain = "acme.example";
const adminKey = `sk-admin-demo${randomBytes(16).toString("hex")}`;
const openai = openaiOrg({
  orgId: openaiOrgId,
  adminKey,
  now: Date.now(),
  users: 60,
  projects: 8,
  archivedProjects: 2,
  keys: 40,
  staleKeys: 6,
  orphanKeys: 6,
  serviceAccountKeys: 4,
  auditEvents: 800,
  auditDays: 7,
  ownDomain,
});
const openaiSim = await startOpenaiSimulator({ orgs: { [openaiOrgId]: openai.org } });
// The service reads its admin key from a file, as in production; the file lives only until the
// configuration is loaded.
const adminKeyDir = mkdtempSync(join(tmpdir(), "aiaudit-demo-"));
const adminKeyFile = join(adminKeyDir, "openai-admin-key");
writeFileSync(adminKeyFile, adminKey, { mode: 0o600 });

const env = {
  KAFKA_TOPIC_PREFIX: "aiaudit-demo",
  CLICKHOUSE_DATABASE: "aiaudit_demo",
  CLICKHOUSE_DATA_DIR: `${cache}/chdb`,
  SNAPSHOTTER_GROUP_ID: "aiaudit-demo-snapshotter",
  ...process.env,
  TENANT_ID: "demo",
  GITHUB_ORG: org,
  GITHUB_TOKEN: token,
  GITHUB_API_URL: sim.url,
  PSEUDONYM_KEY: readFileSync(keyFile, "utf8").trim(),
  SEATS_PER_PAGE: "50",
  OPENAI_ORG_ID: openaiOrgId,
  OPENAI_ADMIN_KEY_FILE: adminKeyFile,
  OPENAI_API_URL: `${openaiSim.url}/v1`,
  AUDIT_INITIAL_LOOKBACK_DAYS: "62",
  PACKER_SIGNING_KEY_FILE: signingKeyFile,
  PACKER_STORE_DIR: `${cache}/demo/packs`,
  PACKER_API_PORT: "0",
  PACKER_API_HOST: "127.0.0.1",
  SECRETS_KEY: readFileSync(secretsKeyFile, "utf8").trim(),
  CONSOLE_PORT: process.env.CONSOLE_PORT ?? "8468",
  CONSOLE_HOST: process.env.CONSOLE_HOST ?? "127.0.0.1",
};
const logger = createLogger({ name: "aiaudit-demo", level: process.env.LOG_LEVEL ?? "error" });
let openaiConfig;
try {
  openaiConfig = ingestOpenaiConfig(env);
} finally {
  rmSync(adminKeyDir, { recursive: true, force: true });
}
const app = await createAllInOne(
  {
    ingestCopilot: loadIngestConfig(env),
    snapshotter: loadSnapshotterConfig(env),
    ingestOpenai: openaiConfig,
    packer: loadPackerConfig(env),
    console: loadConsoleConfig(env),
  },
  logger,
  { schedule: false },
);
const { ch } = app;
const say = (line = "") => process.stdout.write(`${line}\n`);

/** Waits until `done()` is true: the sink writes in the background. */
async function until(what: string, done: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`${what} within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const untilCurrent = (snapshotId: string, rows: number) =>
  until(`snapshot ${snapshotId} did not become current`, async () => {
    const [r] = await ch.rows<{ n: string }>(
      `SELECT count() AS n FROM ${ch.table("copilot_current_seats")} WHERE snapshot_id = {id:String}`,
      { id: snapshotId },
    );
    return Number(r?.n) === rows;
  });

const untilRows = (table: string, atLeast: number) =>
  until(`${table} did not reach ${atLeast} rows`, async () => {
    const [r] = await ch.rows<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${ch.table(table)} FINAL WHERE tenant = 'demo'`,
    );
    return Number(r?.n) >= atLeast;
  });

/** A count from an OpenAI view, for the demo organization; `where` narrows it further. */
async function openaiCount(view: string, where = "1"): Promise<number> {
  const [r] = await ch.rows<{ n: string }>(
    `SELECT toString(count()) AS n FROM ${ch.table(view)} WHERE tenant = 'demo' AND org = {org:String} AND ${where}`,
    { org: openaiOrgId },
  );
  return Number(r?.n ?? 0);
}

/** Sorted values of one column of an OpenAI view, for the demo organization. */
async function openaiIds(view: string, column: string, where = "1"): Promise<string[]> {
  const rows = await ch.rows<{ id: string }>(
    `SELECT ${column} AS id FROM ${ch.table(view)} WHERE tenant = 'demo' AND org = {org:String} AND ${where} ORDER BY id`,
    { org: openaiOrgId },
  );
  return rows.map((r) => r.id);
}

/** "2 reason a, 1 reason b" from rows of a reason and its count. */
const byReason = (rows: { reason: string; n: string }[]) =>
  rows.map((r) => `${r.n} ${r.reason}`).join(", ") || "none";

/**
 * ingest-openai's streams once each (one Kafka transaction per snapshot, the audit log chunk by
 * chunk with its cursor), then the organization's key figures from the views once every
 * snapshot is current, and a check against the findings the fixture planted.
 */
async function openaiPart(): Promise<void> {
  const poller = app.ingestOpenai?.connection(openaiConnectionId(openaiOrgId));
  if (!poller) throw new Error(`ingest-openai has no connection for ${openaiOrgId}`);
  const o = openai.org;
  say(
    `OpenAI simulator at ${openaiSim.url}, organization ${openaiOrgId}: ${o.users.length} users, ` +
      `${o.projects.length} projects, ${Object.values(o.projectApiKeys).flat().length} project keys, ` +
      `${o.auditLogs.length} audit events over 7 days`,
  );
  const snapshots = [
    ["USERS", "users", await poller.pollUsers()],
    ["PROJECTS", "projects", await poller.pollProjects()],
    ["SERVICE_ACCOUNTS", "service accounts", await poller.pollServiceAccounts()],
    ["PROJECT_API_KEYS", "project keys", await poller.pollProjectApiKeys()],
    ["ADMIN_API_KEYS", "admin keys", await poller.pollAdminApiKeys()],
  ] as const;
  for (const [entity, , { snapshotId }] of snapshots) {
    await until(`the ${entity} snapshot ${snapshotId} did not become current`, async () => {
      const [r] = await ch.rows<{ id: string }>(
        `SELECT snapshot_id AS id FROM ${ch.table("openai_current_snapshots")}
         WHERE tenant = 'demo' AND org = {org:String} AND entity = {entity:String}`,
        { org: openaiOrgId, entity },
      );
      return r?.id === snapshotId;
    });
  }
  say(
    `snapshots: ${snapshots.map(([, label, r]) => `${r.rows} ${label}`).join(", ")}; ` +
      "each one Kafka transaction, now current in ClickHouse",
  );
  const { published } = await poller.pollAuditEvents();
  say(
    `audit log: ${published} event${published === 1 ? "" : "s"} new since the last cursor (each day read twice, the second time with ` +
      "tenant_only=true for the tenant-scoped events), published oldest first in chunks, each with its cursor",
  );
  await untilRows("openai_audit_events", published);
  // A tenant setting: the tenant's own email domains; users outside them are external.
  await ch.insert(
    "tenant_domains",
    [{ tenant: "demo", domain: ownDomain }],
    `demo/tenant_domains/${ownDomain}`,
  );
  say();

  const users = await openaiCount("openai_current_users");
  const external = await openaiIds("openai_external_users", "user_id");
  const [projects] = await ch.rows<{ active: string; archived: string }>(
    `SELECT toString(countIf(status = 'active')) AS active, toString(countIf(status = 'archived')) AS archived
     FROM ${ch.table("openai_current_projects")} WHERE tenant = 'demo' AND org = {org:String}`,
    { org: openaiOrgId },
  );
  const projectKeys = await openaiCount("openai_current_api_keys", "key_type = 'PROJECT'");
  const serviceAccountKeys = await openaiCount(
    "openai_current_api_keys",
    "key_type = 'PROJECT' AND owner_type = 'service_account'",
  );
  const stale = await ch.rows<{ key_type: string; reason: string; n: string }>(
    `SELECT key_type, reason, toString(count()) AS n FROM ${ch.table("openai_stale_keys")}
     WHERE tenant = 'demo' AND org = {org:String} GROUP BY key_type, reason ORDER BY key_type DESC, reason`,
    { org: openaiOrgId },
  );
  const staleOf = (type: string) => stale.filter((r) => r.key_type === type);
  const orphans = await ch.rows<{ reason: string; n: string }>(
    `SELECT reason, toString(count()) AS n FROM ${ch.table("openai_orphan_keys")}
     WHERE tenant = 'demo' AND org = {org:String} GROUP BY reason ORDER BY reason`,
    { org: openaiOrgId },
  );
  const adminKeys = await openaiCount("openai_current_api_keys", "key_type = 'ADMIN'");
  const expiring = await openaiCount(
    "openai_current_api_keys",
    "key_type = 'ADMIN' AND expires_at IS NOT NULL AND expires_at < now64(3) + INTERVAL 30 DAY",
  );
  const types = await ch.rows<{ type: string; n: string }>(
    `SELECT type, toString(count()) AS n FROM ${ch.table("openai_audit_events")} FINAL
     WHERE tenant = 'demo' AND org = {org:String} GROUP BY type ORDER BY count() DESC, type LIMIT 5`,
    { org: openaiOrgId },
  );
  const [events] = await ch.rows<{ n: string; types: string }>(
    `SELECT toString(count()) AS n, toString(uniqExact(type)) AS types FROM ${ch.table("openai_audit_events")} FINAL
     WHERE tenant = 'demo' AND org = {org:String}`,
    { org: openaiOrgId },
  );

  const row = (label: string, text: string) => say(`  ${label.padEnd(14)} ${text}`);
  say(`OpenAI organization ${openaiOrgId} (current views; the tenant's own domain is ${ownDomain}):`);
  row("users", `${users}, ${external.length} external (openai_external_users)`);
  row("projects", `${projects?.active ?? 0} active, ${projects?.archived ?? 0} archived`);
  row("project keys", `${projectKeys}, ${serviceAccountKeys} owned by service accounts`);
  row(
    "stale keys",
    `project keys: ${byReason(staleOf("PROJECT"))}; admin keys: ${byReason(staleOf("ADMIN"))} (openai_stale_keys)`,
  );
  row("orphan keys", `${byReason(orphans)} (openai_orphan_keys)`);
  row("admin keys", `${adminKeys}, ${expiring} expiring within 30 days`);
  row(
    "audit events",
    `${events?.n ?? 0} of ${events?.types ?? 0} types (table openai_audit_events, every run so far); the top 5:`,
  );
  for (const r of types) say(`    ${r.type.padEnd(36)} ${r.n}`);

  // The fixture knows what a correct audit finds: compare ids, not just counts.
  const expected = openai.expected;
  const checks = [
    [
      "stale project keys",
      await openaiIds("openai_stale_keys", "key_id", "key_type = 'PROJECT'"),
      expected.staleKeyIds,
    ],
    ["orphan keys", await openaiIds("openai_orphan_keys", "key_id"), expected.orphanKeyIds],
    ["external users", external, expected.externalUserIds],
  ] as const;
  const wrong = checks.filter(([, found, planted]) => found.join() !== [...planted].sort().join());
  say(
    wrong.length === 0
      ? `  every finding planted in the simulated organization was found, and nothing else (${checks.map(([what, found]) => `${found.length} ${what}`).join(", ")})`
      : `  findings differ from the ones planted: ${wrong.map(([what, found, planted]) => `${what} ${found.length} found, ${planted.length} planted`).join("; ")}`,
  );
  if (wrong.length > 0) process.exitCode = 1;
}

/**
 * The KPI summary (view kpi_summary) and this month's bill so far (@aiaudit/billing, as
 * `aiaudit billing` computes it), from the complete snapshots the demo wrote.
 */
async function kpiPart(): Promise<void> {
  const kpis = await ch.rows<Record<string, number | string | null>>(
    `SELECT * FROM ${ch.table("kpi_summary")} WHERE tenant = 'demo' ORDER BY module`,
  );
  say("KPI summary (view kpi_summary):");
  for (const k of kpis) {
    const figures = Object.entries(k)
      .filter(([name, value]) => !["tenant", "module"].includes(name) && value !== null)
      .map(([name, value]) => `${name.replaceAll("_", " ")} ${value}`);
    say(`  ${String(k.module).padEnd(13)} ${figures.join(", ")}`);
  }
  const today = new Date().toISOString().slice(0, 10);
  const soFar = await bill(ch, "demo", { from: `${today.slice(0, 8)}01`, to: today });
  const money = (cents: number) => `EUR ${(cents / 100).toFixed(2)}`;
  say(
    `this month's bill so far (${soFar.from} .. ${soFar.to}, ${soFar.days} days; \`aiaudit billing --tenant demo --month ${today.slice(0, 7)}\` bills the whole month):`,
  );
  say(
    `  Copilot: ${soFar.copilot.seats.total} seat-days → average ${soFar.copilot.seats.average} → ${soFar.copilot.seats.billable} seats (${soFar.copilot.days_without_snapshot} day(s) before the first snapshot count 0) = ${money(soFar.copilot.seats.amount_cents)}`,
  );
  say(
    `  OpenAI: ${soFar.openai.users.billable} users, ${soFar.openai.active_projects.billable} active projects = ${money(soFar.openai.users.amount_cents + soFar.openai.active_projects.amount_cents)}; total ${money(soFar.total_cents)}`,
  );
}

/**
 * A bearer token of the demo tenant on the tenants topic (what `aiaudit tenants create demo` and
 * `aiaudit tokens create --tenant demo` write): the packer's API and the dashboard take it. It is
 * revoked when the demo ends.
 */
async function demoToken(): Promise<{ token: string; revoke(): Promise<void> }> {
  const topic = topicNames(env.KAFKA_TOPIC_PREFIX).tenants;
  const made = createToken("demo", "demo run");
  const publish = async (records: { key: string; value: Buffer }[]) => {
    const producer = await app.kafka.transactionalProducer(`${env.KAFKA_TOPIC_PREFIX}.demo.tenants`);
    try {
      await producer.transaction((tx) => tx.send(records.map((r) => ({ topic, ...r }))));
    } finally {
      await producer.disconnect();
    }
  };
  await publish([
    {
      key: tenantKey("demo"),
      value: codecs.tenant.encode({ tenant: "demo", display_name: "aiaudit demo", created_at: Date.now() }),
    },
    { key: tokenKey("demo", made.record.token_id), value: codecs.apiToken.encode(made.record) },
  ]);
  return {
    token: made.token,
    revoke: () =>
      publish([
        {
          key: tokenKey("demo", made.record.token_id),
          value: codecs.apiToken.encode({ ...made.record, revoked_at: Date.now() }),
        },
      ]),
  };
}

/**
 * The tenant's evidence pack of last month through the packer's HTTP API, downloaded, and verified
 * with the auditor's tool, tools/evidence-pack-verify.py, with the public key only.
 */
async function packPart(token: string): Promise<void> {
  const packer = app.packer;
  if (!packer) throw new Error("the all-in-one runner has no packer");
  const api = `${packer.apiUrl()}/api/v1/copilot/evidence-packs`;
  const authorization = `Bearer ${token}`;
  // The packer follows the tenants topic: the new token reaches it within a fetch.
  await until("the packer did not accept the demo's new token", async () => {
    const response = await fetch(api, { headers: { authorization } });
    await response.arrayBuffer();
    return response.status !== 401;
  });
  const period = { period_start: lastMonth.periodStart, period_end: lastMonth.periodEnd };
  const response = await fetch(api, {
    method: "POST",
    headers: { authorization, "content-type": "application/json" },
    body: JSON.stringify(period),
  });
  const text = await response.text();
  if (response.status !== 200 && response.status !== 201) {
    throw new Error(`POST ${api} answered ${response.status}: ${text}`);
  }
  const pack = JSON.parse(text) as { file: string; sequence: number; bytes: number; download: string };
  say(`POST ${api} ${JSON.stringify(period)}`);
  say(
    `  → ${response.status} ${response.status === 201 ? "created" : "(sealed by an earlier run: the same period gives the same pack)"}: ` +
      `${pack.file}, sequence ${pack.sequence} of the demo tenant's Copilot chain, ${pack.bytes} bytes`,
  );
  const download = await fetch(`${packer.apiUrl()}${pack.download}`, { headers: { authorization } });
  if (!download.ok) throw new Error(`GET ${pack.download} answered ${download.status}`);
  const file = `${cache}/demo/copilot-${lastMonth.periodStart.slice(0, 7)}-${pack.file}`;
  writeFileSync(file, Buffer.from(await download.arrayBuffer()));
  const publicKey = keyPairFromPrivatePem(readFileSync(signingKeyFile, "utf8")).publicKey;
  const verified = await verifyPack(file, { expectedPublicKey: publicKey });
  if (!verified.valid) throw new Error(`the downloaded pack does not verify: ${verified.reason}`);
  say(
    `  downloaded to ${file}: ${verified.manifest.files.map((f) => (f.rows === null ? f.name : `${f.name} (${f.rows} rows)`)).join(", ")}`,
  );
  say(
    "  (the demo's seat snapshots were all taken today, so coverage.json states last month's days without one)",
  );
  const command = [
    "python3",
    "tools/evidence-pack-verify.py",
    file,
    "--expected-pubkey",
    Buffer.from(publicKey).toString("base64"),
  ];
  say();
  say("the auditor's check, Python 3 standard library only, with the public key alone:");
  say(`$ ${command.join(" ")}`);
  const run = spawnSync(command[0] as string, command.slice(1), { encoding: "utf8" });
  for (const line of `${run.stdout}${run.stderr}`.trimEnd().split("\n")) say(`  ${line}`);
  say(`  (exit ${run.status ?? "?"})`);
  if (run.status !== 0) process.exitCode = 1;
}

/**
 * The dashboard, until Ctrl-C: its URL and the demo tenant's token to log in with; the ingest
 * services poll on their schedule meanwhile, so an organization connected in the dashboard fills.
 */
async function servePart(token: string): Promise<void> {
  const url = app.console?.url();
  if (!url) throw new Error("the all-in-one runner has no console");
  await app.startPolling();
  say(`dashboard: ${url.replace("127.0.0.1", "localhost")}/  (log in with the demo tenant's token)`);
  say(`  token: ${token}`);
  say(`  API:   curl -H "Authorization: Bearer ${token}" ${url}/api/v1/copilot/kpis`);
  say("serving until Ctrl-C (run with --once to exit after the run)");
  await new Promise<void>((resolve) => {
    process.once("SIGINT", resolve);
    process.once("SIGTERM", resolve);
  });
  say("stopping");
}

try {
  await app.start();
  say(`aiaudit demo: GitHub simulator at ${sim.url}, organization ${org}, ${initial.length} Copilot seats`);
  const first = await app.ingestCopilot.pollSeats();
  await untilCurrent(first.snapshotId, first.rows);
  say(
    `snapshot 1 ${first.snapshotId}: ${first.rows} seats published in one Kafka transaction, now current in ClickHouse`,
  );

  // 12 people leave, 5 join, one seat record arrives broken (it goes to the dead-letter topic).
  const broken = { ...seats(org, 1, "acme-broken")[0], created_at: "not-a-date" };
  sim.setSeats(org, [...initial.slice(12), ...seats(org, 5, "acme-new"), broken]);
  const second = await app.ingestCopilot.pollSeats();
  await untilCurrent(second.snapshotId, second.rows);
  say(
    `snapshot 2 ${second.snapshotId}: ${second.rows} seats, ${second.rejected} rejected to the dead-letter topic`,
  );
  const audit = await app.ingestCopilot.pollAuditEvents();
  const agent = await app.ingestCopilot.pollAgentEvents();
  const again = await app.ingestCopilot.pollAuditEvents();
  say(
    `audit log: ${audit.published} Copilot events and ${agent.published} agent events new since the last cursor, published page by page, ` +
      `each page with its cursor; polling again published ${again.published} (${again.duplicates} re-read in the overlap window, skipped)`,
  );
  await untilRows("copilot_audit_events", audit.published + agent.published);
  say();

  say(
    `ClickHouse database ${ch.database} (${ch.embedded ? `embedded, ${env.CLICKHOUSE_DATA_DIR}` : "server"}):`,
  );
  for (const table of [
    "copilot_seat_snapshots",
    "copilot_seat_snapshot_markers",
    "copilot_daily_seats",
    "copilot_audit_events",
  ]) {
    const [r] = await ch.rows<{ n: string }>(`SELECT toString(count()) AS n FROM ${ch.table(table)} FINAL`);
    say(`  ${table.padEnd(32)} ${r?.n ?? 0} rows (every run so far)`);
  }
  say();
  say("current seats (view copilot_current_seats), by plan and granting team:");
  const byPlan = await ch.rows<{
    plan_type: string;
    team: string;
    seats: string;
    active_30d: string;
    pending_cancellation: string;
  }>(
    `SELECT plan_type, ifNull(assigning_team, '(direct)') AS team, toString(count()) AS seats,
            toString(countIf(last_activity_at >= now64(3) - INTERVAL 30 DAY)) AS active_30d,
            toString(countIf(pending_cancellation_date IS NOT NULL)) AS pending_cancellation
     FROM ${ch.table("copilot_current_seats")} GROUP BY plan_type, team ORDER BY plan_type, team`,
  );
  for (const r of byPlan) {
    say(
      `  ${r.plan_type.padEnd(10)} ${r.team.padEnd(16)} seats ${r.seats.padStart(4)}  active in 30 days ${r.active_30d.padStart(4)}  pending cancellation ${r.pending_cancellation}`,
    );
  }
  say();
  say("a few current seats (people appear only as keyed pseudonyms):");
  const sample = await ch.rows<{
    who: string;
    plan_type: string;
    last_activity_at: string | null;
    editor: string | null;
  }>(
    `SELECT substring(assignee_pseudonym, 1, 12) AS who, plan_type, last_activity_at, last_activity_editor AS editor
     FROM ${ch.table("copilot_current_seats")} ORDER BY assignee_pseudonym LIMIT 5`,
  );
  for (const r of sample)
    say(`  ${r.who}…  ${r.plan_type}  last activity ${r.last_activity_at ?? "never"}  ${r.editor ?? ""}`);
  say();
  say("audit events by action (table copilot_audit_events; agents keep their name, people are pseudonyms):");
  const actions = await ch.rows<{ action: string; who: string; n: string }>(
    `SELECT action, if(actor_is_agent, concat('agent ', ifNull(actor_agent, '?')), 'people') AS who, toString(count()) AS n
     FROM ${ch.table("copilot_audit_events")} FINAL WHERE tenant = 'demo' GROUP BY action, who ORDER BY action`,
  );
  for (const r of actions) say(`  ${r.action.padEnd(40)} ${r.who.padEnd(14)} ${r.n}`);
  say();
  say("daily seat count (table copilot_daily_seats, used for billing):");
  const daily = await ch.rows<{ day: string; org: string; seats: number }>(
    `SELECT toString(day) AS day, org, seats FROM ${ch.table("copilot_daily_seats")} FINAL WHERE tenant = 'demo' ORDER BY day DESC LIMIT 5`,
  );
  for (const r of daily) say(`  ${r.day}  ${r.org}  ${r.seats} seats`);
  say();
  await openaiPart();
  say();
  await kpiPart();
  say();
  const demo = await demoToken();
  try {
    await packPart(demo.token);
    say();
    say(
      "Run it again: each run adds two seat snapshots and one of each OpenAI list; the current views always show the newest complete one, and last month's pack stays the one sealed first.",
    );
    if (!once) {
      say();
      await servePart(demo.token);
    }
  } finally {
    await demo.revoke();
  }
} catch (err) {
  process.stderr.write(`aiaudit demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await app.stop().catch(() => undefined);
  await sim.close();
  await openaiSim.close();
}
