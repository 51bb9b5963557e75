/**
 * The simulator misbehaving the ways GitHub (or what stands in front of it) can: a 200 that is
 * HTML or JSON of the wrong shape, events served twice (across pages, across polls), timestamps
 * in the wrong unit, a burst of 100,000 events. Each mode is asserted here so that the ingest
 * tests built on it test the ingest, not the simulator.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  auditEvents,
  faults,
  seats,
  startGithubSimulator,
  usageRecords,
  type GithubSimulator,
} from "@aiaudit/sim-github";
import { client, followAll, links, TOKEN, type Event } from "./helpers.ts";

const START = Date.parse("2026-11-20T00:00:00Z");
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const clock = Date.parse("2026-11-21T12:00:00Z");
const AUDIT = "/orgs/acme/audit-log";
const SEATS = "/orgs/acme/copilot/billing/seats";
const USAGE = "/enterprises/bigcorp/copilot/usage-records";
let sim: GithubSimulator;
const get = client(() => sim);
const ids = (items: readonly Record<string, unknown>[]) =>
  items.map((e) => String(e._document_id ?? e.event_id));
const created = (iso: string) => encodeURIComponent(`created:>=${iso}`);

before(async () => {
  sim = await startGithubSimulator({
    tokens: [TOKEN],
    now: () => clock,
    orgs: {
      acme: {
        id: 1,
        seats: seats("acme", 120),
        auditEvents: auditEvents("acme", 100, { startMs: START, stepMs: MINUTE, agentEvery: 5 }),
      },
    },
    enterprises: {
      bigcorp: {
        id: 7,
        usageRecords: usageRecords(7, 60, { startMs: clock - 2 * HOUR, stepMs: MINUTE }),
      },
    },
  });
});
after(() => sim.close());

describe("faults: a 200 that is not what the reference documents", () => {
  it("html: 200 text/html on any route, N times, then the real answer", async () => {
    sim.injectFault(faults.html(/^\/orgs\/acme\//, { times: 2 }));
    for (const path of [SEATS, AUDIT]) {
      const res = await get(path);
      assert.equal(res.status, 200);
      assert.match(res.headers.get("content-type") ?? "", /^text\/html/);
      const text = await res.text();
      assert.match(text, /^<!DOCTYPE html>/);
      assert.throws(() => JSON.parse(text) as unknown, SyntaxError);
    }
    const real = await get(SEATS);
    assert.match(real.headers.get("content-type") ?? "", /^application\/json/);
    assert.equal(((await real.json()) as { total_seats: number }).total_seats, 120);
    assert.deepEqual(
      sim.requests.slice(-3).map((r) => r.fault),
      ["html", "html", undefined],
    );
  });

  it("body: valid JSON of the wrong shape (an object for an array, no seats, null), then the real answer", async () => {
    sim.injectFault(faults.body(AUDIT, { message: "not a list" }));
    sim.injectFault(faults.body(SEATS, { total_seats: 3 }));
    sim.injectFault(faults.body(USAGE, null));
    const audit = await get(`${AUDIT}?order=asc`);
    assert.equal(audit.status, 200);
    assert.match(audit.headers.get("content-type") ?? "", /^application\/json/);
    assert.deepEqual(await audit.json(), { message: "not a list" });
    assert.equal(audit.headers.get("link"), null);
    assert.deepEqual(await (await get(SEATS)).json(), { total_seats: 3 });
    const usage = await get(USAGE);
    assert.equal(usage.status, 200);
    assert.equal(await usage.text(), "null");
    assert.equal(((await (await get(`${AUDIT}?order=asc`)).json()) as Event[]).length, 30);
    assert.equal(sim.requests.at(-2)?.fault, "body");
  });

  it("rewrite: the real answer and its Link header, with the body changed (total_seats disagrees)", async () => {
    sim.injectFault(faults.rewrite(SEATS, (b) => ({ ...(b as object), total_seats: 999 }), { times: 2 }));
    const first = await get(`${SEATS}?per_page=50`);
    const body = (await first.json()) as { total_seats: number; seats: unknown[] };
    assert.equal(body.total_seats, 999);
    assert.equal(body.seats.length, 50, "the seats are the real page");
    assert.ok(links(first).next, "the traversal can go on");
    const second = (await (await get(links(first).next ?? "")).json()) as { total_seats: number };
    assert.equal(second.total_seats, 999);
    assert.equal(((await (await get(SEATS)).json()) as { total_seats: number }).total_seats, 120);
    assert.equal(sim.requests.at(-2)?.fault, "rewrite");
  });

  it("rewrite leaves an error answer alone", async () => {
    sim.injectFault(faults.rewrite("/orgs/nobody/copilot/billing/seats", () => ({ seats: [] })));
    const res = await get("/orgs/nobody/copilot/billing/seats");
    assert.equal(res.status, 404);
    assert.equal(((await res.json()) as { message: string }).message, "Not Found");
  });
});

describe("repeats: the same event id, the same content, served again", () => {
  it("repeatAcrossPages: each page after the first starts with the last K of the page before", async () => {
    const org = sim.orgs.get("acme");
    assert.ok(org);
    org.repeatAcrossPages = 3;
    try {
      const bodies: Event[][] = [];
      let url: string | undefined = `${AUDIT}?order=asc&per_page=10`;
      while (url) {
        const res = await get(url);
        bodies.push((await res.json()) as Event[]);
        url = links(res).next;
      }
      assert.equal(bodies.length, 10, "the traversal still advances per_page events a page");
      const items = bodies.flat();
      assert.equal(items.length, 100 + 3 * 9);
      assert.deepEqual([...new Set(ids(items))], ids(org.auditEvents ?? []));
      for (let i = 1; i < bodies.length; i++) {
        assert.deepEqual(bodies[i]?.slice(0, 3), bodies[i - 1]?.slice(-3), `page ${i + 1} repeats`);
      }
      // Only events the phrase selects are repeated, in either order.
      const agents = await followAll(get, `${AUDIT}?order=desc&per_page=5&phrase=actor:Copilot`);
      assert.equal(agents.items.length, 20 + 3 * 3);
      assert.ok(agents.items.every((e) => e.actor === "Copilot"));
    } finally {
      org.repeatAcrossPages = 0;
    }
    assert.equal((await followAll(get, `${AUDIT}?order=asc&per_page=10`)).items.length, 100);
  });

  it("repeatAcrossPages also applies to usage records", async () => {
    const enterprise = sim.enterprises.get("bigcorp");
    assert.ok(enterprise);
    enterprise.repeatAcrossPages = 2;
    try {
      const { items, pages } = await followAll(get, `${USAGE}?order=asc`);
      assert.equal(pages.length, 3);
      assert.equal(items.length, 60 + 2 * 2);
      assert.equal(new Set(ids(items)).size, 60);
    } finally {
      enterprise.repeatAcrossPages = 0;
    }
  });

  it("repeatAcrossPolls: a new traversal starts with the last K events an earlier one served, outside its created: range", async () => {
    const org = sim.orgs.get("acme");
    assert.ok(org);
    const phrase = (iso: string) => `${AUDIT}?order=asc&per_page=100&phrase=action:copilot+${created(iso)}`;
    const firstPoll = await followAll(get, phrase("2026-11-20T01:00:00Z"));
    assert.equal(firstPoll.items.length, 32);
    org.repeatAcrossPolls = 4;
    try {
      sim.addAuditEvents("acme", auditEvents("acme", 3, { startMs: START + 3 * HOUR, idPrefix: "new-" }));
      const secondPoll = await followAll(get, phrase("2026-11-20T02:00:00Z"));
      assert.deepEqual(
        secondPoll.items.slice(0, 4),
        firstPoll.items.slice(-4),
        "the same events, same content",
      );
      assert.ok(
        secondPoll.items.slice(0, 4).every((e) => e["@timestamp"] < START + 2 * HOUR),
        "older than the range asked for",
      );
      assert.deepEqual(ids(secondPoll.items.slice(-3)), ["new-0", "new-1", "new-2"]);
      // Another list (phrase) has its own memory: agent events are not served to action:copilot.
      await followAll(get, `${AUDIT}?order=asc&per_page=100&phrase=actor:Copilot`);
      const third = await followAll(get, phrase("2026-11-20T03:00:00Z"));
      assert.deepEqual(ids(third.items), ids([...secondPoll.items.slice(-4), ...third.items.slice(4)]));
      assert.ok(third.items.every((e) => e.action.startsWith("copilot")));
    } finally {
      org.repeatAcrossPolls = 0;
    }
    assert.equal((await followAll(get, phrase("2026-11-20T03:00:00Z"))).items.length, 3);
  });
});

describe("timestamps in the wrong unit", () => {
  it("are ordered, filtered and paged by their real time; the body keeps the raw value", async () => {
    const base = auditEvents("units", 10, { startMs: START, stepMs: MINUTE, idPrefix: "ms-" });
    const at = (minutes: number) => START + minutes * MINUTE + 30_000;
    const seconds = {
      ...base[0],
      _document_id: "seconds",
      "@timestamp": at(2) / 1000,
      created_at: at(2) / 1000,
    };
    const micros = {
      ...base[0],
      _document_id: "micros",
      "@timestamp": at(5) * 1000,
      created_at: at(5) * 1000,
    };
    const nanos = { ...base[0], _document_id: "nanos", "@timestamp": at(7) * 1e6, created_at: at(7) * 1e6 };
    sim.addAuditEvents("units", [...base, micros, seconds, nanos]);
    const { items } = await followAll(get, "/orgs/units/audit-log?order=asc&per_page=3");
    assert.deepEqual(ids(items), [
      "ms-0",
      "ms-1",
      "ms-2",
      "seconds",
      "ms-3",
      "ms-4",
      "ms-5",
      "micros",
      "ms-6",
      "ms-7",
      "nanos",
      "ms-8",
      "ms-9",
    ]);
    assert.equal(items[3]?.["@timestamp"], at(2) / 1000, "served as sent");
    const since = new Date(at(4)).toISOString();
    const window = await followAll(get, `/orgs/units/audit-log?order=desc&phrase=${created(since)}`);
    assert.deepEqual(ids(window.items), ["ms-9", "ms-8", "nanos", "ms-7", "ms-6", "micros", "ms-5"]);
  });
});

describe("a burst: 100,000 events in one hour", () => {
  it("spreads the events over the hour, ids unique, and a page costs about as much as on a small log", async () => {
    const burst = auditEvents("burst", 100_000, { startMs: START, spanMs: HOUR, agentEvery: 5 });
    const stamps = burst.map((e) => e["@timestamp"] as number);
    assert.equal(stamps[0], START);
    assert.ok(stamps.every((t, i) => t < START + HOUR && (i === 0 || t >= (stamps[i - 1] ?? 0))));
    assert.equal(new Set(ids(burst)).size, 100_000);
    const small = auditEvents("small", 2_000, { startMs: START, spanMs: HOUR, agentEvery: 5 });
    const big = await startGithubSimulator({
      tokens: [TOKEN],
      orgs: {
        burst: { id: 2, seats: [], auditEvents: burst },
        small: { id: 3, seats: [], auditEvents: small },
      },
    });
    try {
      const bget = client(() => big);
      /** Median ms per page over `pages` pages of a created: window, after a first page. */
      const pageMs = async (org: string, pages: number) => {
        const first = `/orgs/${org}/audit-log?order=asc&per_page=100&phrase=action:copilot+${created("2026-11-20T00:10:00Z")}`;
        let url = links(await bget(first)).next;
        const times: number[] = [];
        for (let i = 0; i < pages && url; i++) {
          const started = performance.now();
          const res = await bget(url);
          assert.equal(((await res.json()) as Event[]).length, 100);
          times.push(performance.now() - started);
          url = links(res).next;
        }
        assert.equal(times.length, pages);
        return times.sort((a, b) => a - b)[pages >> 1] ?? Infinity;
      };
      // The big log first: the small one is then measured warm, and cannot hide a slow big one.
      const bigMs = await pageMs("burst", 30);
      const smallMs = await pageMs("small", 10);
      // A sort or a scan of the whole log per page would make this 10 to 30 times slower.
      assert.ok(
        bigMs < Math.max(5 * smallMs, 10),
        `a page of 100,000 events: ${bigMs} ms, of 2,000: ${smallMs} ms`,
      );
      const oneMinute = await followAll(
        bget,
        `/orgs/burst/audit-log?per_page=100&phrase=${encodeURIComponent("created:2026-11-20T00:30:00Z..2026-11-20T00:30:59.999Z")}`,
      );
      const expected = burst.filter((e) => {
        const t = e["@timestamp"] as number;
        return t >= START + 30 * MINUTE && t < START + 31 * MINUTE;
      });
      assert.deepEqual(new Set(ids(oneMinute.items)), new Set(ids(expected)));
      assert.equal(oneMinute.items.length, expected.length);
    } finally {
      await big.close();
    }
  });
});
