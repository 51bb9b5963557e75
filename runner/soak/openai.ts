/**
 * The soak's OpenAI part: the OpenAI simulator (in this process, on a fixed port) with a modest
 * organization (`openaiOrg`: 200 users, 10 projects of which 2 archived, 100 project keys) whose
 * audit log holds the soak's events, and ingest-openai configured for it by environment, its
 * admin key in a file of mode 600. The kills follow the requests on /v1/organization/audit_logs.
 *
 * ingest-openai reads the audit log in time slices (at most a day, halved when over
 * AUDIT_SLICE_MAX_EVENTS) and publishes each slice oldest first; a small AUDIT_SLICE_MAX_EVENTS
 * makes busy slices split, so a restart first reads and throws away a few oversized slices
 * (`restartPages`) before it publishes.
 *
 * Repeats: the simulator serves each event once per listing, so pages are rewritten
 * (`faults.rewrite`) to start with the last `repeatAcrossPages` events of the previous page when
 * they continue its traversal, as a newest-first listing does when new events arrive between two
 * requests. Repeats across polls come from the ingest itself: every poll re-reads
 * AUDIT_OVERLAP_MINUTES (30) before the newest event it published.
 */
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { codecs } from "@aiaudit/contracts";
import {
  faults,
  isTenantScoped,
  openaiOrg,
  startOpenaiSimulator,
  type Fault,
  type OpenaiAuditLog,
} from "@aiaudit/sim-openai";
import type { SoakVendor, VendorSetup } from "./vendor.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const ORG_ID = "org-soak";
const ADMIN_KEY = "sk-admin-soak-key-not-a-secret";
const AUDIT_PATH = "/v1/organization/audit_logs";
const PAGE_LIMIT = 100;
const DAY_S = 86_400;
/** The organization around the audit log: what the current views in ClickHouse must hold. */
const ORG = { users: 200, projects: 10, archivedProjects: 2, keys: 100 };

export async function startOpenaiSource(setup: VendorSetup): Promise<SoakVendor> {
  const lookbackDays = Math.ceil(setup.spanHours / 24) + 1;
  if (lookbackDays > 365) {
    throw new Error(`--span-hours ${setup.spanHours}: ingest-openai reads at most 365 days back`);
  }
  const fixture = openaiOrg({
    orgId: ORG_ID,
    adminKey: ADMIN_KEY,
    now: Date.now(),
    ...ORG,
    staleKeys: 10,
    orphanKeys: 9,
    serviceAccountKeys: 5,
    auditEvents: setup.events,
    auditDays: setup.spanHours / 24,
  });
  const events = fixture.org.auditLogs;
  const sim = await startOpenaiSimulator({ orgs: { [ORG_ID]: fixture.org }, port: setup.port });
  const repeats = { served: 0 };
  if (setup.repeatAcrossPages > 0) sim.injectFault(repeatingPages(events, setup.repeatAcrossPages, repeats));

  mkdirSync(setup.dataDir, { recursive: true });
  const keyFile = `${setup.dataDir}/openai-admin-key`;
  writeFileSync(keyFile, `${ADMIN_KEY}\n`, { mode: 0o600 });
  chmodSync(keyFile, 0o600);

  const auditLog = () => sim.requests.filter((r) => r.path === AUDIT_PATH).length;
  return {
    name: "openai",
    description:
      `OpenAI simulator ${sim.url}, ${ORG_ID}: ${ORG.users} users, ${ORG.projects} projects ` +
      `(${ORG.archivedProjects} archived), ${ORG.keys} project keys; ${setup.repeatAcrossPages} events ` +
      `repeated per page; slices of at most ${setup.sliceMaxEvents} events`,
    ingestMain: `${ROOT}services/ingest-openai/src/main.ts`,
    ingestEnv: {
      TENANT_ID: "soak",
      OPENAI_ORG_ID: ORG_ID,
      OPENAI_ADMIN_KEY_FILE: keyFile,
      OPENAI_API_URL: `${sim.url}/v1`,
      PSEUDONYM_KEY: "5a".repeat(32),
      POLL_INTERVAL_SECONDS: "60",
      OPENAI_PAGE_LIMIT: String(PAGE_LIMIT),
      AUDIT_INITIAL_LOOKBACK_DAYS: String(lookbackDays),
      AUDIT_SLICE_MAX_EVENTS: String(setup.sliceMaxEvents),
    },
    expected: new Set(events.map((e) => e.id)),
    streamPages: auditLog,
    auditLogRequests: auditLog,
    repeatsServed: () => repeats.served,
    traversalPages: Math.ceil(setup.events / PAGE_LIMIT),
    restartPages: splitPages(setup.events / (setup.spanHours * 3600), setup.sliceMaxEvents),
    eventTopic: (topics) => topics.openaiAuditEvents,
    decode(value) {
      const event = codecs.openaiAuditEvent.decode(value);
      return { id: event.event_id, atMs: event.effective_at };
    },
    cursorKeys: /\/openai\.audit-events$/,
    eventTable: "openai_audit_events",
    views: [
      { name: "openai_current_users", expected: ORG.users },
      { name: "openai_current_projects", expected: ORG.projects },
      { name: "openai_current_api_keys", where: "key_type = 'PROJECT'", expected: ORG.keys },
    ],
    close: () => sim.close(),
  };
}

/**
 * Pages a fresh poll reads and throws away at `perSecond` events a second: it starts with a day's
 * slice and halves it while the slice holds more than `maxEvents`, each attempt read until it
 * passed `maxEvents` (services/ingest-openai/src/source/audit-logs.ts).
 */
export function splitPages(perSecond: number, maxEvents: number): number {
  let width = DAY_S;
  let abandoned = 0;
  while (width > 1 && width * perSecond > maxEvents) {
    width = Math.floor(width / 2);
    abandoned += 1;
  }
  return abandoned * Math.ceil((maxEvents + 1) / PAGE_LIMIT);
}

/** The simulator's order: newest first, then id descending (simulators/openai/README.md). */
const newestFirst = (a: OpenaiAuditLog, b: OpenaiAuditLog) =>
  b.effective_at - a.effective_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);

/**
 * A rewrite of every audit-log page: when the page continues the previous one's traversal (its
 * first event comes right after the previous page's last in the simulator's order, among the
 * events of the same scope, since one traversal lists tenant-scoped events or the others), the
 * previous page's last `repeat` events are served again at its top. A page of another traversal
 * (another slice, the tenant-only pass, a restarted ingest) is served as it is: the real API
 * never lists an event outside the query's `effective_at` bounds.
 */
function repeatingPages(
  events: readonly OpenaiAuditLog[],
  repeat: number,
  counter: { served: number },
): Fault {
  const place = new Map<string, number>();
  for (const tenant of [false, true]) {
    const scoped = events.filter((e) => isTenantScoped(e.type) === tenant).toSorted(newestFirst);
    scoped.forEach((e, i) => place.set(e.id, i));
  }
  const follows = (a: OpenaiAuditLog, b: OpenaiAuditLog) =>
    isTenantScoped(a.type) === isTenantScoped(b.type) && place.get(b.id) === (place.get(a.id) ?? -2) + 1;
  let previous: OpenaiAuditLog[] = [];
  return faults.rewrite(
    AUDIT_PATH,
    (body) => {
      const page = body as { data: OpenaiAuditLog[] };
      const last = previous.at(-1);
      const first = page.data[0];
      const again = last && first && follows(last, first) ? previous.slice(-repeat) : [];
      counter.served += again.length;
      previous = page.data;
      return { ...page, data: [...again, ...page.data] };
    },
    { times: Infinity },
  );
}
