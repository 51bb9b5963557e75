/**
 * ingest-openai's `source/` against the OpenAI simulator, in process: every list read whole over
 * its pages; an answer that is not the documented shape fails the read (never a short or empty
 * list); each vendor failure a coded error that never quotes the admin key; the audit log read
 * in time slices, each event once and oldest first, busy slices halved; and the per-project key
 * lists tolerating OpenAI's 400 for an archived project only.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { after, afterEach, before, describe, it } from "node:test";
import { AiauditError, ErrorCodes, type ErrorCode } from "@aiaudit/errors";
import { createOpenaiClient } from "@aiaudit/openai-connect";
import {
  auditLogs,
  faults,
  isTenantScoped,
  openaiOrg,
  startOpenaiSimulator,
  type OpenaiAuditLog,
  type OpenaiSimulator,
} from "@aiaudit/sim-openai";
import { listAll } from "../../src/source/api.ts";
import { auditLogChunks, type AuditLogQuery } from "../../src/source/audit-logs.ts";
import {
  listAdminApiKeys,
  listProjectApiKeys,
  listServiceAccounts,
  listUsers,
  projectRefs,
} from "../../src/source/organization.ts";
import { ADMIN_KEY, ORG_ID } from "../helpers.ts";

const NOW = Date.parse("2026-11-21T12:00:00Z");
const DAY_MS = 86_400_000;
/** The day the audit-log tests read: 1,000 events spread over it. */
const DAY_START = Date.parse("2026-11-19T00:00:00Z");
const USERS = "/v1/organization/users";
const AUDIT = "/v1/organization/audit_logs";

const fixture = openaiOrg({
  orgId: ORG_ID,
  adminKey: ADMIN_KEY,
  now: NOW,
  users: 7,
  projects: 4,
  archivedProjects: 1,
  keys: 9,
  staleKeys: 1,
  orphanKeys: 3,
  serviceAccountKeys: 1,
  auditEvents: 0,
  seed: 5,
});
const { users, projects } = fixture.org;

/** The day's events, a few sharing one second, and three at the edges of the window read. */
const dayEvents = auditLogs({
  count: 1000,
  fromMs: DAY_START,
  toMs: DAY_START + DAY_MS - 1000,
  users,
  projects,
  seed: 9,
});
const sameSecond = auditLogs({
  count: 5,
  fromMs: DAY_START + 3_600_000,
  toMs: DAY_START + 3_600_000,
  users,
  projects,
  seed: 11,
  idPrefix: "audit_log-same",
});
const edges: OpenaiAuditLog[] = [
  { id: "audit_log-before", type: "user.added", effective_at: DAY_START / 1000 - 1 },
  { id: "audit_log-at-start", type: "user.added", effective_at: DAY_START / 1000 },
  { id: "audit_log-at-end", type: "user.added", effective_at: (DAY_START + DAY_MS) / 1000 },
];
const inWindow = [...dayEvents, ...sameSecond, edges[1] as OpenaiAuditLog];

let sim: OpenaiSimulator;
const client = (key = ADMIN_KEY, baseUrl = `${sim.url}/v1`, timeoutMs = 5_000) =>
  createOpenaiClient({ baseUrl, adminKey: key, maxRetries: 0, timeoutMs });

before(async () => {
  sim = await startOpenaiSimulator({
    orgs: { [ORG_ID]: { ...fixture.org, auditLogs: [...dayEvents, ...sameSecond, ...edges] } },
    restrictedKeys: ["sk-proj-restrictedtestkey000000000000wxyz"],
  });
});
afterEach(() => sim.clearFaults());
after(() => sim.close());

const readUsers = (key = ADMIN_KEY, limit = 2) =>
  listAll("GET /organization/users", (page) => client(key).admin.organization.users.list({ limit, ...page }));

