/** The sink's pure transforms: the range check on times, and rows per table per record kind. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { CopilotSeatSnapshotRecord } from "@aiaudit/contracts";
import { auditEventRows, metricsRowRows } from "../../src/transforms/event-rows.ts";
import { seatRecordRows } from "../../src/transforms/seat-rows.ts";
import { dayMs, EARLIEST_MS, timeRangeViolation } from "../../src/transforms/time-range.ts";
import { auditEvent, HOUR } from "../fixtures.ts";

const now = Date.UTC(2026, 5, 1);

describe("time range check", () => {
  it("accepts times from 2008 to a day ahead, and null", () => {
    assert.equal(
      timeRangeViolation({ a: EARLIEST_MS, b: now + 24 * HOUR, c: null, d: now - 365 * 24 * HOUR }, now),
      undefined,
    );
  });

  it("refuses microseconds, seconds, the far future and non-numbers, naming the field", () => {
    const micro = now * 1000;
    assert.match(
      timeRangeViolation({ created_at: micro }, now) ?? "",
      /^created_at 1780272000000000 is not a time/,
    );
    assert.match(timeRangeViolation({ taken_at: now / 1000 }, now) ?? "", /^taken_at /);
    assert.match(timeRangeViolation({ x: now + 25 * HOUR }, now) ?? "", /^x /);
    assert.match(timeRangeViolation({ x: Number.NaN }, now) ?? "", /^x NaN/);
    assert.match(timeRangeViolation({ x: EARLIEST_MS - 1 }, now) ?? "", /^x /);
  });

  it("reads calendar days only", () => {
    assert.equal(dayMs("2026-03-01"), Date.UTC(2026, 2, 1));
    assert.ok(Number.isNaN(dayMs("2026-02-30")));
    assert.ok(Number.isNaN(dayMs("2026-3-1")));
    assert.ok(Number.isNaN(dayMs("yesterday")));
  });
});

describe("rows per record", () => {
  it("an audit event is one row with ISO times, or poison with the range reason", () => {
    const good = auditEventRows(auditEvent("e1", { created_at: now - HOUR, ingested_at: now }), now);
    assert.ok(good.ok);
    const [row] = good.value.copilot_audit_events ?? [];
    assert.equal((row as { created_at: string }).created_at, new Date(now - HOUR).toISOString());
    const bad = auditEventRows(auditEvent("e2", { created_at: (now - HOUR) * 1000, ingested_at: now }), now);
    assert.ok(!bad.ok);
    assert.match(bad.reason, /created_at/);
  });

  it("a metrics row with an impossible day is poison", () => {
    const row = {
      row_id: "r1",
      tenant: "t",
      org: "o",
      scope: "ORGANIZATION" as const,
      report: "users-1-day",
      day: "2026-02-30",
      user_pseudonym: null,
      row_json: "{}",
      pseudonym_key_id: "k1",
      ingested_at: now,
    };
    assert.deepEqual(metricsRowRows(row, now).ok, false);
    assert.deepEqual(metricsRowRows({ ...row, day: "2026-02-28" }, now).ok, true);
  });

  it("seat records: ROW a seat, END a marker and a day, UNCHANGED a day, BEGIN nothing", () => {
    const base: CopilotSeatSnapshotRecord = {
      kind: "BEGIN",
      tenant: "t",
      org: "o",
      scope: "ORGANIZATION",
      snapshot_id: "s1",
      taken_at: now - HOUR,
      row_count: null,
      total_seats: null,
      pseudonym_key_id: "k1",
      seat: null,
    };
    const at = { partition: 0, offset: "5" };
    const tables = (r: CopilotSeatSnapshotRecord) => {
      const result = seatRecordRows(r, at, now);
      assert.ok(result.ok);
      return Object.entries(result.value)
        .filter(([, rows]) => (rows?.length ?? 0) > 0)
        .map(([t]) => t);
    };
    const seat = {
      seat_id: "1",
      assignee_pseudonym: "p",
      assignee_type: "User",
      organization: null,
      assigning_team: null,
      plan_type: "business",
      created_at: now - 10 * HOUR,
      pending_cancellation_date: null,
      last_activity_at: null,
      last_activity_editor: null,
      last_authenticated_at: null,
      updated_at: null,
    };
    assert.deepEqual(tables(base), []);
    assert.deepEqual(tables({ ...base, kind: "ROW", seat }), ["copilot_seat_snapshots"]);
    assert.deepEqual(tables({ ...base, kind: "END", row_count: 1 }), [
      "copilot_seat_snapshot_markers",
      "copilot_daily_seats",
    ]);
    assert.deepEqual(tables({ ...base, kind: "UNCHANGED", row_count: 1 }), ["copilot_daily_seats"]);
    const poisoned = seatRecordRows(
      { ...base, kind: "ROW", seat: { ...seat, last_activity_at: now * 1000 } },
      at,
      now,
    );
    assert.match(poisoned.ok ? "" : poisoned.reason, /^seat\.last_activity_at /);
  });
});
