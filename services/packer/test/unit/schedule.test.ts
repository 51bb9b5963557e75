import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { previousMonth, retryDelayMs, targetsOf } from "../../src/schedule.ts";

describe("previousMonth", () => {
  it("is the calendar month before, end inclusive to its last second", () => {
    assert.deepEqual(previousMonth(Date.parse("2026-05-01T03:00:00Z")), {
      periodStart: "2026-04-01T00:00:00Z",
      periodEnd: "2026-04-30T23:59:59Z",
    });
  });

  it("crosses a year and knows February", () => {
    assert.deepEqual(previousMonth(Date.parse("2027-01-01T00:00:00Z")), {
      periodStart: "2026-12-01T00:00:00Z",
      periodEnd: "2026-12-31T23:59:59Z",
    });
    assert.equal(previousMonth(Date.parse("2028-03-15T12:00:00Z")).periodEnd, "2028-02-29T23:59:59Z");
  });
});

describe("retryDelayMs", () => {
  it("starts at the retry minutes, doubles, and stops at a day", () => {
    assert.deepEqual(
      [1, 2, 3, 4, 10, 100].map((n) => retryDelayMs(n, 30) / 60_000),
      [30, 60, 120, 240, 1440, 1440],
    );
  });
});

describe("targetsOf", () => {
  it("names each tenant's modules once, from connection and cursor keys", () => {
    assert.deepEqual(
      targetsOf([
        "acme/github-org-acme",
        "acme/github-enterprise-acme-inc/copilot.usage-records",
        "acme/openai-org-abc/openai.audit-events",
        "globex/openai-org-xyz",
        "globex/unknown-thing/x",
        "malformed",
      ]),
      [
        { tenant: "acme", module: "copilot" },
        { tenant: "acme", module: "openai_admin" },
        { tenant: "globex", module: "openai_admin" },
      ],
    );
  });
});
