import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { githubConnectionId, parseTokenExpiration } from "@aiaudit/github-connect";

describe("parseTokenExpiration", () => {
  it("reads GitHub's UTC and offset forms", () => {
    assert.equal(parseTokenExpiration("2026-12-01 10:00:00 UTC"), Date.parse("2026-12-01T10:00:00Z"));
    assert.equal(parseTokenExpiration("2026-12-01 10:00:00 +0200"), Date.parse("2026-12-01T08:00:00Z"));
  });
});

describe("githubConnectionId", () => {
  it("is the same id whatever the case of the slug", () => {
    assert.equal(githubConnectionId("ORGANIZATION", "Acme"), "github-org-acme");
    assert.equal(githubConnectionId("ENTERPRISE", "acme"), "github-enterprise-acme");
  });
});
