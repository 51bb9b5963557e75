/**
 * The pure transforms of ingest-openai: organization objects to snapshot rows and audit-log
 * entries to audit events. People leave only as keyed pseudonyms (the value `aiaudit pseudonym`
 * computes), names never leave, and an object that lacks what its row needs, or carries a time in
 * the wrong unit, is rejected with a reason that says so.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPseudonymizer } from "@aiaudit/crypto";
import { auditLogs, openaiOrg } from "@aiaudit/sim-openai";
import { toAuditEvent } from "../../src/transforms/audit-event.ts";
import {
  toApiKeyRow,
  toProjectRow,
  toServiceAccountRow,
  toUserRow,
} from "../../src/transforms/organization.ts";
import { fromSeconds, fromSecondsOrNull } from "../../src/transforms/time.ts";

const KEY = Buffer.alloc(32, 7);
const p = createPseudonymizer(KEY);
const now = Date.parse("2026-11-21T12:00:00Z");
const nowS = now / 1000;
const DAY_S = 86_400;

describe("fromSeconds", () => {
  it("turns integer Unix seconds into epoch ms", () => {
    assert.deepEqual(fromSeconds("added_at", nowS - DAY_S, now), { ok: true, ms: now - DAY_S * 1000 });
  });

  it("rejects a value in milliseconds, hinting at the unit", () => {
    const r = fromSeconds("added_at", now - 1000, now);
    assert.ok(!r.ok);
    assert.equal(r.reason, `added_at ${now - 1000} is out of range (2008-01-01 .. now+1d): milliseconds?`);
  });

  it("rejects a time before 2008 without a unit hint", () => {
    const r = fromSeconds("created_at", 1_000, now);
    assert.ok(!r.ok);
    assert.match(r.reason, /^created_at 1000 is out of range \(2008-01-01 \.\. now\+1d\)$/);
  });

  it("accepts a time up to a day ahead of now, not more", () => {
    assert.ok(fromSeconds("added_at", nowS + DAY_S - 60, now).ok);
    const r = fromSeconds("added_at", nowS + 2 * DAY_S, now);
    assert.ok(!r.ok);
    assert.match(r.reason, /out of range/);
  });

  for (const [what, value, type] of [
    ["a string", "2026-11-20T00:00:00Z", "string"],
    ["a numeric string", String(nowS), "string"],
    ["a fraction", nowS + 0.5, "number"],
    ["null", null, "object"],
    ["nothing", undefined, "undefined"],
  ] as const) {
    it(`rejects ${what}`, () => {
      const r = fromSeconds("added_at", value, now);
      assert.ok(!r.ok);
      assert.equal(r.reason, `added_at is not integer Unix seconds (${type})`);
    });
  }

  it("with `future`, accepts an expiry up to 2300 and hints at milliseconds for one ahead of now", () => {
    const inAYear = nowS + 365 * DAY_S;
    assert.deepEqual(fromSeconds("expires_at", inAYear, now, true), { ok: true, ms: inAYear * 1000 });
    assert.ok(fromSeconds("expires_at", Date.UTC(2299, 0, 1) / 1000, now, true).ok);
    const late = fromSeconds("expires_at", Date.UTC(2301, 0, 1) / 1000, now, true);
    assert.ok(!late.ok);
    assert.match(late.reason, /2008-01-01 \.\. 2300-01-01\)$/);
    const ms = fromSeconds("expires_at", inAYear * 1000, now, true);
    assert.ok(!ms.ok);
    assert.match(
      ms.reason,
      /^expires_at \d+ is out of range \(2008-01-01 \.\. 2300-01-01\): milliseconds\?$/,
    );
    assert.ok(!fromSeconds("added_at", inAYear, now).ok, "without `future` a year ahead is implausible");
  });

  it("fromSecondsOrNull: null and absent are null, anything else is checked", () => {
    assert.deepEqual(fromSecondsOrNull("last_used_at", null, now), { ok: true, ms: null });
    assert.deepEqual(fromSecondsOrNull("last_used_at", undefined, now), { ok: true, ms: null });
    assert.deepEqual(fromSecondsOrNull("last_used_at", nowS, now), { ok: true, ms: now });
    assert.ok(!fromSecondsOrNull("last_used_at", now, now).ok);
  });
});

const user = {
  object: "organization.user",
  id: "user-abc",
  name: "John Doe",
  email: "john.doe@Acme.com",
  role: "owner",
  added_at: nowS - 30 * DAY_S,
};

describe("toUserRow", () => {
  it("keeps the email as its pseudonym, lower-case domain and a masked form; no name", () => {
    const r = toUserRow(user, p, now);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.id, "user-abc");
    assert.deepEqual(r.row.user, {
      user_id: "user-abc",
      email_pseudonym: createPseudonymizer(KEY).pseudonym("john.doe@Acme.com"),
      email_domain: "acme.com",
      email_display: "jo…@acme.com",
      role: "owner",
      added_at: (nowS - 30 * DAY_S) * 1000,
      is_service_account: false,
      is_scim_managed: null,
      api_key_last_used_at: null,
    });
    assert.deepEqual([r.row.project, r.row.service_account, r.row.api_key], [null, null, null]);
    const text = JSON.stringify(r.row);
    for (const leak of ["John Doe", "john.doe"]) assert.ok(!text.includes(leak), `${leak} in ${text}`);
  });

  it("gives a mixed-case email the pseudonym `aiaudit pseudonym` computes for it, whatever its case", () => {
    const r = toUserRow({ ...user, email: " John.Doe@ACME.COM " }, p, now);
    assert.ok(r.ok && r.row.user);
    const expected = createPseudonymizer(KEY).pseudonym("John.Doe@ACME.COM");
    assert.match(expected, /^[0-9a-f]{64}$/);
    const { email_pseudonym, email_domain, email_display } = r.row.user;
    assert.deepEqual(
      { email_pseudonym, email_domain, email_display },
      { email_pseudonym: expected, email_domain: "acme.com", email_display: "Jo…@acme.com" },
    );
    assert.equal(expected, createPseudonymizer(KEY).pseudonym("john.doe@acme.com"));
    assert.notEqual(
      email_pseudonym,
      createPseudonymizer(Buffer.alloc(32, 8)).pseudonym("john.doe@acme.com"),
      "another key, another pseudonym",
    );
  });

  it("a user without an email has no pseudonym, domain or display", () => {
    for (const email of [null, undefined, "  "]) {
      const r = toUserRow({ ...user, email }, p, now);
      assert.ok(r.ok && r.row.user, r.ok ? "" : r.reason);
      const { email_pseudonym, email_domain, email_display } = r.row.user;
      assert.deepEqual([email_pseudonym, email_domain, email_display], [null, null, null]);
    }
  });

  it("reads the flags and the last key use", () => {
    const r = toUserRow(
      { ...user, is_service_account: true, is_scim_managed: true, api_key_last_used_at: nowS - 60 },
      p,
      now,
    );
    assert.ok(r.ok && r.row.user);
    const { is_service_account, is_scim_managed, api_key_last_used_at } = r.row.user;
    assert.deepEqual(
      [is_service_account, is_scim_managed, api_key_last_used_at],
      [true, true, (nowS - 60) * 1000],
    );
  });

  it("rejects a user without an id, saying so", () => {
    const noId = without(user, "id");
    for (const raw of [noId, { ...user, id: "" }, { ...user, id: 42 }]) {
      const r = toUserRow(raw, p, now);
      assert.ok(!r.ok);
      assert.match(r.reason, /^user: id: /);
    }
    const nothing = toUserRow(null, p, now);
    assert.ok(!nothing.ok);
    assert.match(nothing.reason, /^user: /);
  });

  it("rejects added_at in milliseconds with a hint, and a string time", () => {
    const ms = toUserRow({ ...user, added_at: now - 1000 }, p, now);
    assert.ok(!ms.ok);
    assert.match(ms.reason, /^added_at \d+ is out of range .*: milliseconds\?$/);
    const text = toUserRow({ ...user, added_at: "2026-10-01T00:00:00Z" }, p, now);
    assert.ok(!text.ok);
    assert.equal(text.reason, "added_at is not integer Unix seconds (string)");
    const missing = toUserRow({ ...user, added_at: undefined }, p, now);
    assert.ok(!missing.ok);
    assert.match(missing.reason, /added_at/);
    const lastUsed = toUserRow({ ...user, api_key_last_used_at: (nowS - 60) * 1000 }, p, now);
    assert.ok(!lastUsed.ok);
    assert.match(lastUsed.reason, /^api_key_last_used_at .*milliseconds\?$/);
  });
});

const project = {
  object: "organization.project",
  id: "proj_abc",
  name: "Support bot",
  created_at: nowS - 100 * DAY_S,
  archived_at: null,
  status: "active",
  residency: "EU_STORAGE_PROCESSING",
};

describe("toProjectRow", () => {
  it("maps an active project", () => {
    const r = toProjectRow(project, now);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.id, "proj_abc");
    assert.deepEqual(r.row.project, {
      project_id: "proj_abc",
      name: "Support bot",
      status: "active",
      created_at: (nowS - 100 * DAY_S) * 1000,
      archived_at: null,
      residency: "EU_STORAGE_PROCESSING",
    });
  });

  it("a project with an archive date is archived, whatever its status says", () => {
    const r = toProjectRow({ ...project, archived_at: nowS - DAY_S, status: "active" }, now);
    assert.ok(r.ok && r.row.project);
    assert.deepEqual([r.row.project.status, r.row.project.archived_at], ["archived", (nowS - DAY_S) * 1000]);
    const byStatus = toProjectRow({ ...project, status: "archived" }, now);
    assert.ok(byStatus.ok && byStatus.row.project);
    assert.deepEqual([byStatus.row.project.status, byStatus.row.project.archived_at], ["archived", null]);
  });

  it("rejects a project without an id or with created_at in milliseconds", () => {
    const noId = toProjectRow({ ...project, id: undefined }, now);
    assert.ok(!noId.ok);
    assert.match(noId.reason, /^project: id: /);
    const ms = toProjectRow({ ...project, created_at: project.created_at * 1000 }, now);
    assert.ok(!ms.ok);
    assert.match(ms.reason, /^created_at .*milliseconds\?$/);
    const archivedMs = toProjectRow({ ...project, archived_at: (nowS - DAY_S) * 1000 }, now);
    assert.ok(!archivedMs.ok);
    assert.match(archivedMs.reason, /^archived_at /);
  });

  it("maps every project of a simulated organization", () => {
    const { org, expected } = fixture();
    const archived = org.projects.flatMap((raw) => {
      const r = toProjectRow(raw, now);
      assert.ok(r.ok, r.ok ? "" : r.reason);
      return r.row.project?.status === "archived" ? [r.id] : [];
    });
    assert.ok(archived.length > 0);
    assert.deepEqual(archived, expected.archivedProjectIds);
  });
});

describe("toServiceAccountRow", () => {
  const account = {
    object: "organization.project.service_account",
    id: "svc_acct_abc",
    name: "Support bot",
    role: "member",
    created_at: nowS - 10 * DAY_S,
  };

  it("maps a service account of a project, keyed by project and id", () => {
    const r = toServiceAccountRow(account, "proj_abc", now);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.id, "proj_abc/svc_acct_abc");
    assert.deepEqual(r.row.service_account, {
      service_account_id: "svc_acct_abc",
      project_id: "proj_abc",
      name: "Support bot",
      role: "member",
      created_at: (nowS - 10 * DAY_S) * 1000,
    });
    assert.equal(r.row.user, null);
  });

  it("rejects one without an id or created_at", () => {
    const noId = toServiceAccountRow({ ...account, id: null }, "proj_abc", now);
    assert.ok(!noId.ok);
    assert.match(noId.reason, /^service account: id: /);
    const noTime = toServiceAccountRow({ ...account, created_at: undefined }, "proj_abc", now);
    assert.ok(!noTime.ok);
    assert.match(noTime.reason, /^created_at is not integer Unix seconds/);
  });
});

describe("toApiKeyRow", () => {
  const owner = {
    id: "user-owner1",
    email: "Grace.Hopper@Acme.example",
    name: "Grace Hopper",
    created_at: nowS - 300 * DAY_S,
    role: "owner",
  };
  const projectKey = {
    object: "organization.project.api_key",
    id: "key_abc",
    name: "ci-deploy",
    redacted_value: "sk-abc...xyz",
    created_at: nowS - 50 * DAY_S,
    last_used_at: nowS - 3600,
    owner_project_access: "active",
    owner: { type: "user", user: owner },
  };
  const noPerson = (row: unknown, ...names: string[]) => {
    const text = JSON.stringify(row).toLowerCase();
    for (const leak of names) assert.ok(!text.includes(leak.toLowerCase()), `${leak} in ${text}`);
  };

  it("a project key owned by a user: the owner as ids, role and the pseudonym of the email", () => {
    const r = toApiKeyRow(projectKey, "proj_abc", p, now);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.id, "proj_abc/key_abc");
    assert.deepEqual(r.row.api_key, {
      key_id: "key_abc",
      key_type: "PROJECT",
      project_id: "proj_abc",
      name: "ci-deploy",
      redacted_value: "sk-abc...xyz",
      owner_type: "user",
      owner_id: "user-owner1",
      owner_pseudonym: createPseudonymizer(KEY).pseudonym("grace.hopper@acme.example"),
      owner_role: "owner",
      owner_project_access: "active",
      created_at: (nowS - 50 * DAY_S) * 1000,
      last_used_at: (nowS - 3600) * 1000,
      expires_at: null,
    });
    noPerson(r.row, "Grace Hopper", "Grace.Hopper", "Hopper@");
  });

  it("a project key owned by a service account; the type is read from the sub-object when absent", () => {
    const sa = {
      id: "svc_acct_x",
      name: "Nightly Batch Robot",
      created_at: nowS - 90 * DAY_S,
      role: "member",
    };
    for (const o of [{ type: "service_account", service_account: sa }, { service_account: sa }]) {
      const r = toApiKeyRow(
        { ...projectKey, owner_project_access: "inactive", owner: o },
        "proj_abc",
        p,
        now,
      );
      assert.ok(r.ok && r.row.api_key, r.ok ? "" : r.reason);
      const { owner_type, owner_id, owner_role, owner_pseudonym, owner_project_access } = r.row.api_key;
      assert.deepEqual(
        { owner_type, owner_id, owner_role, owner_pseudonym, owner_project_access },
        {
          owner_type: "service_account",
          owner_id: "svc_acct_x",
          owner_role: "member",
          owner_pseudonym: null,
          owner_project_access: "inactive",
        },
      );
      noPerson(r.row, "Nightly Batch Robot");
    }
  });

  it("an admin key with a flat owner; an expiry ahead is accepted", () => {
    const expires = nowS + 7 * DAY_S;
    const admin = {
      object: "organization.admin_api_key",
      id: "key_admin1",
      name: "Audit ingest",
      redacted_value: "sk-admin...abc",
      created_at: nowS - 200 * DAY_S,
      expires_at: expires,
      last_used_at: null,
      owner: {
        type: "user",
        object: "organization.user",
        id: "user-owner1",
        name: "Grace Hopper",
        created_at: nowS - 300 * DAY_S,
        role: "owner",
      },
    };
    const r = toApiKeyRow(admin, null, p, now);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.id, "admin/key_admin1");
    assert.deepEqual(r.row.api_key, {
      key_id: "key_admin1",
      key_type: "ADMIN",
      project_id: null,
      name: "Audit ingest",
      redacted_value: "sk-admin...abc",
      owner_type: "user",
      owner_id: "user-owner1",
      owner_pseudonym: null,
      owner_role: "owner",
      owner_project_access: null,
      created_at: (nowS - 200 * DAY_S) * 1000,
      last_used_at: null,
      expires_at: expires * 1000,
    });
    noPerson(r.row, "Grace Hopper");
  });

  it("maps every key of a simulated organization without a name or email in any row", () => {
    const { org } = fixture();
    const people = Object.values(org.projectApiKeys)
      .flat()
      .flatMap((k) => [k.owner.user?.name, k.owner.user?.email, k.owner.service_account?.name])
      .filter((v): v is string => typeof v === "string" && v.length > 0);
    assert.ok(people.length > 0);
    for (const [projectId, keys] of Object.entries(org.projectApiKeys)) {
      for (const key of keys) {
        const r = toApiKeyRow(key, projectId, p, now);
        assert.ok(r.ok, r.ok ? "" : r.reason);
        assert.equal(r.row.api_key?.redacted_value, key.redacted_value);
        noPerson(r.row, ...people);
      }
    }
    for (const key of org.adminApiKeys) {
      const r = toApiKeyRow(key, null, p, now);
      assert.ok(r.ok, r.ok ? "" : r.reason);
      noPerson(r.row, ...people);
    }
  });

  it("rejects a key without an id or redacted value, or with times in milliseconds", () => {
    const noId = toApiKeyRow({ ...projectKey, id: undefined }, "proj_abc", p, now);
    assert.ok(!noId.ok);
    assert.match(noId.reason, /^API key: id: /);
    const noValue = toApiKeyRow({ ...projectKey, redacted_value: null }, "proj_abc", p, now);
    assert.ok(!noValue.ok);
    assert.match(noValue.reason, /redacted_value/);
    const lastUsed = toApiKeyRow({ ...projectKey, last_used_at: now - 1000 }, "proj_abc", p, now);
    assert.ok(!lastUsed.ok);
    assert.match(lastUsed.reason, /^last_used_at .*milliseconds\?$/);
    const expires = toApiKeyRow({ ...projectKey, expires_at: now + 7 * 86_400_000 }, null, p, now);
    assert.ok(!expires.ok);
    assert.match(expires.reason, /^expires_at .*milliseconds\?$/);
  });
});

describe("toAuditEvent", () => {
  const ctx = { tenant: "tenant-a", org: "org-acme", pseudonymizer: p, now };
  const email = "Ada.Lovelace@Acme.example";
  const ip = "198.51.100.23";
  const sessionEvent = {
    id: "audit_log-abc_20261121",
    type: "api_key.created",
    effective_at: nowS - 600,
    project: { id: "proj_abc", name: "Support bot" },
    actor: {
      type: "session",
      session: {
        user: { id: "user-ada", email },
        ip_address: ip,
        user_agent: "Mozilla/5.0 (Macintosh) Chrome/131.0",
      },
    },
    "api_key.created": { id: "key_new", data: { scopes: ["api.model.read"] } },
  };

  it("a session actor: pseudonyms of the email and the IP address, the user id in clear", () => {
    const r = toAuditEvent(sessionEvent, ctx);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.deepEqual(without(r.event, "raw_json"), {
      event_id: "audit_log-abc_20261121",
      tenant: "tenant-a",
      org: "org-acme",
      type: "api_key.created",
      effective_at: (nowS - 600) * 1000,
      project_id: "proj_abc",
      project_name: "Support bot",
      actor_type: "session",
      actor_pseudonym: createPseudonymizer(KEY).pseudonym("ada.lovelace@acme.example"),
      actor_user_id: "user-ada",
      actor_api_key_id: null,
      actor_service_account_id: null,
      actor_ip_pseudonym: createPseudonymizer(KEY).pseudonym(ip),
      resource_id: "key_new",
      pseudonym_key_id: p.keyId,
      ingested_at: now,
    });
  });

  it("raw_json holds no email or IP address and keeps the ids, the type and the payload", () => {
    const r = toAuditEvent(sessionEvent, ctx);
    assert.ok(r.ok);
    const text = r.event.raw_json;
    for (const leak of [email, email.toLowerCase(), ip, "Mozilla"])
      assert.ok(!text.includes(leak), `${leak} in ${text}`);
    const stored = JSON.parse(text) as typeof sessionEvent;
    assert.equal(stored.id, sessionEvent.id);
    assert.equal(stored.type, "api_key.created");
    assert.equal(stored.effective_at, sessionEvent.effective_at);
    assert.deepEqual(stored.project, sessionEvent.project);
    assert.deepEqual(stored["api_key.created"], sessionEvent["api_key.created"]);
    assert.equal(stored.actor.session.user.id, "user-ada");
    assert.equal(stored.actor.session.user.email, `hmac:${r.event.actor_pseudonym}`);
    assert.equal(stored.actor.session.ip_address, `hmac:${r.event.actor_ip_pseudonym}`);
  });

  it("an api_key actor with a service account: its ids, no person", () => {
    const r = toAuditEvent(
      {
        ...sessionEvent,
        actor: {
          type: "api_key",
          api_key: { id: "key_track", type: "service_account", service_account: { id: "svc_acct_x" } },
        },
      },
      ctx,
    );
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.event.actor_type, "api_key");
    assert.equal(r.event.actor_api_key_id, "key_track");
    assert.equal(r.event.actor_service_account_id, "svc_acct_x");
    assert.equal(r.event.actor_user_id, null);
    assert.equal(r.event.actor_pseudonym, null);
    assert.equal(r.event.actor_ip_pseudonym, null);
    const stored = JSON.parse(r.event.raw_json) as { actor: unknown };
    assert.deepEqual(stored.actor, {
      type: "api_key",
      api_key: { id: "key_track", type: "service_account", service_account: { id: "svc_acct_x" } },
    });
  });

  it("an api_key actor with a user: the user's id and the pseudonym of the email", () => {
    const r = toAuditEvent(
      {
        ...sessionEvent,
        actor: {
          type: "api_key",
          api_key: { id: "key_track", type: "user", user: { id: "user-ada", email } },
        },
      },
      ctx,
    );
    assert.ok(r.ok);
    assert.equal(r.event.actor_user_id, "user-ada");
    assert.equal(r.event.actor_pseudonym, p.pseudonym(email));
    assert.equal(r.event.actor_api_key_id, "key_track");
    assert.ok(!r.event.raw_json.toLowerCase().includes(email.toLowerCase()));
  });

  it("resource_id is the payload's id under the type's key; no payload, no resource", () => {
    const archived = toAuditEvent(
      { id: "e1", type: "project.archived", effective_at: nowS, "project.archived": { id: "proj_old" } },
      ctx,
    );
    assert.ok(archived.ok);
    assert.equal(archived.event.resource_id, "proj_old");
    const login = toAuditEvent({ id: "e2", type: "login.succeeded", effective_at: nowS }, ctx);
    assert.ok(login.ok);
    assert.equal(login.event.resource_id, null);
    assert.equal(login.event.project_id, null);
    assert.equal(login.event.actor_type, null);
    const otherKey = toAuditEvent(
      { id: "e3", type: "project.archived", effective_at: nowS, "project.deleted": { id: "proj_old" } },
      ctx,
    );
    assert.ok(otherKey.ok);
    assert.equal(otherKey.event.resource_id, null, "only the payload named after the type counts");
  });

  it("keeps an event of a type it does not know", () => {
    const r = toAuditEvent(
      { id: "e4", type: "widget.exploded", effective_at: nowS, "widget.exploded": { id: "widget_1" } },
      ctx,
    );
    assert.ok(r.ok, r.ok ? "" : r.reason);
    assert.equal(r.event.type, "widget.exploded");
    assert.equal(r.event.resource_id, "widget_1");
    assert.equal((JSON.parse(r.event.raw_json) as { type: string }).type, "widget.exploded");
  });

  it("replaces an email or IP address inside a kept payload", () => {
    const r = toAuditEvent(
      {
        id: "e5",
        type: "invite.sent",
        effective_at: nowS,
        "invite.sent": { id: "invite_1", data: { email: "new.person@gmail.com", role: "reader" } },
      },
      ctx,
    );
    assert.ok(r.ok);
    assert.ok(!r.event.raw_json.includes("new.person@gmail.com"), r.event.raw_json);
    const stored = JSON.parse(r.event.raw_json) as { "invite.sent": { id: string; data: { role: string } } };
    assert.equal(stored["invite.sent"].id, "invite_1");
    assert.equal(stored["invite.sent"].data.role, "reader");
    const failed = toAuditEvent(
      {
        id: "e6",
        type: "login.failed",
        effective_at: nowS,
        "login.failed": { error_code: "blocked", error_message: `Login from ${ip} blocked.` },
      },
      ctx,
    );
    assert.ok(failed.ok);
    assert.ok(!failed.event.raw_json.includes(ip), failed.event.raw_json);
    assert.match(failed.event.raw_json, /blocked/);
  });

  it("maps every event type of the simulated log, with no email or IP address kept", () => {
    const { org } = fixture();
    const events = auditLogs({
      count: 300,
      fromMs: now - 3 * DAY_S * 1000,
      toMs: now - 60_000,
      users: org.users,
      projects: org.projects,
    });
    const emails = org.users.map((u) => (u.email ?? "").toLowerCase()).filter(Boolean);
    for (const raw of events) {
      const r = toAuditEvent(raw, ctx);
      assert.ok(r.ok, r.ok ? "" : r.reason);
      const text = r.event.raw_json.toLowerCase();
      assert.ok(!emails.some((e) => text.includes(e)), `an email in ${raw.type}: ${text}`);
      assert.ok(!/198\.51\.100\.\d/.test(text), `an IP address in ${raw.type}: ${text}`);
      const stored = JSON.parse(r.event.raw_json) as Record<string, unknown>;
      assert.equal(stored.id, raw.id);
      assert.equal(stored.type, raw.type);
      const payload = raw[raw.type] as { id?: unknown } | undefined;
      if (typeof payload?.id === "string") {
        assert.equal(r.event.resource_id, payload.id);
        assert.equal((stored[raw.type] as { id?: unknown }).id, payload.id, raw.type);
      }
    }
  });

  it("rejects an entry without an id or a type, with the reason and whatever id it has", () => {
    const noId = without(sessionEvent, "id");
    const a = toAuditEvent(noId, ctx);
    assert.ok(!a.ok);
    assert.match(a.reason, /^audit log entry: id: /);
    assert.equal(a.id, undefined);
    const b = toAuditEvent({ ...sessionEvent, type: "" }, ctx);
    assert.ok(!b.ok);
    assert.match(b.reason, /type/);
    assert.equal(b.id, sessionEvent.id);
    const c = toAuditEvent(null, ctx);
    assert.ok(!c.ok);
    assert.equal(c.id, undefined);
  });

  it("rejects effective_at in milliseconds with a hint, keeping the id", () => {
    const r = toAuditEvent({ ...sessionEvent, effective_at: (nowS - 600) * 1000 }, ctx);
    assert.ok(!r.ok);
    assert.match(r.reason, /^effective_at \d+ is out of range .*: milliseconds\?$/);
    assert.equal(r.id, sessionEvent.id);
    assert.equal(r.at, undefined);
    const missing = toAuditEvent({ ...sessionEvent, effective_at: undefined }, ctx);
    assert.ok(!missing.ok);
    assert.match(missing.reason, /^effective_at is not integer Unix seconds/);
  });
});

/** A copy of `raw` without `field`. */
function without(raw: object, field: string): Record<string, unknown> {
  return Object.fromEntries(Object.entries(raw).filter(([key]) => key !== field));
}

function fixture() {
  return openaiOrg({
    orgId: "org-acme",
    adminKey: "sk-admin-transformtest0000000000000000abcd",
    now,
    users: 12,
    projects: 4,
    archivedProjects: 1,
    keys: 12,
    staleKeys: 2,
    orphanKeys: 3,
    serviceAccountKeys: 2,
    auditEvents: 0,
    seed: 3,
  });
}
