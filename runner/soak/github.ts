/**
 * The soak's GitHub part: the GitHub simulator (in this process, on a fixed port) with an org
 * whose audit log serves events again across pages and across polls (`repeatAcrossPages`,
 * `repeatAcrossPolls`, simulators/github/README.md), every n-th event an agent event, and
 * ingest-copilot configured for it. The kills follow the Copilot stream's pages.
 */
import { fileURLToPath } from "node:url";
import { codecs } from "@aiaudit/contracts";
import { auditEvents, seats, startGithubSimulator } from "@aiaudit/sim-github";
import type { SoakVendor, VendorSetup } from "./vendor.ts";

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const TOKEN = "soak-token-not-a-secret";
const ORG = "acme";
const PER_PAGE = 100;
const HOUR_MS = 3_600_000;

export async function startGithubSource(setup: VendorSetup): Promise<SoakVendor> {
  const endMs = Date.now() - HOUR_MS;
  const spanMs = setup.spanHours * HOUR_MS;
  const events = auditEvents(ORG, setup.events, {
    startMs: endMs - spanMs,
    spanMs,
    agentEvery: setup.agentEvery,
  });
  const sim = await startGithubSimulator({
    tokens: [TOKEN],
    port: setup.port,
    orgs: {
      [ORG]: {
        id: 1,
        seats: seats(ORG, 20),
        auditEvents: events,
        repeatAcrossPages: setup.repeatAcrossPages,
        repeatAcrossPolls: setup.repeatAcrossPolls,
      },
    },
  });
  const auditLog = () => sim.requests.filter((r) => r.path === `/orgs/${ORG}/audit-log`);
  const copilotEvents = events.filter((e) => String(e.action).startsWith("copilot")).length;
  return {
    name: "github",
    description:
      `GitHub simulator ${sim.url}, org ${ORG}: ${setup.repeatAcrossPages} events repeated per page, ` +
      `${setup.repeatAcrossPolls} per poll`,
    ingestMain: `${ROOT}services/ingest-copilot/src/main.ts`,
    ingestEnv: {
      TENANT_ID: "soak",
      GITHUB_ORG: ORG,
      GITHUB_TOKEN: TOKEN,
      GITHUB_API_URL: sim.url,
      PSEUDONYM_KEY: "5a".repeat(32),
      AUDIT_PER_PAGE: String(PER_PAGE),
      POLL_INTERVAL_SECONDS: "60",
    },
    expected: new Set(events.map((e) => String(e._document_id))),
    streamPages: () => auditLog().filter((r) => r.query.phrase?.startsWith("action:")).length,
    auditLogRequests: () => auditLog().length,
    repeatsServed: () => undefined,
    traversalPages: Math.ceil(copilotEvents / PER_PAGE),
    restartPages: 0,
    eventTopic: (topics) => topics.copilotAuditEvents,
    decode(value) {
      const event = codecs.copilotAuditEvent.decode(value);
      return { id: event.event_id, atMs: event.created_at };
    },
    cursorKeys: /\/copilot\.(audit|agent)-events$/,
    eventTable: "copilot_audit_events",
    views: [],
    close: () => sim.close(),
  };
}