/** Rejects with an AiauditError of `code`, whose message, details and cause never hold a key. */
async function rejectsWith(
  promise: Promise<unknown>,
  code: ErrorCode,
  key = ADMIN_KEY,
): Promise<AiauditError> {
  let caught: unknown;
  await promise.then(
    (value: unknown) =>
      assert.fail(`resolved instead of failing (${Array.isArray(value) ? value.length : 0} items)`),
    (err: unknown) => (caught = err),
  );
  assert.ok(caught instanceof AiauditError, `not an AiauditError: ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  const said = [
    caught.message,
    caught.stack ?? "",
    JSON.stringify(caught.details),
    caught.cause instanceof Error ? `${caught.cause.message} ${caught.cause.stack ?? ""}` : "",
  ].join("\n");
  for (const secret of [key, key.slice(9), key.slice(0, 5) + "***"])
    assert.ok(!said.includes(secret), `the key is in: ${said}`);
  return caught;
}

const slices = (query: Partial<AuditLogQuery> = {}) => ({
  sinceMs: DAY_START,
  untilMs: DAY_START + DAY_MS,
  limit: 100,
  maxEvents: 10_000,
  chunk: 64,
  ...query,
});

async function readChunks(query: AuditLogQuery, key = ADMIN_KEY) {
  const chunks: unknown[][] = [];
  for await (const chunk of auditLogChunks(client(key), query)) chunks.push(chunk);
  return chunks;
}

/** A copy of a JSON object without `field`. */
const without = (body: unknown, field: string): Record<string, unknown> =>
  Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([key]) => key !== field));

const ids = (items: unknown[]) => items.map((item) => (item as { id: string }).id);
/** Oldest first, then by id: the order the stream publishes in. */
const oldestFirst = (events: OpenaiAuditLog[]) =>
  [...events]
    .sort((a, b) => a.effective_at - b.effective_at || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
    .map((e) => e.id);

describe("listAll", () => {
  it("reads every page, after the previous page's last_id", async () => {
    const from = sim.requests.length;
    assert.deepEqual(ids(await readUsers()), ids(users));
    const pages = sim.requests.slice(from).filter((r) => r.path === USERS);
    assert.equal(pages.length, Math.ceil(users.length / 2));
    assert.deepEqual(
      pages.map((r) => r.query.after),
      [undefined, ...pages.slice(1).map((_, i) => users[2 * i + 1]?.id)],
    );
  });

  it("the organization's lists: users, and admin keys paged by the last item's id", async () => {
    assert.deepEqual(ids(await listUsers(client(), { limit: 3 })), ids(users));
    const from = sim.requests.length;
    const keys = await listAdminApiKeys(client(), { limit: 2 });
    assert.deepEqual(ids(keys), ids(fixture.org.adminApiKeys));
    const pages = sim.requests.slice(from);
    assert.deepEqual(
      pages.map((r) => [r.query.order, r.query.after]),
      [
        ["asc", undefined],
        ["asc", fixture.org.adminApiKeys[1]?.id],
      ],
    );
  });

  const invalid: [string, () => void][] = [
    ["an HTML page with status 200", () => sim.injectFault(faults.html(USERS))],
    ["truncated JSON", () => sim.injectFault(faults.truncated(USERS, { query: "after=" }))],
    ["a JSON null", () => sim.injectFault(faults.status(USERS, 200, { body: null }))],
    [
      "`data` an object",
      () => sim.injectFault(faults.rewrite(USERS, (body) => ({ ...(body as object), data: {} }))),
    ],
    ["no `data` at all", () => sim.injectFault(faults.rewrite(USERS, (body) => without(body, "data")))],
    ["no `has_more`", () => sim.injectFault(faults.rewrite(USERS, (body) => without(body, "has_more")))],
    [
      "has_more true and no last_id",
      () =>
        sim.injectFault(faults.rewrite(USERS, (body) => ({ ...without(body, "last_id"), has_more: true }))),
    ],
    [
      "has_more true and last_id null on the last page",
      () =>
        sim.injectFault(
          faults.rewrite(USERS, (body) => ({ ...(body as object), has_more: true, last_id: null }), {
            query: `after=${users[5]?.id}`,
          }),
        ),
    ],
    [
      "the same last_id twice",
      () =>
        sim.injectFault(
          faults.rewrite(USERS, (body) => ({ ...(body as object), last_id: users[1]?.id }), {
            times: Infinity,
          }),
        ),
    ],
    [
      "a last_id that comes back after another (A, B, A)",
      () =>
        sim.injectFault(
          faults.rewrite(USERS, (body) => ({ ...(body as object), last_id: users[1]?.id }), {
            query: `after=${users[3]?.id}`,
            // Finite, so a reader that loops ends, with duplicates, instead of hanging the test.
            times: 5,
          }),
        ),
    ],
  ];
  for (const [what, inject] of invalid) {
    it(`${what}: UPSTREAM_INVALID, retryable, never a short list`, async () => {
      inject();
      const err = await rejectsWith(readUsers(), ErrorCodes.UPSTREAM_INVALID);
      assert.equal(err.retryable, true);
      assert.match(err.message, /^GET \/organization\/users: OpenAI answered with a body that is not/);
      for (const u of users) {
        assert.ok(!err.message.includes(u.email ?? "@"), "the body is described, never quoted");
        assert.ok(!err.message.includes(u.name ?? "@"), "the body is described, never quoted");
      }
      assert.ok(!err.message.includes("Log in"), err.message);
      assert.ok(sim.requests.filter((r) => r.path === USERS).length < 50, "a repeated cursor does not loop");
    });
  }

  it("401: UPSTREAM_UNAUTHORIZED, the rejected key not repeated", async () => {
    const wrong = "sk-admin-wrongtestkey0000000000000000wxyz";
    const err = await rejectsWith(readUsers(wrong), ErrorCodes.UPSTREAM_UNAUTHORIZED, wrong);
    assert.equal(err.retryable, false);
    assert.equal(err.details.status, 401);
  });

  it("403 with audit logging switched off: AUDIT_LOG_DISABLED; other 403s stay UPSTREAM_HTTP", async () => {
    const org = sim.orgs.get(ORG_ID);
    assert.ok(org);
    org.auditLoggingEnabled = false;
    try {
      const err = await rejectsWith(readChunks(slices()), ErrorCodes.AUDIT_LOG_DISABLED);
      assert.equal(err.retryable, false);
      assert.equal(err.details.status, 403);
      assert.deepEqual(ids(await readUsers()), ids(users), "the other lists are still served");
    } finally {
      org.auditLoggingEnabled = true;
    }
    const restricted = "sk-proj-restrictedtestkey000000000000wxyz";
    for (const read of [() => readUsers(restricted), () => readChunks(slices(), restricted)]) {
      const err = await rejectsWith(read(), ErrorCodes.UPSTREAM_HTTP, restricted);
      assert.equal(err.details.status, 403);
      assert.equal(err.retryable, false);
    }
  });

  for (const [status, retryable] of [
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [408, true],
    [400, false],
    [404, false],
  ] as const) {
    it(`${status}: UPSTREAM_HTTP, ${retryable ? "" : "not "}retryable`, async () => {
      sim.injectFault(
        status === 429 ? faults.rateLimited(USERS, 1, { query: "after=" }) : faults.status(USERS, status),
      );
      const err = await rejectsWith(readUsers(), ErrorCodes.UPSTREAM_HTTP);
      assert.equal(err.retryable, retryable);
      assert.equal(err.details.status, status);
      assert.match(err.message, new RegExp(`OpenAI answered ${status} \\(application/json, \\d+ bytes`));
    });
  }

  it("an unreachable port: UPSTREAM_UNREACHABLE, retryable", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const err = await rejectsWith(
      listAll("GET /organization/users", (page) =>
        client(ADMIN_KEY, `http://127.0.0.1:${port}/v1`).admin.organization.users.list(page),
      ),
      ErrorCodes.UPSTREAM_UNREACHABLE,
    );
    assert.equal(err.retryable, true);
  });

  it("a request that times out: UPSTREAM_UNREACHABLE, retryable", async () => {
    sim.injectFault(faults.slow(USERS, 2_000));
    const err = await rejectsWith(
      listAll("GET /organization/users", (page) =>
        client(ADMIN_KEY, `${sim.url}/v1`, 200).admin.organization.users.list(page),
      ),
      ErrorCodes.UPSTREAM_UNREACHABLE,
    );
    assert.equal(err.retryable, true);
  });
});

