import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import {
  organizationMetricsRow,
  seat,
  seats,
  startGithubSimulator,
  usageRecords,
  userMetricsRows,
  type GithubSimulator,
} from "@aiaudit/sim-github";
import { client, followAll, links, TOKEN } from "./helpers.ts";

const HOUR = 3600_000;
const NOW = Date.parse("2026-11-21T12:00:00Z");
let clock = NOW;
let sim: GithubSimulator;
const get = client(() => sim);

const reference = JSON.parse(
  readFileSync(new URL("../reference/copilot-openapi-subset.json", import.meta.url), "utf8"),
) as { components: { examples: Record<string, { value: unknown }> } };
const example = (name: string) => reference.components.examples[name]?.value;

const DAY = "2026-11-20";
const users = Array.from({ length: 5 }, (_, i) => ({ login: `acme-dev-${i + 1}`, id: 10_000 + i }));
const userRows = userMetricsRows(DAY, users, { organizationId: 1 });

before(async () => {
  sim = await startGithubSimulator({
    tokens: [TOKEN],
    now: () => clock,
    reportRowsPerFile: 2,
    downloadLinkTtlMs: 10 * 60_000,
    orgs: {
      acme: {
        id: 1,
        seats: seats("acme", 20),
        copilot: { seat_management_setting: "assign_all", pending_invitation: 3 },
        reports: {
          "users-1-day": { [DAY]: userRows },
          "organization-1-day": { [DAY]: [organizationMetricsRow(DAY, 1, userRows)] },
          "users-28-day": { "2026-11-19": userRows, [DAY]: userRows },
        },
      },
    },
    enterprises: {
      bigcorp: {
        id: 7,
        seats: [
          seat({ org: "acme", login: "alice", id: 1, orgId: 1 }),
          seat({ org: "beta", login: "alice", id: 1, orgId: 2, teamSlug: "ai" }),
          seat({ org: "acme", login: "bob", id: 2, orgId: 1 }),
        ],
        usageRecords: [
          ...usageRecords(7, 60, { startMs: NOW - 47 * HOUR, stepMs: 60_000, userIds: [10_000, 10_001] }),
          ...usageRecords(7, 4, { startMs: NOW - 50 * HOUR, idPrefix: "old-" }),
        ],
      },
    },
  });
});
after(() => sim.close());

describe("GET /orgs/{org}/copilot/billing", () => {
  it("has the keys of the reference example, a seat breakdown derived from the seats, and policies", async () => {
    const res = await get("/orgs/acme/copilot/billing");
    assert.equal(res.status, 200);
    const body = (await res.json()) as Record<string, unknown> & { seat_breakdown: Record<string, number> };
    const ref = example("copilot-organization-details") as Record<string, unknown>;
    assert.deepEqual(Object.keys(body).sort(), Object.keys(ref).sort());
    assert.deepEqual(
      Object.keys(body.seat_breakdown).sort(),
      Object.keys(ref.seat_breakdown as object).sort(),
    );
    // seats("acme", 20): every 10th pending cancellation, every 7th never active, all created in January.
    assert.deepEqual(body.seat_breakdown, {
      total: 20,
      added_this_cycle: 0,
      pending_invitation: 3,
      pending_cancellation: 2,
      active_this_cycle: 18,
      inactive_this_cycle: 2,
    });
    assert.equal(body.seat_management_setting, "assign_all");
    assert.equal(body.public_code_suggestions, "block");
  });
});

describe("seats", () => {
  it("the enterprise lists a user once per granting org or team; total_seats counts users once", async () => {
    const body = (await (await get("/enterprises/bigcorp/copilot/billing/seats")).json()) as {
      total_seats: number;
      seats: { organization: { login: string } }[];
    };
    assert.equal(body.total_seats, 2);
    assert.equal(body.seats.length, 3);
    assert.deepEqual(
      body.seats.map((s) => s.organization.login),
      ["acme", "beta", "acme"],
    );
  });

  it("per-user seat details", async () => {
    const one = (await (await get("/orgs/acme/members/ACME-DEV-2/copilot")).json()) as {
      assignee: { login: string };
    };
    assert.equal(one.assignee.login, "acme-dev-2");
    assert.equal((await get("/orgs/acme/members/stranger/copilot")).status, 404);
    const ent = (await (await get("/enterprises/bigcorp/members/alice/copilot")).json()) as {
      total_seats: number;
      seats: unknown[];
    };
    assert.equal(ent.total_seats, 1);
    assert.equal(ent.seats.length, 2);
  });
});

