import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseTokenExpiration } from "@aiaudit/github-connect";
import { slidingWindow } from "../../src/source/github-client.ts";

describe("audit-log query window", () => {
  it("lets `limit` calls through per window and makes the next one wait for the oldest to leave", async () => {
    let now = 0;
    const acquire = slidingWindow(3, 50, () => now);
    for (let i = 0; i < 3; i++) await acquire();
    let fourth = false;
    const pending = acquire().then(() => (fourth = true));
    await new Promise((resolve) => setTimeout(resolve, 10));
    assert.equal(fourth, false, "a 4th call went through inside the window");
    now = 51;
    await pending;
    assert.equal(fourth, true);
  });
});

describe("token expiration header", () => {
  it("reads GitHub's format, with UTC or a numeric offset", () => {
    assert.equal(parseTokenExpiration("2026-12-01 10:00:00 UTC"), Date.parse("2026-12-01T10:00:00Z"));
    assert.equal(parseTokenExpiration("2026-12-01 10:00:00 +0200"), Date.parse("2026-12-01T08:00:00Z"));
  });
});