describe("auditLogChunks", () => {
  const tenantOnly = (r: { query: Record<string, unknown> }) => r.query["tenant_only"] === "true";

  it("hands over every event of [since, until) once, oldest first, in chunks", async () => {
    const from = sim.requests.length;
    const chunks = await readChunks(slices());
    assert.ok(chunks.length > 1);
    assert.ok(chunks.every((c) => c.length > 0 && c.length <= 64));
    const expected = oldestFirst(inWindow);
    assert.deepEqual(ids(chunks.flat()), expected);
    assert.ok(!expected.includes("audit_log-before") && !expected.includes("audit_log-at-end"));
    assert.ok(expected.includes("audit_log-at-start"));
    const audits = sim.requests.slice(from).filter((r) => r.path === AUDIT);
    assert.ok(audits.every((r) => r.query.limit === "100" && r.status === 200));
    assert.deepEqual(
      [audits[0]?.query["effective_at[gte]"], audits[0]?.query["effective_at[lt]"]],
      [String(DAY_START / 1000), String((DAY_START + DAY_MS) / 1000)],
    );
  });

  it("an event served from outside the slice asked for is taken in its own slice, once, in order", async () => {
    // Regression (found by the soak): a vendor that adds a later event to a page moved the cursor
    // past the events of the slices between, which were then dead-lettered as too old.
    const later = inWindow.reduce((a, b) => (b.effective_at > a.effective_at ? b : a));
    sim.injectFault(
      faults.rewrite(
        AUDIT,
        (body) => ({ ...(body as object), data: [later, ...(body as { data: unknown[] }).data] }),
        {
          times: Infinity,
        },
      ),
    );
    try {
      // 1,006 events, at most 200 a slice: several slices; every page also serves the newest one.
      const got = ids((await readChunks(slices({ maxEvents: 200 }))).flat());
      const at = new Map(inWindow.map((e) => [e.id, e.effective_at]));
      const times = got.map((id) => at.get(id) ?? -1);
      const backwards = times.findIndex((t, i) => i > 0 && t < (times[i - 1] ?? 0));
      assert.equal(backwards, -1, `event ${String(got[backwards])} came after a newer one`);
      assert.deepEqual([...new Set(got)], oldestFirst(inWindow));
    } finally {
      sim.clearFaults();
    }
  });

  it("reads each slice a second time with tenant_only=true: the tenant-scoped events come from there", async () => {
    const from = sim.requests.length;
    const got = ids((await readChunks(slices())).flat());
    const tenantScoped = inWindow.filter((e) => isTenantScoped(e.type));
    assert.ok(tenantScoped.length > 0);
    for (const e of tenantScoped) assert.ok(got.includes(e.id), `${e.type} ${e.id} is missing`);
    const audits = sim.requests.slice(from).filter((r) => r.path === AUDIT);
    const bounds = (r: (typeof audits)[number]) =>
      `${String(r.query["effective_at[gte]"])}..${String(r.query["effective_at[lt]"])}`;
    const plain = new Set(audits.filter((r) => !tenantOnly(r)).map(bounds));
    const scoped = new Set(audits.filter(tenantOnly).map(bounds));
    assert.ok(plain.size > 0);
    assert.deepEqual(scoped, plain, "every slice read both ways");
    assert.ok(audits.some((r) => !tenantOnly(r) && r.query["tenant_only"] === undefined));
  });

  it("a failure of the tenant_only traversal fails the read: nothing of the slice is handed over", async () => {
    sim.injectFault(faults.status(AUDIT, 500, { query: "tenant_only=true" }));
    const handed: unknown[] = [];
    const err = await rejectsWith(
      (async () => {
        for await (const chunk of auditLogChunks(client(), slices())) handed.push(...chunk);
      })(),
      ErrorCodes.UPSTREAM_HTTP,
    );
    assert.equal(err.details.status, 500);
    assert.equal(handed.length, 0);
  });

  it("splits a slice with more than maxEvents events and still hands each over once, in order", async () => {
    const splits: [number, number][] = [];
    const counts: number[] = [];
    const chunks = await readChunks(
      slices({
        maxEvents: 100,
        chunk: 50,
        onSplit: (fromMs, toMs, events) => {
          splits.push([fromMs, toMs]);
          counts.push(events);
        },
      }),
    );
    assert.ok(splits.length >= 3, `${String(splits.length)} splits`);
    assert.deepEqual(splits[0], [DAY_START, DAY_START + DAY_MS]);
    assert.ok(
      counts.every((n) => n > 100 && n <= 200),
      `each split reports the events it read (> maxEvents, at most one page more): ${counts.join(", ")}`,
    );
    assert.ok(splits.every(([from, to]) => from >= DAY_START && to > from && to <= DAY_START + DAY_MS));
    assert.ok(chunks.every((c) => c.length > 0 && c.length <= 50));
    const got = ids(chunks.flat());
    assert.equal(new Set(got).size, got.length, "no event twice");
    assert.deepEqual(got, oldestFirst(inWindow));
  });

  it("a page that fails fails the read: nothing of the slice is handed over", async () => {
    sim.injectFault(faults.truncated(AUDIT, { query: "after=" }));
    const handed: unknown[] = [];
    await rejectsWith(
      (async () => {
        for await (const chunk of auditLogChunks(client(), slices())) handed.push(...chunk);
      })(),
      ErrorCodes.UPSTREAM_INVALID,
    );
    assert.equal(handed.length, 0);
  });
});

