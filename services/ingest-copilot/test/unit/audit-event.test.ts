/**
 * The audit-event transform (issue 6): raw_json keeps no person identifier (defect 6a), an
 * implausible @timestamp is rejected naming the unit that would fit (defect 2), and a rejected
 * event always carries an id the stream can remember (defect 7).
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { createPseudonymizer } from "@aiaudit/crypto";
import { auditEvents } from "@aiaudit/sim-github";
import { toAuditEvent } from "../../src/transforms/audit-event.ts";

const p = createPseudonymizer(Buffer.alloc(32, 4));
const now = Date.parse("2026-11-21T12:00:00Z");
const ctx = { tenant: "t", org: "acme", scope: "ORGANIZATION" as const, pseudonymizer: p, now };
const [human, agent] = auditEvents("acme", 2, { startMs: now - 3_600_000, agentEvery: 2 });

describe("toAuditEvent", () => {
  it("keeps no login, numeric user id, email or IP address in raw_json", () => {
    const raw = {
      ...human,
      actor_ip: "198.51.100.23",
      external_identity_nameid: "admin@acme.example",
    };
    const r = toAuditEvent(raw, ctx);
    assert.ok(r.ok, r.ok ? "" : r.reason);
    const text = r.event.raw_json;
    for (const leak of ["acme-admin", "acme-dev-1", "198.51.100.23", "admin@acme.example"])
      assert.ok(!text.includes(leak), `${leak} in ${text}`);
    assert.ok(!/(?<![0-9])(9000|10000)(?![0-9])/.test(text), text);
    const stored = JSON.parse(text) as Record<string, unknown>;
    assert.equal(stored.actor, `hmac:${r.event.actor_pseudonym}`);
    assert.equal(stored.user, `hmac:${r.event.user_pseudonym}`);
    assert.equal(stored.actor_id, `hmac:${p.pseudonym("id:9000")}`);
    assert.equal(stored._document_id, human?._document_id);
    assert.equal(stored.action, human?.action);
  });

  it("an agent event keeps the agent's name and id, not its user's", () => {
    const r = toAuditEvent(agent, ctx);
    assert.ok(r.ok);
    assert.equal(r.event.actor_agent, "Copilot");
    const stored = JSON.parse(r.event.raw_json) as Record<string, unknown>;
    assert.equal(stored.actor, "Copilot");
    assert.equal(stored.actor_id, 198_982_749);
    assert.equal(stored.user, `hmac:${p.pseudonym("acme-dev-2")}`);
  });

  for (const [unit, value] of [
    ["microseconds", 1_733_000_000_000_000],
    ["nanoseconds", 1_733_000_000_000_000_000],
    ["seconds", 1_733_000_000],
  ] as const) {
    it(`rejects an @timestamp in ${unit}, saying so, without passing the time on`, () => {
      const r = toAuditEvent({ ...human, "@timestamp": value }, ctx);
      assert.ok(!r.ok);
      assert.match(
        r.reason,
        new RegExp(`@timestamp ${value} is out of range \\(2008-01-01 \\.\\. now\\+1d\\): ${unit}\\?`),
      );
      assert.equal(r.id, human?._document_id);
      assert.equal(r.timestamp, undefined);
    });
  }

  it("accepts a time up to a day ahead of now, not more", () => {
    assert.ok(toAuditEvent({ ...human, "@timestamp": now + 86_000_000 }, ctx).ok);
    const r = toAuditEvent({ ...human, "@timestamp": now + 2 * 86_400_000 }, ctx);
    assert.ok(!r.ok);
    assert.match(r.reason, /out of range/);
  });

  it("a rejected event without a document id gets a stable keyed id of its raw form", () => {
    const broken = { ...human, _document_id: undefined, action: 7 };
    const a = toAuditEvent(broken, ctx);
    const b = toAuditEvent(structuredClone(broken), ctx);
    assert.ok(!a.ok && !b.ok);
    assert.match(a.id, /^raw:[0-9a-f]{64}$/);
    assert.equal(a.id, b.id);
    assert.equal(a.timestamp, human?.["@timestamp"]);
    assert.notEqual(a.id, (toAuditEvent({ ...broken, org: "other" }, ctx) as { id: string }).id);
    assert.notEqual(
      a.id,
      (
        toAuditEvent(broken, { ...ctx, pseudonymizer: createPseudonymizer(Buffer.alloc(32, 5)) }) as {
          id: string;
        }
      ).id,
    );
    const nothing = toAuditEvent(null, ctx);
    assert.ok(!nothing.ok);
    assert.match(nothing.id, /^raw:/);
  });
});
