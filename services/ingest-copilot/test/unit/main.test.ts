import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 20_000,
  });

describe("ingest-copilot main", () => {
  it("stops at start with exit 1 and names every missing variable", () => {
    const result = run({});
    assert.equal(result.status, 1);
    for (const variable of ["TENANT_ID", "PSEUDONYM_KEY"]) assert.match(result.stdout, new RegExp(variable));
    assert.doesNotMatch(result.stdout, /at .*\.ts:\d+/, "a stack trace reached the operator");
  });
  it("says when there is nothing to poll", () => {
    const result = run({ TENANT_ID: "t", PSEUDONYM_KEY: "cd".repeat(32) });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /SECRETS_KEY .* or GITHUB_ORG with a token must be set/);
  });
  it("names a missing token without echoing other settings' secrets", () => {
    const key = "ab".repeat(32);
    const result = run({ TENANT_ID: "t", GITHUB_ORG: "acme", PSEUDONYM_KEY: key });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /GITHUB_TOKEN_FILE or GITHUB_TOKEN must be set with GITHUB_ORG/);
    assert.ok(!result.stdout.includes(key));
  });
});
