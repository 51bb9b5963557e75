/**
 * Issue 6 (defect 6a): every person identifier in a stored payload is pseudonymized against the
 * allow-list of its kind. Each kind is tested with GitHub's own examples
 * (simulators/github/reference) plus injected logins, numeric ids, emails and IP addresses.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createPseudonymizer, pseudonymizeDeep, type PayloadKind } from "@aiaudit/crypto";

const p = createPseudonymizer(Buffer.alloc(32, 6));
const hmac = (identity: string) => `hmac:${p.pseudonym(identity)}`;

const reference = JSON.parse(
  readFileSync(
    new URL("../../../../simulators/github/reference/copilot-openapi-subset.json", import.meta.url),
    "utf8",
  ),
) as { components: { examples: Record<string, { value: unknown }> } };
const example = (name: string): unknown => structuredClone(reference.components.examples[name]?.value);

/** A person as they appear in GitHub payloads. */
const person = {
  login: "jdoe-person",
  id: 583231,
  email: "jane.doe@corp.example",
  ipv4: "203.0.113.77",
  ipv6: "2001:db8::7334",
  name: "Jane Doe",
};

/** Text of `out` as stored, and the identifiers of `person` found in it (an id only as a whole number). */
function leaks(out: unknown, who = person): string[] {
  const text = JSON.stringify(out);
  const found = [who.login, who.email, who.ipv4, who.ipv6, who.name].filter((s) =>
    text.toLowerCase().includes(s.toLowerCase()),
  );
  if (new RegExp(`(?<![0-9])${who.id}(?![0-9])`).test(text)) found.push(String(who.id));
  return found;
}

describe("pseudonymizeDeep: audit events", () => {
  type Event = Record<string, unknown>;
  const events = example("audit-log") as Event[];

  it("GitHub's examples keep actions, ids, times and places; actor and user become pseudonyms", () => {
    assert.equal(events.length, 3);
    for (const event of events) {
      const out = pseudonymizeDeep(event, p, "audit-event") as Event;
      for (const key of [
        "@timestamp",
        "created_at",
        "_document_id",
        "action",
        "org",
        "repo",
        "team",
        "visibility",
      ])
        assert.deepEqual(out[key], event[key], key);
      assert.equal(out.actor, hmac(String(event.actor)));
      if (event.user !== undefined) assert.equal(out.user, hmac(event.user as string));
      assert.ok(!/"(octocat|monalisa)"/.test(JSON.stringify(out)), JSON.stringify(out));
    }
  });

  it("numeric user ids, emails, IP addresses and unknown fields never stay in clear", () => {
    const event = {
      ...events[0],
      actor: person.login,
      actor_id: person.id,
      user_id: String(person.id),
      actor_ip: person.ipv4,
      actor_location: { country_code: "DE", country_name: "Germany", city: "Cologne" },
      external_identity_nameid: person.email,
      external_identity_username: person.name,
      data: { old_login: person.login, ip: person.ipv6, nested: [{ email: person.email, url: "x" }] },
      // A field GitHub might add: not on the allow-list, so pseudonymized.
      brand_new_field: person.login,
      hook_id: 12,
    };
    const out = pseudonymizeDeep(event, p, "audit-event") as Event;
    assert.deepEqual(leaks(out), []);
    assert.equal(out.actor_id, hmac(`id:${person.id}`), "a numeric id is pseudonymized as id:<n>");
    assert.equal(out.user_id, hmac(`id:${person.id}`), "a string of digits is an id too");
    assert.equal(out.actor_ip, hmac(person.ipv4));
    assert.equal(out.brand_new_field, hmac(person.login));
    assert.deepEqual(out.actor_location, {
      country_code: "DE",
      country_name: "Germany",
      city: hmac("Cologne"),
    });
    assert.equal(out.hook_id, 12);
    assert.equal(
      (out.data as { nested: { url?: string }[] }).nested[0]?.url,
      undefined,
      "a person's URL is dropped",
    );
  });

  it("an agent actor keeps its name and id; the person it acted for does not", () => {
    const event = {
      "@timestamp": 1_790_000_000_000,
      _document_id: "agent-1",
      action: "pull_request.create",
      actor: "Copilot",
      actor_id: 198_982_749,
      actor_is_agent: true,
      agent_session_id: "0d4b6c9e-1a2b-4c3d-8e9f-001122334455",
      user: person.login,
      user_id: person.id,
    };
    const out = pseudonymizeDeep(event, p, "audit-event") as Event;
    assert.equal(out.actor, "Copilot");
    assert.equal(out.actor_id, 198_982_749);
    assert.equal(out.agent_session_id, event.agent_session_id);
    assert.deepEqual(leaks(out), []);
    // A person is never kept by claiming to be an agent anywhere but the top level.
    const nested = pseudonymizeDeep({ data: event }, p, "audit-event");
    assert.ok(!JSON.stringify(nested).includes("Copilot"));
  });

  it("an email or IP address inside a field kept in clear is still replaced", () => {
    const out = pseudonymizeDeep(
      {
        action: "copilot.policy_updated",
        repo: `acme/${person.email}`,
        controller_action: `from ${person.ipv4}, then [${person.ipv6}]:443`,
        request_id: person.ipv6,
        created_at: 1_790_000_000_000,
        team: "acme/core",
      },
      p,
      "audit-event",
    ) as Event;
    assert.deepEqual(leaks(out), []);
    assert.equal(out.repo, `acme/${hmac(person.email)}`);
    assert.equal(out.controller_action, `from ${hmac(person.ipv4)}, then [${hmac(person.ipv6)}]:443`);
    assert.equal(out.request_id, hmac(person.ipv6));
    assert.equal(out.team, "acme/core");
  });

  it("an allowed field that turns into an object is walked, not kept whole", () => {
    const out = pseudonymizeDeep({ action: { by: person.login, id: person.id } }, p, "audit-event");
    assert.deepEqual(leaks(out), []);
  });
});

