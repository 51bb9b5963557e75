import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import { createPseudonymizer } from "@aiaudit/crypto";
import { usageRecords } from "@aiaudit/sim-github";
import { toUsageRecord } from "../../src/transforms/usage-record.ts";

const p = createPseudonymizer(Buffer.alloc(32, 3));
const ctx = { tenant: "t", enterprise: "ent", pseudonymizer: p, keepContent: false, now: 1_790_000_100_000 };
const [request, response] = usageRecords(7, 2, { startMs: 1_790_000_000_000 });
const reference = JSON.parse(
  readFileSync(
    new URL("../../../../simulators/github/reference/copilot-openapi-subset.json", import.meta.url),
    "utf8",
  ),
) as { components: { examples: Record<string, { value: unknown[] }> } };

describe("toUsageRecord", () => {
  it("keeps no prompt, response or tool argument by default, only keyed hashes and lengths", () => {
    const r = toUsageRecord(request, ctx);
    assert.ok(r.ok);
    const text = JSON.stringify(r.record);
    assert.ok(!text.includes("Add input validation"), text);
    assert.equal(r.record.body, null);
    const digest = JSON.parse(r.record.body_digest_json) as {
      prompt: { hmac: string; length: number };
      model: string;
    };
    assert.equal(digest.model, "gpt-4.1");
    assert.equal(digest.prompt.length, "Add input validation to handler 0".length);
    assert.equal(digest.prompt.hmac, p.mac("Add input validation to handler 0"));
    assert.deepEqual(r.record.tool_names, ["read_file", "edit_file"]);
    assert.equal(r.record.body_hmac, p.mac((request as { body: string }).body));
    assert.equal(r.record.user_pseudonym, p.pseudonym("id:10000"));
  });
  it("names the tools a response called, and hides their arguments", () => {
    const r = toUsageRecord(response, ctx);
    assert.ok(r.ok);
    assert.deepEqual(r.record.tool_names, ["read_file"]);
    assert.ok(!r.record.body_digest_json.includes("src/handlers"));
  });
  it("keeps the body when the tenant chose to", () => {
    const r = toUsageRecord(request, { ...ctx, keepContent: true });
    assert.ok(r.ok);
    assert.equal(r.record.body, (request as { body: string }).body);
  });
  it("accepts GitHub's example records, which have no event_id", () => {
    const examples = reference.components.examples["copilot-usage-records"]?.value ?? [];
    assert.ok(examples.length > 0);
    const ids = examples.map((raw) => {
      const r = toUsageRecord(raw, ctx);
      assert.ok(r.ok, r.ok ? "" : r.reason);
      return r.record.record_id;
    });
    assert.equal(new Set(ids).size, ids.length);
  });
  it("rejects a record without a body or timestamp, saying which", () => {
    const r = toUsageRecord({ type: "request", event_id: "x" }, ctx);
    assert.ok(!r.ok);
    assert.match(r.reason, /body/);
    assert.match(r.reason, /@timestamp/);
  });

  it("rejects an @timestamp in microseconds (defect 2) and keeps the record's id, not its time", () => {
    const r = toUsageRecord({ ...request, "@timestamp": 1_790_000_000_000_000 }, ctx);
    assert.ok(!r.ok);
    assert.match(
      r.reason,
      /@timestamp 1790000000000000 is out of range \(2008-01-01 \.\. now\+1d\): microseconds\?/,
    );
    assert.equal(r.id, (request as { event_id: string }).event_id);
    assert.equal(r.timestamp, undefined);
  });
  it("a rejected record without event_id or request id gets a stable keyed id of its raw form", () => {
    const raw = { type: "request", body: "{}", "@timestamp": 1_790_000_000_000 };
    const a = toUsageRecord(raw, ctx);
    assert.ok(!a.ok);
    assert.match(a.reason, /event_id or github_request_id/);
    assert.equal(a.id, `raw:${p.mac(JSON.stringify(raw))}`);
    assert.equal(a.timestamp, 1_790_000_000_000);
  });
});
