import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  AUDIT_LOGGING_DISABLED_MESSAGE,
  isTenantScoped,
  startOpenaiSimulator,
  type OpenaiAuditLog,
  type OpenaiSimulator,
} from "@aiaudit/sim-openai";
import { client, conforms, fixture, ok, traverse, type ErrorBody, type List } from "./helpers.ts";

const { org } = fixture();
let sim: OpenaiSimulator;
const get = client(() => sim);
const AUDIT = "/organization/audit_logs";
const newestFirst = (a: OpenaiAuditLog, b: OpenaiAuditLog) =>
  b.effective_at - a.effective_at || (a.id < b.id ? 1 : -1);
/** The ids the simulator should serve for `keep`, newest first (tenant-scoped events excluded). */
const want = (keep: (e: OpenaiAuditLog) => boolean, tenant = false) =>
  org.auditLogs
    .filter((e) => isTenantScoped(e.type) === tenant && keep(e))
    .toSorted(newestFirst)
    .map((e) => e.id);
const ids = async (query: string) => (await traverse(get, `${AUDIT}?limit=100&${query}`)).ids;

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { "org-acme": org } });
});
after(() => sim.close());

describe("audit logs", () => {
  it("newest first, paged with after=last_id, each page a valid ListAuditLogsResponse", async () => {
    const { pages, ids: all } = await traverse(get, `${AUDIT}?limit=25`);
    assert.deepEqual(
      all,
      want(() => true),
    );
    assert.equal(new Set(all).size, all.length);
    assert.ok(pages.length > 3);
    for (const p of pages) assert.deepEqual(conforms("ListAuditLogsResponse", p), []);
    assert.equal((await ok(await get(AUDIT))).data.length, 20);
  });

  it("tenant_only=true serves only the tenant-scoped events; mixing scopes is a 400", async () => {
    assert.deepEqual(
      await ids("tenant_only=true"),
      want(() => true, true),
    );
    for (const q of [
      "event_types[]=tenant.user.added",
      "event_types[]=role.bound_to_resource",
      "tenant_only=true&event_types[]=project.created",
      "event_types[]=no.such.type",
      "tenant_only=maybe",
    ])
      assert.equal((await get(`${AUDIT}?${q}`)).status, 400, q);
    const types = await ids(
      "tenant_only=true&event_types[]=tenant.user.added&event_types[]=role.bound_to_resource",
    );
    assert.deepEqual(
      types,
      want((e) => ["tenant.user.added", "role.bound_to_resource"].includes(e.type), true),
    );
    assert.ok(types.length > 0);
  });

  it("effective_at[gt|gte|lt|lte] bounds, inclusive and exclusive", async () => {
    const sorted = org.auditLogs.filter((e) => !isTenantScoped(e.type)).toSorted(newestFirst);
    const t = sorted[40]?.effective_at ?? 0;
    const u = sorted[10]?.effective_at ?? 0;
    assert.deepEqual(
      await ids(`effective_at[gte]=${t}`),
      want((e) => e.effective_at >= t),
    );
    assert.deepEqual(
      await ids(`effective_at[gt]=${t}`),
      want((e) => e.effective_at > t),
    );
    assert.deepEqual(
      await ids(`effective_at[lt]=${u}`),
      want((e) => e.effective_at < u),
    );
    assert.deepEqual(
      await ids(`effective_at[gt]=${t}&effective_at[lte]=${u}`),
      want((e) => e.effective_at > t && e.effective_at <= u),
    );
    assert.notDeepEqual(await ids(`effective_at[gte]=${t}`), await ids(`effective_at[gt]=${t}`));
    assert.equal((await get(`${AUDIT}?effective_at[gte]=yesterday`)).status, 400);
  });

  it("event_types[], project_ids[], actor_ids[], actor_emails[], resource_ids[]", async () => {
    const user = org.users[2];
    const project = org.projects[1];
    const sa = org.auditLogs.find((e) => e.actor?.api_key?.type === "service_account")?.actor?.api_key;
    const cases: [string, (e: OpenaiAuditLog) => boolean][] = [
      [
        "event_types[]=project.created&event_types[]=api_key.deleted",
        (e) => ["project.created", "api_key.deleted"].includes(e.type),
      ],
      [`project_ids[]=${project?.id ?? ""}`, (e) => e.project?.id === project?.id],
      [
        `actor_ids[]=${user?.id ?? ""}`,
        (e) => e.actor?.session?.user?.id === user?.id || e.actor?.api_key?.user?.id === user?.id,
      ],
      [
        `actor_ids[]=${sa?.service_account?.id ?? ""}&actor_ids[]=${sa?.id ?? ""}`,
        (e) => e.actor?.api_key?.id === sa?.id,
      ],
      [
        `actor_emails[]=${user?.email ?? ""}`,
        (e) => e.actor?.session?.user?.email === user?.email || e.actor?.api_key?.user?.email === user?.email,
      ],
      [
        `resource_ids[]=${project?.id ?? ""}`,
        (e) =>
          (e[e.type] as { id?: string; resource_id?: string } | undefined)?.id === project?.id ||
          (e[e.type] as { resource_id?: string } | undefined)?.resource_id === project?.id,
      ],
    ];
    for (const [query, keep] of cases) {
      const expected = want(keep);
      assert.ok(expected.length > 0, query);
      assert.deepEqual(await ids(query), expected, query);
    }
    assert.deepEqual(
      await ids("project_ids=proj_x"),
      want(() => true),
      "only the bracketed names filter",
    );
  });

  it("before=<first_id> gives the newer page just before; after+before bound a window", async () => {
    const first = await ok(await get(`${AUDIT}?limit=10`));
    const second = await ok(await get(`${AUDIT}?limit=10&after=${first.last_id ?? ""}`));
    const back = await ok(await get(`${AUDIT}?limit=10&before=${second.first_id ?? ""}`));
    assert.deepEqual(
      back.data.map((e) => e.id),
      first.data.map((e) => e.id),
    );
    assert.equal(back.has_more, false, "nothing is newer than the first page");
    const mid = await ok(
      await get(`${AUDIT}?limit=10&before=${second.last_id ?? ""}&after=${first.first_id ?? ""}`),
    );
    const all = want(() => true);
    assert.deepEqual(
      mid.data.map((e) => e.id),
      all.slice(1, 11),
    );
    const err = (await (await get(`${AUDIT}?before=audit_log-nope`)).json()) as ErrorBody;
    assert.equal(err.error.param, "before");
    assert.equal((await get(`${AUDIT}?limit=101`)).status, 400);
  });

  it("late arrivals added with addAuditLogs show up in their place", async () => {
    const t = org.auditLogs[5]?.effective_at ?? 0;
    const late: OpenaiAuditLog = {
      id: "audit_log-late0001_20261120",
      type: "project.archived",
      effective_at: t,
      "project.archived": { id: "proj_late" },
    };
    sim.addAuditLogs("org-acme", [late]);
    const page: List = await ok(await get(`${AUDIT}?effective_at[gte]=${t}&effective_at[lte]=${t}`));
    const same = [late.id, org.auditLogs[5]?.id ?? ""];
    assert.deepEqual(
      page.data.map((e) => e.id),
      same.sort().reverse(),
      "same second: id descending",
    );
    assert.throws(() => sim.addAuditLogs("org-nope", []));
  });

  it("403 with AUDIT_LOGGING_DISABLED_MESSAGE while audit logging is off; other lists unaffected", async () => {
    const acme = sim.orgs.get("org-acme");
    assert.ok(acme);
    acme.auditLoggingEnabled = false;
    const res = await get(AUDIT);
    assert.equal(res.status, 403);
    assert.equal(((await res.json()) as ErrorBody).error.message, AUDIT_LOGGING_DISABLED_MESSAGE);
    assert.equal((await get("/organization/users")).status, 200);
    acme.auditLoggingEnabled = true;
    assert.equal((await get(AUDIT)).status, 200);
  });
});