describe("pseudonymizeDeep: seats", () => {
  type Seat = Record<string, unknown> & { assignee: Record<string, unknown> };
  const { seats } = example("copilot-seats-list") as { seats: Seat[] };

  it("GitHub's examples keep dates, plan, editor, org and team; the assignee is a pseudonym without URLs", () => {
    for (const seat of seats) {
      const out = pseudonymizeDeep(seat, p, "seat") as Seat;
      for (const key of [
        "created_at",
        "last_activity_at",
        "last_activity_editor",
        "pending_cancellation_date",
      ])
        assert.deepEqual(out[key], seat[key], key);
      assert.deepEqual(out.assigning_team, seat.assigning_team);
      assert.deepEqual(out.assignee, {
        login: hmac(String(seat.assignee.login)),
        id: hmac(`id:${String(seat.assignee.id)}`),
        type: "User",
        site_admin: false,
      });
      assert.ok(!/octocat|octokitten/.test(JSON.stringify(out)));
    }
  });

  it("a seat with a named, emailed assignee in an enterprise listing leaks none of it", () => {
    const [first] = seats;
    const seat = {
      ...first,
      assignee: {
        ...first?.assignee,
        login: person.login,
        id: person.id,
        name: person.name,
        email: person.email,
      },
      organization: { login: "acme", id: 42, url: "https://api.github.com/orgs/acme", description: null },
    };
    const out = pseudonymizeDeep(seat, p, "seat") as Seat;
    assert.deepEqual(leaks(out), []);
    assert.deepEqual(out.organization, seat.organization, "the granting organization stays in clear");
  });
});

describe("pseudonymizeDeep: usage records", () => {
  type UsageRecord = Record<string, unknown>;
  const records = example("copilot-usage-records") as UsageRecord[];

  it("GitHub's examples keep type, ids of the request and enterprise, endpoint and time; user and body are hashed", () => {
    for (const record of records) {
      const out = pseudonymizeDeep(record, p, "usage-record") as UsageRecord;
      for (const key of ["type", "enterprise_id", "github_request_id", "endpoint", "@timestamp"])
        assert.deepEqual(out[key], record[key], key);
      assert.equal(out.user_id, hmac("id:12345"));
      assert.equal(out.body, hmac(String(record.body)));
    }
  });

  it("an email in a prompt or an unknown field leaks nothing", () => {
    const out = pseudonymizeDeep(
      {
        ...records[0],
        user_id: person.id,
        body: JSON.stringify({
          messages: [{ role: "user", content: `mail ${person.email} from ${person.ipv4}` }],
        }),
        user_login: person.login,
      },
      p,
      "usage-record",
    );
    assert.deepEqual(leaks(out), []);
  });
});

