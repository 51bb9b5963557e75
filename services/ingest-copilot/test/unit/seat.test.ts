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
});
