/**
 * The demo (README, first command): the Copilot seat slice against the GitHub simulator, on the
 * embedded defaults (local broker, embedded ClickHouse in .cache/chdb). It takes two seat
 * snapshots of a simulated organization, waits for ClickHouse to show each as current, and
 * prints what it wrote.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { randomBytes } from "node:crypto";
import { loadConfig as loadIngestConfig } from "@aiaudit/ingest-copilot/config";
import { createLogger } from "@aiaudit/logger";
import { auditEvents, seats, startGithubSimulator } from "@aiaudit/sim-github";
import { loadConfig as loadSnapshotterConfig } from "@aiaudit/snapshotter/config";
import { createAllInOne } from "./all-in-one.ts";

const cache = process.env.AIAUDIT_CACHE ?? ".cache";
mkdirSync(`${cache}/demo`, { recursive: true });
// The demo tenant's pseudonym key, made once and kept, so pseudonyms stay stable between runs.
const keyFile = `${cache}/demo/pseudonym.key`;
if (!existsSync(keyFile)) writeFileSync(keyFile, randomBytes(32).toString("hex"), { mode: 0o600 });

const token = `ghp_demo${randomBytes(16).toString("hex")}`;
const org = "acme-corp";
const initial = seats(org, 137, "acme-dev");
// A day of audit log: seat assignments and policy changes, and a Copilot agent opening pull requests.
const events = auditEvents(org, 240, { startMs: Date.now() - 86_400_000, stepMs: 360_000, agentEvery: 6 });
const sim = await startGithubSimulator({
  tokens: [token],
  orgs: { [org]: { id: 9001, seats: initial, auditEvents: events } },
});

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
};
const logger = createLogger({ name: "aiaudit-demo", level: process.env.LOG_LEVEL ?? "error" });
const app = await createAllInOne(
  { ingestCopilot: loadIngestConfig(env), snapshotter: loadSnapshotterConfig(env) },
  logger,
  { schedule: false },
);
const { ch } = app;
const say = (line = "") => process.stdout.write(`${line}\n`);

async function untilCurrent(snapshotId: string, rows: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [r] = await ch.rows<{ n: string }>(
      `SELECT count() AS n FROM ${ch.table("copilot_current_seats")} WHERE snapshot_id = {id:String}`,
      { id: snapshotId },
    );
    if (Number(r?.n) === rows) return;
    if (Date.now() > deadline) throw new Error(`snapshot ${snapshotId} did not become current within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function untilRows(table: string, atLeast: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const [r] = await ch.rows<{ n: string }>(
      `SELECT toString(count()) AS n FROM ${ch.table(table)} FINAL WHERE tenant = 'demo'`,
    );
    if (Number(r?.n) >= atLeast) return;
    if (Date.now() > deadline) throw new Error(`${table} did not reach ${atLeast} rows within 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
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
  say(
    "Run it again: each run adds two snapshots; copilot_current_seats always shows the newest complete one.",
  );
} catch (err) {
  process.stderr.write(`aiaudit demo failed: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
} finally {
  await app.stop().catch(() => undefined);
  await sim.close();
}