describe("pseudonymizeDeep: metrics rows", () => {
  /** A users-1-day row as the docs example shows it (reference §7a). */
  const userRow = {
    day: "2026-11-20",
    enterprise_id: "77",
    user_id: person.id,
    user_login: person.login,
    code_generation_activity_count: 9,
    code_acceptance_activity_count: 4,
    loc_added_sum: 32,
    used_agent: true,
    used_chat: true,
    used_cli: false,
    totals_by_cli: {
      session_count: 1,
      token_usage: { output_tokens_sum: 5000 },
      last_known_cli_version: { cli_version: "0.0.350", sampled_at: "2026-11-20T12:00:00Z" },
    },
    totals_by_ide: [{ ide: "vscode", code_generation_activity_count: 9 }],
    totals_by_language_model: [{ language: "typescript", model: "gpt-4.1", loc_added_sum: 32 }],
    etl_id: "etl-1",
  };

  it("keeps the day, the counts and the breakdowns; the user's login and id become pseudonyms", () => {
    const out = pseudonymizeDeep(userRow, p, "metrics-row") as typeof userRow;
    assert.deepEqual(leaks(out), []);
    assert.equal(out.user_login, hmac(person.login));
    assert.equal(out.user_id, hmac(`id:${person.id}`));
    assert.deepEqual({ ...out, user_login: "", user_id: "" }, { ...userRow, user_login: "", user_id: "" });
  });

  it("an organization row's day totals stay whole", () => {
    const row = {
      report_start_day: "2026-11-20",
      report_end_day: "2026-11-20",
      organization_id: "42",
      day_totals: [{ day: "2026-11-20", daily_active_users: 2, loc_added_sum: 40 }],
    };
    assert.deepEqual(pseudonymizeDeep(row, p, "metrics-row"), row);
  });
});

describe("pseudonymizeDeep: fail closed", () => {
  /**
   * Random nested payloads with a person's identifiers in random places. A field on an allow-list
   * keeps its value by design, so there only emails and IP addresses are placed.
   */
  function randomPayload(seed: number, depth = 0): unknown {
    let s = seed;
    const next = () => (s = (s * 1_103_515_245 + 12_345) % 2_147_483_648);
    const pick = <T>(list: readonly T[]): T => list[next() % list.length] as T;
    const anything = [
      person.login,
      person.id,
      person.email,
      person.ipv4,
      person.ipv6,
      `${person.name}!`,
      true,
      null,
    ];
    const addresses = [person.email, person.ipv4, person.ipv6, `x ${person.email} y`, `at ${person.ipv4}:22`];
    const keys = [
      "login",
      "id",
      "user",
      "data",
      "name",
      "assignee",
      "user_id",
      "actor",
      "body",
      "created_at",
      "action",
    ];
    const out: Record<string, unknown> = {};
    for (let i = 0; i < 4; i++) {
      const key = pick(keys);
      const roll = next() % 4;
      out[key] =
        key === "created_at" || key === "action"
          ? pick(addresses)
          : roll === 0 && depth < 3
            ? randomPayload(next(), depth + 1)
            : roll === 1 && depth < 3
              ? [randomPayload(next(), depth + 1), pick(anything)]
              : pick(anything);
    }
    return out;
  }

  for (const kind of ["audit-event", "seat", "usage-record", "metrics-row", "unknown"] as PayloadKind[]) {
    it(`${kind}: no identifier survives anywhere in 200 random payloads`, () => {
      for (let seed = 1; seed <= 200; seed++) {
        const raw = randomPayload(seed * 7919 + kind.length);
        assert.deepEqual(leaks(pseudonymizeDeep(raw, p, kind)), [], JSON.stringify(raw));
      }
    });
  }

  it("without a kind nothing is kept in clear but the structure, booleans and nulls", () => {
    const out = pseudonymizeDeep({ action: "x", n: 1, ok: true, none: null, list: ["a"] }, p);
    assert.deepEqual(out, { action: hmac("x"), n: hmac("id:1"), ok: true, none: null, list: [hmac("a")] });
  });

  it("leaves version strings and ISO times alone (they look like neither an email nor an IP)", () => {
    const seat = {
      last_activity_editor: "vscode/1.77.3/copilot/1.86.82",
      last_activity_at: "2021-10-14T00:53:32-06:00",
    };
    assert.deepEqual(pseudonymizeDeep(seat, p, "seat"), seat);
  });
});
