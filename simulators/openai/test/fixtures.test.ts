import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  AUDIT_LOG_EVENT_TYPES,
  AUDIT_LOG_PAYLOAD_TYPES,
  auditLogs,
  isTenantScoped,
  openaiOrg,
  type OpenaiProjectApiKey,
} from "@aiaudit/sim-openai";
import { conforms, fixture, NOW, NOW_S, schemas, violations } from "./helpers.ts";

const { org, expected } = fixture();
const DAY = 86_400;
const keys = Object.entries(org.projectApiKeys).flatMap(([projectId, list]) =>
  list.map((k) => ({ projectId, k })),
);
const userIds = new Set(org.users.map((u) => u.id));
const archived = new Set(expected.archivedProjectIds);
const isStale = (k: OpenaiProjectApiKey) => k.last_used_at === null || k.last_used_at < NOW_S - 90 * DAY;
const orphanReasons = ({ projectId, k }: (typeof keys)[number]) => [
  k.owner.type === "user" && !userIds.has(k.owner.user?.id ?? ""),
  k.owner_project_access === "inactive",
  archived.has(projectId),
];
const sorted = (ids: string[]) => ids.toSorted();

describe("fixtures: openaiOrg", () => {
  it("has the requested counts", () => {
    assert.equal(org.users.length, 25);
    assert.equal(org.projects.length, 5);
    assert.deepEqual([expected.activeProjectIds.length, expected.archivedProjectIds.length], [4, 1]);
    assert.equal(keys.length, 30);
    assert.equal(keys.filter(({ k }) => k.owner.type === "service_account").length, 4);
    assert.ok(
      keys.some(({ projectId }) => archived.has(projectId)),
      "archived projects hold keys too",
    );
    assert.equal(org.auditLogs.length, 320);
    assert.equal(org.adminApiKeys.length, 3);
    assert.deepEqual(org.adminKeys, ["sk-admin-simulatortest000000000000abcd"]);
  });

  it("stale keys are exactly those unused for 90 days or never used; the others were used within 30 days", () => {
    assert.deepEqual(
      sorted(expected.staleKeyIds),
      sorted(keys.filter(({ k }) => isStale(k)).map(({ k }) => k.id)),
    );
    assert.equal(expected.staleKeyIds.length, 6);
    assert.equal(keys.filter(({ k }) => k.last_used_at === null).length, 3);
    for (const { k } of keys.filter(({ k }) => !isStale(k)))
      assert.ok((k.last_used_at ?? 0) > NOW_S - 30 * DAY && (k.last_used_at ?? 0) <= NOW_S);
  });

  it("orphan keys are exactly those with a removed owner, inactive access or an archived project, a third each", () => {
    const orphans = keys.filter((x) => orphanReasons(x).some(Boolean));
    assert.deepEqual(sorted(expected.orphanKeyIds), sorted(orphans.map(({ k }) => k.id)));
    assert.deepEqual(
      [0, 1, 2].map((i) => orphans.filter((x) => orphanReasons(x)[i]).length),
      [2, 2, 2],
    );
    assert.ok(
      orphans.every((x) => orphanReasons(x).filter(Boolean).length === 1),
      "one reason each",
    );
    assert.ok(
      !expected.orphanKeyIds.some((id) => expected.staleKeyIds.includes(id)),
      "orphans are not stale",
    );
  });

  it("project membership agrees with owner_project_access", () => {
    const members = (p: string) => new Set((org.projectUsers[p] ?? []).map((u) => u.id));
    for (const { projectId, k } of keys.filter(
      ({ k }) => k.owner.type === "user" && userIds.has(k.owner.user?.id ?? ""),
    ))
      assert.equal(members(projectId).has(k.owner.user?.id ?? ""), k.owner_project_access === "active", k.id);
    for (const { projectId, k } of keys.filter(({ k }) => k.owner.type === "service_account"))
      assert.ok(org.serviceAccounts[projectId]?.some((s) => s.id === k.owner.service_account?.id));
  });

  it("external users are every 10th, on another domain; emails are firstname.lastnameN@domain", () => {
    const outside = org.users.filter((u) => !(u.email ?? "").endsWith("@acme.example"));
    assert.deepEqual(
      expected.externalUserIds,
      outside.map((u) => u.id),
    );
    assert.deepEqual(expected.externalUserIds, [org.users[9]?.id, org.users[19]?.id]);
    org.users.forEach((u, i) => assert.match(u.email ?? "", new RegExp(`^[a-z]+\\.[a-z]+${i + 1}@[a-z.]+$`)));
    assert.deepEqual(
      outside.map((u) => u.email?.split("@")[1]),
      ["gmail.com", "contractor.example"],
    );
  });

  it("admin keys: one for the bearer key, one never used, one expiring", () => {
    const [main, unused, expiring] = org.adminApiKeys;
    assert.equal(main?.redacted_value, "sk-admin...bcd");
    assert.equal(unused?.last_used_at, null);
    assert.ok(typeof expiring?.expires_at === "number" && expiring.expires_at > NOW_S);
  });

  it("is deterministic by seed", () => {
    assert.deepEqual(fixture(), fixture());
    assert.notDeepEqual(fixture().expected, fixture({ seed: 8 }).expected);
  });

  it("refuses counts that cannot hold", () => {
    assert.throws(() => fixture({ staleKeys: 20, orphanKeys: 20 }), /exceed keys/);
    assert.throws(() => fixture({ archivedProjects: 5 }), /default project/);
  });
});