describe("per-project lists", () => {
  const archived = fixture.expected.archivedProjectIds[0] ?? "";
  const active = fixture.expected.activeProjectIds[1] ?? "";
  const keysOf = (id: string) => `/v1/organization/projects/${id}/api_keys`;

  it("project refs say which projects are archived", async () => {
    const refs = await projectRefs(client(), { limit: 2 });
    assert.deepEqual(
      refs,
      projects.map((p) => ({ id: p.id, archived: fixture.expected.archivedProjectIds.includes(p.id) })),
    );
  });

  it("lists the keys of every project, archived ones included, whatever the owner's access", async () => {
    const refs = await projectRefs(client(), { limit: 10 });
    const from = sim.requests.length;
    const lists = await listProjectApiKeys(client(), refs, { limit: 2 });
    assert.deepEqual(
      lists.map((l) => [l.projectId, ids(l.keys)]),
      projects.map((p) => [p.id, ids(fixture.org.projectApiKeys[p.id] ?? [])]),
    );
    assert.ok((fixture.org.projectApiKeys[archived] ?? []).length > 0, "the archived project has keys");
    const sent = sim.requests.slice(from);
    assert.ok(sent.every((r) => r.query.owner_project_access === "any"));
  });

  it("tolerates a 400 for an archived project's keys", async () => {
    const refs = await projectRefs(client(), { limit: 10 });
    sim.injectFault(faults.status(keysOf(archived), 400));
    const lists = await listProjectApiKeys(client(), refs, { limit: 10 });
    assert.deepEqual(lists.find((l) => l.projectId === archived)?.keys, []);
    assert.equal(sim.requests.find((r) => r.path === keysOf(archived) && r.fault)?.status, 400);
    const other = lists.find((l) => l.projectId === active);
    assert.deepEqual(ids(other?.keys ?? []), ids(fixture.org.projectApiKeys[active] ?? []));
  });

  it("but not for an active project's, nor another status for an archived one", async () => {
    const refs = await projectRefs(client(), { limit: 10 });
    sim.injectFault(faults.status(keysOf(active), 400));
    const err = await rejectsWith(
      listProjectApiKeys(client(), refs, { limit: 10 }),
      ErrorCodes.UPSTREAM_HTTP,
    );
    assert.equal(err.details.status, 400);
    sim.injectFault(faults.status(keysOf(archived), 500));
    const five = await rejectsWith(
      listProjectApiKeys(client(), refs, { limit: 10 }),
      ErrorCodes.UPSTREAM_HTTP,
    );
    assert.equal(five.details.status, 500);
  });

  it("service accounts of the active projects only", async () => {
    const refs = await projectRefs(client(), { limit: 10 });
    const from = sim.requests.length;
    const lists = await listServiceAccounts(client(), refs, { limit: 10 });
    assert.deepEqual(
      lists.map((l) => l.projectId),
      fixture.expected.activeProjectIds,
    );
    assert.ok(!sim.requests.slice(from).some((r) => r.path.includes(archived)));
    assert.deepEqual(
      ids(lists[0]?.accounts ?? []),
      ids(fixture.org.serviceAccounts[projects[0]?.id ?? ""] ?? []),
    );
  });
});
