import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { auditEvents, encodeCursor, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { client, followAll, links, TOKEN, type Event } from "./helpers.ts";

const START = Date.parse("2026-11-20T00:00:00Z");
const MINUTE = 60_000;
let clock = Date.parse("2026-11-21T12:00:00Z");
let sim: GithubSimulator;
const get = client(() => sim);
const body = async (res: Response) => (await res.json()) as Event[];
const stamps = (events: Event[]) => events.map((e) => e["@timestamp"]);

before(async () => {
  sim = await startGithubSimulator({
    tokens: [TOKEN, { token: "ghp_readorgonly", scopes: ["read:org"] }],
    now: () => clock,
    auditLogLimit: 1000,
    orgs: {
      acme: {
        id: 1,
        seats: [],
        auditEvents: auditEvents("acme", 250, { startMs: START, stepMs: MINUTE, agentEvery: 5 }),
      },
      mixed: {
        id: 2,
        seats: [],
        auditEvents: [
          ...auditEvents("mixed", 6, {
            startMs: START,
            actions: ["copilot.cfb_seat_assignment_created", "team.add_member", "copilot", "copilotx.thing"],
            idPrefix: "mixed-",
          }),
        ],
      },
    },
    enterprises: { bigcorp: { id: 7, orgs: ["acme"] } },
  });
});
after(() => sim.close());

describe("audit log: fixture", () => {
  it("generates strictly increasing timestamps (ms), unique ids and agent events", () => {
    const events = auditEvents("acme", 20, { startMs: START, stepMs: 1000, agentEvery: 4 }) as Event[];
    assert.equal(new Set(events.map((e) => e._document_id)).size, 20);
    events.forEach((e, i) => {
      assert.equal(e["@timestamp"], START + i * 1000);
      assert.equal(e.created_at, e["@timestamp"]);
    });
    const agent = events.filter((e) => e.actor_is_agent === true);
    assert.equal(agent.length, 5);
    for (const e of agent) {
      assert.equal(e.actor, "Copilot");
      assert.match(String(e.agent_session_id), /^[0-9a-f-]{36}$/);
      assert.match(String(e.user), /^acme-dev-\d+$/);
    }
    const human = events.find((e) => e.action === "copilot.cfb_seat_assignment_created");
    assert.deepEqual(
      Object.keys(human ?? {}).sort(),
      [
        "@timestamp",
        "_document_id",
        "action",
        "actor",
        "actor_id",
        "actor_location",
        "business",
        "business_id",
        "created_at",
        "operation_type",
        "org",
        "org_id",
        "user",
        "user_id",
      ].sort(),
    );
    const other = auditEvents("acme", 20, { startMs: START + 1, stepMs: 1000 }) as Event[];
    assert.ok(other.every((e) => !events.some((x) => x._document_id === e._document_id)));
  });
});

describe("audit log: cursor pagination", () => {
  it("defaults to desc, 30 per page, Link next + first without prev or page", async () => {
    const res = await get("/orgs/acme/audit-log");
    assert.equal(res.status, 200);
    const events = await body(res);
    assert.equal(events.length, 30);
    assert.equal(events[0]?.["@timestamp"], START + 249 * MINUTE);
    const rel = links(res);
    assert.ok(rel.next && rel.first);
    assert.equal(rel.prev, undefined);
    const next = new URL(rel.next);
    assert.ok(next.searchParams.get("after"));
    assert.equal(next.searchParams.get("page"), null);
  });

  it("walks every event once in desc order by following rel=next", async () => {
    const { items, pages } = await followAll(get, "/orgs/acme/audit-log?per_page=100");
    assert.equal(items.length, 250);
    assert.equal(pages.length, 3);
    assert.equal(new Set(items.map((e) => e._document_id)).size, 250);
    const ts = stamps(items);
    assert.ok(ts.every((t, i) => i === 0 || t < (ts[i - 1] ?? 0)));
    assert.equal(links(pages[2] as Response).next, undefined, "no rel=next on the last page");
  });

  it("walks asc and carries phrase, per_page and order into the Link URLs", async () => {
    const first = "/orgs/acme/audit-log?phrase=action%3Acopilot&per_page=40&order=asc";
    const { items, pages } = await followAll(get, first);
    assert.equal(items.length, 200, "agent events (pull_request.create) are not copilot.* actions");
    const ts = stamps(items);
    assert.ok(ts.every((t, i) => i === 0 || t > (ts[i - 1] ?? 0)));
    const next = new URL(links(pages[0] as Response).next ?? "");
    assert.equal(next.searchParams.get("phrase"), "action:copilot");
    assert.equal(next.searchParams.get("per_page"), "40");
    assert.equal(next.searchParams.get("order"), "asc");
    assert.equal(next.origin, sim.url);
  });

  it("clamps per_page to [1, 100]", async () => {
    assert.equal((await body(await get("/orgs/acme/audit-log?per_page=500"))).length, 100);
    assert.equal((await body(await get("/orgs/acme/audit-log?per_page=0"))).length, 1);
    assert.equal((await body(await get("/orgs/acme/audit-log?per_page=abc"))).length, 30);
  });

  it("rel=prev leads back to the previous page", async () => {
    const page1 = await get("/orgs/acme/audit-log?per_page=10&order=asc");
    const events1 = await body(page1);
    const page2 = await get(links(page1).next ?? "");
    const rel2 = links(page2);
    assert.ok(rel2.prev && rel2.first);
    const back = await get(rel2.prev);
    assert.deepEqual(
      (await body(back)).map((e) => e._document_id),
      events1.map((e) => e._document_id),
    );
    assert.equal(links(back).prev, undefined);
  });

  it("a late event behind the cursor is not returned by the continuing traversal, but by a created:>= window", async () => {
    sim.addAuditEvents(
      "late",
      auditEvents("late", 50, { startMs: START, stepMs: MINUTE, idPrefix: "late-" }),
    );
    const page1 = await get("/orgs/late/audit-log?order=asc&per_page=20");
    const seen = (await body(page1)).map((e) => e._document_id);
    const lateEvent = {
      ...auditEvents("late", 1, { startMs: START + 5 * MINUTE + 30_000, idPrefix: "arrived-late-" })[0],
    };
    sim.addAuditEvents("late", [lateEvent]);
    const rest = await followAll(get, links(page1).next ?? "");
    const traversal = [...seen, ...rest.items.map((e) => e._document_id)];
    assert.equal(traversal.length, 50);
    assert.ok(!traversal.includes("arrived-late-0"));

    const overlap = new Date(START + 5 * MINUTE).toISOString();
    const window = await followAll(get, `/orgs/late/audit-log?order=asc&phrase=created:>=${overlap}`);
    assert.ok(window.items.some((e) => e._document_id === "arrived-late-0"));
    assert.equal(window.items.length, 46);

    // Continuing after the last event seen returns only events newer than it.
    sim.addAuditEvents("late", auditEvents("late", 2, { startMs: START + 60 * MINUTE, idPrefix: "newer-" }));
    const lastSeen = rest.items.at(-1) as Event;
    const cursor = encodeCursor({ ts: lastSeen["@timestamp"], id: lastSeen._document_id });
    const after = await get(`/orgs/late/audit-log?order=asc&after=${cursor}`);
    assert.deepEqual(
      (await body(after)).map((e) => e._document_id),
      ["newer-0", "newer-1"],
    );
  });

  it("answers 422 to a malformed cursor", async () => {
    assert.equal((await get("/orgs/acme/audit-log?after=%%%")).status, 422);
  });
});

describe("audit log: phrase", () => {
  const ids = async (query: string) =>
    (await body(await get(`/orgs/mixed/audit-log?order=asc&${query}`))).map((e) => e.action);

  it("action:copilot matches `copilot` and `copilot.*` only", async () => {
    assert.deepEqual(await ids("phrase=action:copilot"), [
      "copilot.cfb_seat_assignment_created",
      "copilot",
      "copilot.cfb_seat_assignment_created",
    ]);
    assert.deepEqual(await ids("phrase=action:team.add_member"), ["team.add_member", "team.add_member"]);
    assert.deepEqual(await ids("phrase=action:copilot.cfb_seat_assignment_created"), [
      "copilot.cfb_seat_assignment_created",
      "copilot.cfb_seat_assignment_created",
    ]);
  });

  it("actor:Copilot selects agent events (case-insensitive); terms combine with + or space", async () => {
    const agents = await body(await get("/orgs/acme/audit-log?per_page=100&phrase=actor:copilot"));
    assert.equal(agents.length, 50);
    assert.ok(
      agents.every(
        (e) => e.actor === "Copilot" && e.actor_is_agent === true && String(e.user).startsWith("acme-dev-"),
      ),
    );
    // A literal + in the query string decodes to a space; an encoded %2B stays a +.
    const plus = await body(
      await get("/orgs/acme/audit-log?per_page=100&phrase=actor:acme-admin+action:copilot.policy_updated"),
    );
    const encoded = await body(
      await get("/orgs/acme/audit-log?per_page=100&phrase=actor:acme-admin%2Baction:copilot.policy_updated"),
    );
    assert.ok(plus.length > 0 && plus.every((e) => e.action === "copilot.policy_updated"));
    assert.deepEqual(plus, encoded);
    assert.equal(
      (await body(await get("/orgs/acme/audit-log?phrase=unknown:thing&per_page=100"))).length,
      100,
    );
  });

  it("created: ranges with dates, date-times and milliseconds", async () => {
    const count = async (phrase: string) => {
      const { items } = await followAll(
        get,
        `/orgs/acme/audit-log?per_page=100&phrase=${encodeURIComponent(phrase)}`,
      );
      return items.length;
    };
    // 250 events, one a minute from 2026-11-20T00:00Z: 00:00 .. 04:09.
    assert.equal(await count("created:2026-11-20"), 250);
    assert.equal(await count("created:>=2026-11-21"), 0);
    assert.equal(await count("created:<2026-11-20"), 0);
    assert.equal(await count("created:<=2026-11-20"), 250);
    assert.equal(await count("created:>2026-11-19"), 250);
    assert.equal(await count("created:>=2026-11-20T04:00:00Z"), 10);
    assert.equal(await count("created:>2026-11-20T04:00:00Z"), 9);
    assert.equal(await count("created:>2026-11-20T04:00:00.000Z"), 9);
    assert.equal(await count("created:<2026-11-20T00:10:00.000Z"), 10);
    assert.equal(await count("created:<=2026-11-20T00:10:00Z"), 11);
    assert.equal(await count("created:2026-11-20T00:10:00Z"), 1);
    assert.equal(await count("created:>=2026-11-20T01:00:00+01:00"), 250);
    assert.equal(await count("created:>=2026-11-20T00:10:00Z created:<2026-11-20T00:20:00Z"), 10);
    assert.equal(await count("created:2026-11-20T00:10:00Z..2026-11-20T00:19:00Z"), 10);
    assert.equal((await get("/orgs/acme/audit-log?phrase=created:>=yesterday")).status, 422);
  });
});

describe("audit log: enterprise, access and limits", () => {
  it("serves the enterprise log: its own events plus member orgs'", async () => {
    sim.addAuditEvents(
      "bigcorp",
      auditEvents("bigcorp", 3, { startMs: START - MINUTE * 10, idPrefix: "ent-" }),
      {
        enterprise: true,
      },
    );
    const { items } = await followAll(get, "/enterprises/bigcorp/audit-log?per_page=100&order=asc");
    assert.equal(items.length, 253);
    assert.deepEqual(
      items.slice(0, 3).map((e) => e._document_id),
      ["ent-0", "ent-1", "ent-2"],
    );
    assert.equal((await get("/enterprises/nope/audit-log")).status, 404);
  });

  it("needs read:audit_log: another scope gets 403 with the accepted permissions and the token's scopes", async () => {
    const res = await client(() => sim, "ghp_readorgonly")("/orgs/acme/audit-log");
    assert.equal(res.status, 403);
    assert.equal(
      ((await res.json()) as { message: string }).message,
      "Resource not accessible by personal access token",
    );
    assert.ok(res.headers.get("x-accepted-github-permissions"));
    assert.equal(res.headers.get("x-oauth-scopes"), "read:org");
    assert.equal(res.headers.get("x-accepted-oauth-scopes"), "read:audit_log");
  });

  it("limits audit-log queries per token and hour with a secondary-rate-limit 403 and retry-after", async () => {
    const limited = await startGithubSimulator({
      tokens: [TOKEN],
      now: () => clock,
      auditLogLimit: 3,
      orgs: { acme: { id: 1, seats: [], auditEvents: auditEvents("acme", 5, { startMs: START }) } },
    });
    try {
      const lget = client(() => limited);
      for (let i = 0; i < 3; i++) assert.equal((await lget("/orgs/acme/audit-log")).status, 200);
      const res = await lget("/orgs/acme/audit-log");
      assert.equal(res.status, 403);
      assert.match(
        ((await res.json()) as { message: string }).message,
        /You have exceeded a secondary rate limit/,
      );
      const retryAfter = Number(res.headers.get("retry-after"));
      assert.ok(retryAfter > 0 && retryAfter <= 3600);
      assert.equal(
        (await lget("/orgs/acme/copilot/billing/seats")).status,
        200,
        "other endpoints are not limited",
      );
      clock += 3600_000;
      assert.equal((await lget("/orgs/acme/audit-log")).status, 200, "a new hour opens a new window");
    } finally {
      await limited.close();
    }
  });
});