describe("fixtures: audit logs", () => {
  it("the event type lists are the reference's", () => {
    assert.deepEqual(AUDIT_LOG_EVENT_TYPES, schemas.AuditLogEventType?.enum);
    const payloadKeys = Object.keys(schemas.AuditLog?.properties ?? {}).filter(
      (k) => !["id", "type", "effective_at", "project", "actor"].includes(k),
    );
    assert.equal(AUDIT_LOG_PAYLOAD_TYPES.length, 55);
    assert.deepEqual(sorted([...AUDIT_LOG_PAYLOAD_TYPES]), sorted(payloadKeys));
  });

  it("every type cycles through; payloads sit under the type's key; actors alternate", () => {
    const events = org.auditLogs;
    assert.deepEqual(new Set(events.map((e) => e.type)), new Set(AUDIT_LOG_EVENT_TYPES));
    for (const e of events) {
      const keysOf = Object.keys(e).filter((k) => k.includes("."));
      assert.deepEqual(keysOf, AUDIT_LOG_PAYLOAD_TYPES.includes(e.type) ? [e.type] : [], e.type);
      assert.equal(e.project === undefined, isTenantScoped(e.type) || e.type.startsWith("log"), e.type);
    }
    assert.deepEqual(
      events.slice(0, 4).map((e) => [e.actor?.type, e.actor?.api_key?.type]),
      [
        ["session", undefined],
        ["api_key", "user"],
        ["session", undefined],
        ["api_key", "service_account"],
      ],
    );
    assert.ok(events[0]?.actor?.session?.user_agent && events[0].actor.session.ip_address);
    const created = events.find((e) => e.type === "api_key.created");
    assert.deepEqual((created?.["api_key.created"] as { data: unknown }).data, {
      scopes: ["api.model.read", "api.model.request"],
    });
  });

  it("spread over the last 7 days up to now - 1 min, unique audit_log- ids", () => {
    const times = org.auditLogs.map((e) => e.effective_at);
    assert.equal(Math.max(...times), NOW_S - 60);
    assert.equal(Math.min(...times), NOW_S - 7 * DAY);
    assert.equal(new Set(org.auditLogs.map((e) => e.id)).size, org.auditLogs.length);
    assert.ok(org.auditLogs.every((e) => /^audit_log-[a-z0-9]+_\d{8}$/.test(e.id)));
    const other = auditLogs({
      count: 3,
      fromMs: NOW - 1000,
      toMs: NOW,
      users: [],
      projects: [],
      idPrefix: "x-",
    });
    assert.ok(other.every((e) => e.id.startsWith("x-")));
  });
});

describe("fixtures conform to the reference's dereferenced schemas", () => {
  it("the checker catches a missing field, a wrong type and a value outside an enum", () => {
    const key = keys[0]?.k;
    assert.ok(key);
    assert.deepEqual(violations(schemas.ProjectApiKey ?? {}, { ...key, name: undefined }).length, 1);
    assert.match(conforms("ProjectApiKey", { ...key, created_at: 1.5 }).join(), /created_at: not integer/);
    assert.match(conforms("ProjectApiKey", { ...key, owner_project_access: "maybe" }).join(), /not in enum/);
    assert.match(conforms("AuditLog", { id: "a", type: "no.such", effective_at: 1 }).join(), /not in enum/);
  });

  it("User, Project, ProjectApiKey, ProjectUser, ProjectServiceAccount, AdminApiKey, AuditLog", () => {
    const big = openaiOrg({
      ...{ orgId: "o", adminKey: "sk-admin-x", now: NOW, users: 30, projects: 6, archivedProjects: 2 },
      ...{
        keys: 60,
        staleKeys: 10,
        orphanKeys: 12,
        serviceAccountKeys: 10,
        auditEvents: 400,
        adminApiKeys: 5,
      },
    }).org;
    const all: [string, unknown[]][] = [
      ["User", big.users],
      ["Project", big.projects],
      ["ProjectApiKey", Object.values(big.projectApiKeys).flat()],
      ["ProjectUser", Object.values(big.projectUsers).flat()],
      ["ProjectServiceAccount", Object.values(big.serviceAccounts).flat()],
      ["AdminApiKey", big.adminApiKeys],
      ["AuditLog", big.auditLogs],
    ];
    for (const [name, items] of all) {
      assert.ok(items.length > 0, name);
      assert.deepEqual(
        items.flatMap((item) => conforms(name, item)),
        [],
        name,
      );
    }
  });
});
