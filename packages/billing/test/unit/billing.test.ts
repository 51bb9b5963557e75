import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { averaged, dayCount, monthDays } from "@aiaudit/billing";

describe("monthDays", () => {
  it("gives the calendar month's first and last day", () => {
    assert.deepEqual(monthDays("2026-01"), { from: "2026-01-01", to: "2026-01-31" });
    assert.deepEqual(monthDays("2028-02"), { from: "2028-02-01", to: "2028-02-29" });
    assert.deepEqual(monthDays("2026-02"), { from: "2026-02-01", to: "2026-02-28" });
  });

  it("refuses what is not a month", () => {
    for (const bad of ["2026-13", "2026-00", "2026-1", "January", ""]) {
      assert.throws(() => monthDays(bad), { code: "REQUEST_INVALID" }, bad);
    }
  });
});

describe("dayCount", () => {
  it("counts both ends", () => {
    assert.equal(dayCount(monthDays("2026-01")), 31);
    assert.equal(dayCount({ from: "2026-03-29", to: "2026-03-30" }), 2, "across a daylight-saving change");
  });

  it("refuses a reversed or malformed range", () => {
    assert.throws(() => dayCount({ from: "2026-02-01", to: "2026-01-31" }), { code: "REQUEST_INVALID" });
    assert.throws(() => dayCount({ from: "2026-2-1", to: "2026-02-03" }), { code: "REQUEST_INVALID" });
  });
});

describe("averaged", () => {
  it("rounds the average up, in integers", () => {
    assert.deepEqual(averaged(30 * 14 + 35 * 17, 31, 100), {
      total: 1015,
      average: "32.74",
      billable: 33,
      unit_price_cents: 100,
      amount_cents: 3300,
    });
  });

  it("bills an exact average as it is, and nothing for nothing", () => {
    assert.equal(averaged(25 * 31, 31, 100).billable, 25);
    assert.equal(averaged(3 * 31, 31, 500).amount_cents, 1500);
    assert.equal(averaged(0, 31, 100).amount_cents, 0);
    assert.equal(averaged(1, 31, 100).billable, 1, "one seat for one day is a seat");
  });

  it("is exact where floating point is not", () => {
    // 0.1 + 0.2 style traps: 3 × 10 / 3 days is exactly 10, not 10.000000000000002 → 11.
    assert.equal(averaged(30, 3, 100).billable, 10);
    assert.equal(averaged(7 * 1_000_003, 7, 1).billable, 1_000_003);
  });
});