type UsageItem = Record<string, unknown> & {
  "@timestamp": number;
  type: string;
  user_id: number;
  body: string;
};
const usage = async (query: string) =>
  (await (await get(`/enterprises/bigcorp/copilot/usage-records${query}`)).json()) as UsageItem[];

describe("GET /enterprises/{enterprise}/copilot/usage-records", () => {
  it("records have the reference fields, a JSON body with messages, prompt and tool calls", async () => {
    const [first] = await usage("?order=asc&per_page=2");
    const ref = (example("copilot-usage-records") as Record<string, unknown>[])[0] ?? {};
    assert.deepEqual(Object.keys(first ?? {}).sort(), [...Object.keys(ref), "event_id"].sort());
    const records = await usage("?order=asc&per_page=2");
    const request = JSON.parse(records[0]?.body ?? "") as { prompt: string; messages: unknown[] };
    const response = JSON.parse(records[1]?.body ?? "") as {
      choices: { message: { tool_calls: unknown[] } }[];
    };
    assert.ok(request.prompt && request.messages.length > 0);
    assert.ok((response.choices[0]?.message.tool_calls.length ?? 0) > 0);
    assert.equal(records[0]?.github_request_id, records[1]?.github_request_id);
  });

  it("clamps per_page to [1, 25], default 25, newest first", async () => {
    assert.equal((await usage("")).length, 25);
    assert.equal((await usage("?per_page=100")).length, 25);
    assert.equal((await usage("?per_page=0")).length, 1);
    assert.equal((await usage("?per_page=7")).length, 7);
    const desc = (await usage("")).map((r) => r["@timestamp"]);
    assert.ok(desc.every((t, i) => i === 0 || t < (desc[i - 1] ?? 0)));
  });

  it("serves only the last 48 hours, following the clock", async () => {
    const { items } = await followAll(get, "/enterprises/bigcorp/copilot/usage-records?order=asc");
    assert.equal(items.length, 60, "the 4 records from 50 h ago are not served");
    assert.ok(items.every((r) => !String(r.event_id).startsWith("old-")));
    clock = NOW + 1.5 * HOUR; // the first 30 minutes of records are now older than 48 h
    const later = await followAll(get, "/enterprises/bigcorp/copilot/usage-records?order=asc");
    assert.equal(later.items.length, 30);
    clock = NOW;
  });

  it("filters by type, user_id and created, and pages with after/before cursors", async () => {
    const requests = (await followAll(get, "/enterprises/bigcorp/copilot/usage-records?phrase=type:request"))
      .items;
    assert.equal(requests.length, 30);
    const mine = (
      await followAll(get, "/enterprises/bigcorp/copilot/usage-records?phrase=user_id:10001+type:response")
    ).items;
    assert.equal(mine.length, 15);
    assert.ok(mine.every((r) => r.user_id === 10_001 && r.type === "response"));
    const since = new Date(NOW - 47 * HOUR + 50 * 60_000).toISOString();
    const recent = (
      await followAll(get, `/enterprises/bigcorp/copilot/usage-records?phrase=created:>=${since}`)
    ).items;
    assert.equal(recent.length, 10);
    const page = await get("/enterprises/bigcorp/copilot/usage-records?per_page=10&order=asc");
    const next = new URL(links(page).next ?? "");
    assert.ok(next.searchParams.get("after"));
    assert.equal(next.searchParams.get("per_page"), "10");
    assert.equal((await get("/enterprises/bigcorp/copilot/usage-records?phrase=user_id:me")).status, 422);
  });
});

