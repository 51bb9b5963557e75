/**
 * ingest-openai against the OpenAI simulator and the real broker: every stream publishes its
 * snapshot (one transaction, BEGIN … END) or its events, people as pseudonyms, and the audit log
 * once per event id across polls.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { topicNames } from "@aiaudit/contracts";
import { createService, type IngestOpenaiService } from "@aiaudit/ingest-openai";
import { loadConfig } from "@aiaudit/ingest-openai/config";
import { auditLogs, openaiOrg, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ADMIN_KEY, auditEventsOf, ingestEnv, snapshotOf, ORG_ID } from "../helpers.ts";

const { logger } = captureLogger();
const kafka = testKafka(logger);

describe("ingest-openai streams", () => {
  const prefix = uniquePrefix("openai-streams");
  const topics = topicNames(prefix);
  const now = Date.now();
  const fixture = openaiOrg({
    orgId: ORG_ID,
    adminKey: ADMIN_KEY,
    now,
    users: 40,
    projects: 6,
    archivedProjects: 2,
    keys: 30,
    staleKeys: 6,
    orphanKeys: 6,
    serviceAccountKeys: 4,
    auditEvents: 600,
    auditDays: 2,
  });
  let sim: OpenaiSimulator;
  let service: IngestOpenaiService;
  before(async () => {
    sim = await startOpenaiSimulator({ orgs: { [ORG_ID]: fixture.org } });
    service = createService(loadConfig(ingestEnv(sim.url, prefix, { OPENAI_PAGE_LIMIT: "7" })), {
      logger,
      kafka,
    });
  });
  after(async () => {
    await service.stop();
    await sim.close();
  });
  const poller = () => {
    const p = service.connection(`openai-${ORG_ID}`);
    assert.ok(p, "the configured organization has a poller");
    return p;
  };

  it("publishes the users as one snapshot, emails only as pseudonyms, domain and masked form", async () => {
    const result = await poller().pollUsers();
    assert.equal(result.rows, 40);
    const { rows, rowCount } = await snapshotOf(kafka, topics.openaiUsers, result.snapshotId);
    assert.equal(rowCount, 40);
    assert.equal(rows.length, 40);
    const source = fixture.org.users[0];
    const row = rows.find((r) => r.user?.user_id === source?.id)?.user;
    assert.ok(row && source?.email);
    assert.match(row.email_pseudonym ?? "", /^[0-9a-f]{64}$/);
    assert.equal(row.email_domain, source.email.split("@")[1]);
    assert.equal(row.email_display, `${source.email.slice(0, 2)}…@${source.email.split("@")[1]}`);
    assert.equal(row.added_at, source.added_at * 1000);
  });

  it("publishes projects with the archived ones, keys of every project and admin keys", async () => {
    const projectsPoll = await poller().pollProjects();
    assert.equal(projectsPoll.rows, 6);
    const projects = await snapshotOf(kafka, topics.openaiProjects, projectsPoll.snapshotId);
    assert.equal(projects.rows.filter((r) => r.project?.status === "archived").length, 2);
    const keysPoll = await poller().pollProjectApiKeys();
    assert.equal(keysPoll.rows, 30);
    const keys = await snapshotOf(kafka, topics.openaiApiKeys, keysPoll.snapshotId);
    assert.equal(keys.rows.length, 30);
    assert.ok(keys.rows.every((r) => r.api_key?.key_type === "PROJECT" && r.api_key.project_id));
    assert.ok(keys.rows.some((r) => r.api_key?.owner_type === "service_account"));
    assert.ok(keys.rows.some((r) => r.api_key?.owner_project_access === "inactive"));
    const admin = await poller().pollAdminApiKeys();
    assert.equal(admin.rows, fixture.org.adminApiKeys.length);
    const adminKeys = await snapshotOf(kafka, topics.openaiApiKeys, admin.snapshotId);
    assert.equal(adminKeys.rows.length, admin.rows);
    assert.ok(adminKeys.rows.every((r) => r.api_key?.key_type === "ADMIN" && r.api_key.project_id === null));
    const accounts = await poller().pollServiceAccounts();
    const expected = Object.entries(fixture.org.serviceAccounts)
      .filter(([id]) => fixture.expected.activeProjectIds.includes(id))
      .reduce((n, [, list]) => n + list.length, 0);
    assert.equal(accounts.rows, expected);
  });

  it("publishes every audit event once, both traversals, across polls and late arrivals", async () => {
    const first = await poller().pollAuditEvents();
    assert.equal(first.published, 600);
    const tenantOnly = sim.requests.filter(
      (r) => r.path.endsWith("/audit_logs") && r.query.tenant_only === "true",
    );
    assert.ok(tenantOnly.length > 0, "tenant-scoped events need tenant_only=true");
    const late = auditLogs({
      count: 50,
      fromMs: Date.now() - 10 * 60_000,
      toMs: Date.now() - 60_000,
      users: fixture.org.users,
      projects: fixture.org.projects,
      idPrefix: "late",
    });
    sim.addAuditLogs(ORG_ID, late);
    const again = await poller().pollAuditEvents();
    assert.equal(again.published, 50);
    const events = await auditEventsOf(kafka, prefix);
    const ids = events.map((e) => e.event_id);
    assert.equal(new Set(ids).size, ids.length, "an event id is in the topic twice");
    assert.deepEqual(new Set(ids), new Set([...fixture.org.auditLogs, ...late].map((e) => e.id)));
    const session = events.find((e) => e.actor_type === "session");
    assert.ok(session?.actor_pseudonym && session.actor_ip_pseudonym);
    assert.doesNotMatch(session.raw_json, /@/, "an email is left in raw_json");
  });
});
