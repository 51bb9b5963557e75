import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createPseudonymizer } from "@aiaudit/crypto";
import { seat } from "@aiaudit/sim-github";
import { toSeatRecord } from "../../src/transforms/seat.ts";

const p = createPseudonymizer(Buffer.alloc(32, 1));
const reference = JSON.parse(
  readFileSync(
    new URL("../../../../simulators/github/reference/copilot-openapi-subset.json", import.meta.url),
    "utf8",
  ),
) as { components: { examples: Record<string, { value: { seats: unknown[] } }> } };

describe("toSeatRecord", () => {
  it("accepts GitHub's own seat examples (which omit assigning_team.type)", () => {
    const examples = reference.components.examples["copilot-seats-list"]?.value.seats ?? [];
    assert.equal(examples.length, 2);
    for (const raw of examples) {
      const result = toSeatRecord(raw, p);
      assert.ok(result.ok, result.ok ? "" : result.reason);
    }
    const first = toSeatRecord(examples[0], p);
    assert.ok(first.ok);
    assert.equal(first.seat.assignee_pseudonym, p.pseudonym("octocat"));
    assert.equal(first.seat.assigning_team, "justice-league");
    assert.equal(first.seat.created_at, Date.parse("2021-08-03T18:00:00-06:00"));
    assert.equal(first.seat.plan_type, "business");
  });

  it("keeps no login, name or URL of the person", () => {
    const result = toSeatRecord(seat({ org: "acme", login: "Mona-Lisa", id: 7 }), p);
    assert.ok(result.ok);
    assert.ok(!/mona/i.test(JSON.stringify(result.seat)));
  });

  it("tolerates unknown fields", () => {
    assert.ok(toSeatRecord({ ...seat({ org: "acme", login: "x", id: 1 }), brand_new_field: 1 }, p).ok);
  });

  it("rejects a seat without created_at or assignee, saying which field", () => {
    const noCreated = { ...seat({ org: "acme", login: "x", id: 1 }), created_at: undefined };
    const result = toSeatRecord(noCreated, p);
    assert.ok(!result.ok);
    assert.match(result.reason, /created_at/);
    const noAssignee = toSeatRecord({ ...seat({ org: "acme", login: "x", id: 1 }), assignee: null }, p);
    assert.ok(!noAssignee.ok);
    assert.match(noAssignee.reason, /assignee/);
  });

  it("rejects a malformed timestamp", () => {
    const result = toSeatRecord(
      { ...seat({ org: "acme", login: "x", id: 1 }), last_activity_at: "yesterday" },
      p,
    );
    assert.ok(!result.ok);
    assert.match(result.reason, /last_activity_at/);
  });

  it("rejects a date outside 2008-01-01 .. now+1d (defect 2), naming the field", () => {
    const now = Date.parse("2026-11-21T12:00:00Z");
    const base = seat({ org: "acme", login: "x", id: 1 });
    assert.ok(toSeatRecord(base, p, now).ok);
    for (const [field, value] of [
      ["created_at", "1970-01-21T01:13:20Z"],
      ["last_activity_at", "2026-11-23T12:00:00Z"],
      ["last_authenticated_at", "2999-01-01T00:00:00Z"],
    ] as const) {
      const result = toSeatRecord({ ...base, [field]: value }, p, now);
      assert.ok(!result.ok, `${field} ${value} accepted`);
      assert.match(result.reason, new RegExp(`${field} .*out of range`));
    }
  });

  it("accepts a pending cancellation at the start of next month, not in ten years", () => {
    const now = Date.parse("2026-11-21T12:00:00Z");
    const base = seat({ org: "acme", login: "x", id: 1 });
    assert.ok(toSeatRecord({ ...base, pending_cancellation_date: "2026-12-01" }, p, now).ok);
    const far = toSeatRecord({ ...base, pending_cancellation_date: "2036-12-01" }, p, now);
    assert.ok(!far.ok);
    assert.match(far.reason, /pending_cancellation_date/);
  });
});