describe("metrics reports", () => {
  const report = async (path: string) => {
    const res = await get(path);
    assert.equal(res.status, 200, path);
    return (await res.json()) as {
      download_links: string[];
      report_day?: string;
      report_start_day?: string;
      report_end_day?: string;
    };
  };
  const download = async (url: string) => {
    const res = await fetch(url); // signed URL: no token
    return { status: res.status, text: await res.text(), type: res.headers.get("content-type") };
  };

  it("users-1-day: signed links serving NDJSON user rows (split across files)", async () => {
    const body = await report(`/orgs/acme/copilot/metrics/reports/users-1-day?day=${DAY}`);
    assert.equal(body.report_day, DAY);
    assert.equal(body.download_links.length, 3, "5 rows, 2 per file");
    const rows: Record<string, unknown>[] = [];
    for (const url of body.download_links) {
      assert.ok(url.startsWith(`${sim.url}/_downloads/`));
      const file = await download(url);
      assert.equal(file.status, 200);
      assert.equal(file.type, "application/x-ndjson");
      rows.push(
        ...file.text
          .trimEnd()
          .split("\n")
          .map((line) => JSON.parse(line) as Record<string, unknown>),
      );
    }
    assert.deepEqual(rows, userRows);
    for (const key of [
      "day",
      "user_id",
      "user_login",
      "code_generation_activity_count",
      "code_acceptance_activity_count",
      "loc_added_sum",
      "used_agent",
      "used_chat",
      "used_cli",
      "totals_by_ide",
      "totals_by_feature",
    ]) {
      assert.ok(key in (rows[0] ?? {}), key);
    }
  });

  it("an expired or tampered link gives 403", async () => {
    const [url = ""] = (await report(`/orgs/acme/copilot/metrics/reports/organization-1-day?day=${DAY}`))
      .download_links;
    assert.equal((await download(url)).status, 200);
    const tampered = url.replace(/sig=([^&]+)/, (_, sig: string) => `sig=${sig.slice(0, -2)}AA`);
    assert.equal((await download(tampered)).status, 403);
    const stretched = url.replace(/expires=(\d+)/, (_, e: string) => `expires=${Number(e) + 3600}`);
    assert.equal((await download(stretched)).status, 403);
    clock = NOW + 11 * 60_000;
    const expired = await download(url);
    assert.equal(expired.status, 403);
    assert.match(expired.text, /AuthenticationFailed/);
    clock = NOW;
  });

  it("204 for a day without data where declared, 404 elsewhere, 422 for a bad day", async () => {
    const empty = await get("/orgs/acme/copilot/metrics/reports/users-1-day?day=2026-11-01");
    assert.equal(empty.status, 204);
    assert.equal(await empty.text(), "");
    assert.equal(
      (await get("/enterprises/bigcorp/copilot/metrics/reports/enterprise-1-day?day=2026-11-01")).status,
      404,
    );
    assert.equal(
      (await get("/enterprises/bigcorp/copilot/metrics/reports/repos-1-day?day=2026-11-01")).status,
      204,
    );
    assert.equal((await get("/orgs/acme/copilot/metrics/reports/users-1-day?day=21-11-2026")).status, 422);
    assert.equal((await get("/orgs/acme/copilot/metrics/reports/bogus-1-day?day=2026-11-20")).status, 404);
    assert.equal((await get("/orgs/acme/copilot/metrics")).status, 404, "legacy metrics API is closed down");
  });

  it("28-day/latest gives the latest window, and enterprise reports work alike", async () => {
    const body = await report("/orgs/acme/copilot/metrics/reports/users-28-day/latest");
    assert.equal(body.report_end_day, DAY);
    assert.equal(body.report_start_day, "2026-10-24");
    sim.setReport("bigcorp", "users-1-day", DAY, userMetricsRows(DAY, users, { enterpriseId: 7 }), {
      enterprise: true,
    });
    const ent = await report(`/enterprises/bigcorp/copilot/metrics/reports/users-1-day?day=${DAY}`);
    const file = await download(ent.download_links[0] ?? "");
    assert.equal(
      (JSON.parse(file.text.split("\n")[0] ?? "") as { enterprise_id: string }).enterprise_id,
      "7",
    );
  });
});
