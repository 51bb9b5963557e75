/**
 * parsePeriod: RFC 3339 only, start before end, at most 366 days, and the end inclusive to the last
 * millisecond of its second.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parsePeriod, utcDays } from "@aiaudit/packer";

const at = (iso: string): number => Date.parse(iso);

describe("parsePeriod", () => {
  it("makes the end inclusive to the end of its second", () => {
    const { startMs, endMs } = parsePeriod("2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z");
    assert.equal(startMs, at("2026-04-01T00:00:00.000Z"));
    assert.equal(endMs, at("2026-04-30T23:59:59.999Z"));
    assert.ok(at("2026-04-30T23:59:59.500Z") <= endMs, "an event at 23:59:59.500 is in");
    assert.ok(at("2026-05-01T00:00:00.000Z") > endMs, "the next day's midnight is not");
  });

  it("accepts offsets, fractions and a lower-case t/z", () => {
    const { startMs, endMs } = parsePeriod("2026-04-01T02:00:00.250+02:00", "2026-04-02t00:00:00.5z");
    assert.equal(startMs, at("2026-04-01T00:00:00.250Z"));
    assert.equal(endMs, at("2026-04-02T00:00:00.999Z"));
  });

  for (const bad of [
    "2026-04-01",
    "2026-04-01T00:00:00",
    "2026-04-01 00:00Z",
    "April 1, 2026",
    "2026-02-30T00:00:00Z",
    "2026-13-01T00:00:00Z",
    "2026-04-01T24:00:00Z",
    "2026-04-01T00:00:60Z",
    "2026-04-01T00:00:00+25:00",
    "",
  ]) {
    it(`refuses ${JSON.stringify(bad)} as RFC 3339`, () => {
      assert.throws(() => parsePeriod(bad, "2026-05-01T00:00:00Z"), {
        code: "REQUEST_INVALID",
        message: /period_start .* (is not an RFC 3339 date-time|does not exist|impossible UTC offset)/,
      });
      assert.throws(() => parsePeriod("2026-01-01T00:00:00Z", bad), { message: /^period_end / });
    });
  }

  it("refuses a start that is not before the end", () => {
    assert.throws(() => parsePeriod("2026-05-01T00:00:00Z", "2026-04-01T00:00:00Z"), {
      message: /must be before period_end/,
    });
    assert.throws(() => parsePeriod("2026-05-01T00:00:00Z", "2026-05-01T00:00:00Z"), {
      message: /must be before period_end/,
    });
    assert.throws(() => parsePeriod("2026-05-01T02:00:00+02:00", "2026-05-01T00:00:00Z"), {
      message: /must be before/,
    });
  });

  it("allows a leap year and refuses anything longer than 366 days", () => {
    const leap = parsePeriod("2024-01-01T00:00:00Z", "2024-12-31T23:59:59Z");
    assert.equal(leap.endMs + 1 - leap.startMs, 366 * 86_400_000);
    assert.throws(() => parsePeriod("2024-01-01T00:00:00Z", "2025-01-01T00:00:00Z"), {
      message: /longer than 366 days/,
    });
    assert.throws(() => parsePeriod("2026-01-01T00:00:00Z", "2030-01-01T00:00:00Z"), {
      message: /longer than 366 days/,
    });
  });

  it("lists the UTC days a period touches", () => {
    assert.deepEqual(utcDays(parsePeriod("2026-04-29T12:00:00Z", "2026-05-01T00:00:00Z")), [
      "2026-04-29",
      "2026-04-30",
      "2026-05-01",
    ]);
    assert.equal(utcDays(parsePeriod("2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z")).length, 30);
  });
});
