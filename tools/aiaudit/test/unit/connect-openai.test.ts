/**
 * `aiaudit connect openai` checks what it is given before any request: the options (usage errors,
 * exit 2), a key on the command line (refused, never repeated), and a key of the wrong kind or
 * shape (exit 1, with what to do). The base URL points at a port nothing listens on: a request
 * would fail differently from every answer asserted here.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";

const secrets = { SECRETS_KEY: "55".repeat(32) };
const noServer = "http://127.0.0.1:9/v1";

async function cli(args: string[], stdin = "", env: Record<string, string> = secrets) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env,
    stdin: Readable.from(stdin ? [stdin] : []),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const base = ["connect", "openai", "--tenant", "tenant-a", "--org-id", "org-abc123", "--base-url", noServer];

describe("aiaudit connect openai: options", () => {
  it("--org-id is required and must be an organization id", async () => {
    const missing = await cli(["connect", "openai", "--tenant", "tenant-a", "--key-stdin"], "sk-admin-x");
    assert.equal(missing.code, 2);
    assert.match(missing.err, /--org-id is required/);
    const wrong = await cli([
      "connect",
      "openai",
      "--tenant",
      "tenant-a",
      "--org-id",
      "org acme",
      "--key-stdin",
    ]);
    assert.equal(wrong.code, 2);
    assert.match(
      wrong.err,
      /--org-id "org acme" is not an OpenAI organization id: org- and letters and digits/,
    );
  });

  it("--base-url with credentials is refused without repeating them", async () => {
    const r = await cli(
      [...base, "--base-url", "https://me:hunter2@proxy.example/v1", "--key-stdin"],
      "sk-admin-x",
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /--base-url \(not repeated here\) holds credentials/);
    assert.doesNotMatch(r.err, /hunter2/);
  });

  it("--base-url that is not a URL: with OpenAI's form as the example", async () => {
    const r = await cli([...base, "--base-url", "api.openai.com", "--key-stdin"], "sk-admin-x");
    assert.equal(r.code, 2);
    assert.match(r.err, /is not a URL: e\.g\. https:\/\/api\.openai\.com\/v1/);
  });

  it("exactly one of --key-file and --key-stdin", async () => {
    const none = await cli(base);
    assert.equal(none.code, 2);
    assert.match(none.err, /give exactly one of --key-file F and --key-stdin/);
  });

  it("an empty --name is a usage error", async () => {
    const r = await cli([...base, "--name", " ", "--key-stdin"], "sk-admin-x");
    assert.equal(r.code, 2);
    assert.match(r.err, /--name is empty/);
  });

  it("a missing key file: says so, no raw ENOENT", async () => {
    const r = await cli([...base, "--key-file", "/nonexistent/key"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read the key file \/nonexistent\/key: no such file/);
    assert.doesNotMatch(r.err, /ENOENT/);
  });
});

describe("aiaudit connect openai: the key", () => {
  const secret = "sk-admin-unitsecret00000000000000";

  for (const args of [
    ["--key", secret],
    [`--key=${secret}`],
    ["--admin-key", secret],
    ["--token", secret],
    [secret],
  ]) {
    it(`${args[0]?.startsWith("--") ? args[0].split("=")[0] : "a bare key"} is refused, the key not repeated`, async () => {
      const r = await cli([...base, ...args]);
      assert.equal(r.code, 2);
      assert.match(r.err, /shell history and process listings/);
      assert.ok(!r.err.includes(secret) && !r.out.includes(secret));
    });
  }

  for (const [key, kind] of [
    ["sk-proj-unitsecret00000000000000", /a project API key/],
    ["sk-svcacct-unitsecret00000000000", /a service account key/],
    ["sk-unitsecret0000000000000000000", /a user or legacy API key/],
    ["hunter2", /not an OpenAI key/],
  ] as const) {
    it(`${key.slice(0, 8)}…: the kind named, exit 1, before any request`, async () => {
      const r = await cli([...base, "--key-stdin"], `${key}\n`);
      assert.equal(r.code, 1);
      assert.match(r.err, kind);
      assert.match(r.err, /Organization Admin Key/);
      assert.doesNotMatch(r.err, /cannot reach/, "a request was made");
      assert.ok(!r.err.includes(key));
    });
  }

  it("a key file holding more than the key", async () => {
    const file = join(mkdtempSync(join(tmpdir(), "aiaudit-openai-unit-")), "key");
    writeFileSync(file, "OPENAI_ADMIN_KEY= sk-admin-unitsecret00000000000000\n");
    const r = await cli([...base, "--key-file", file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /the key holds whitespace/);
    assert.doesNotMatch(r.err, /unitsecret/);
  });

  it("an admin key goes on to the probe (here: nothing listens)", async () => {
    const r = await cli([...base, "--key-stdin"], `${secret}\n`);
    assert.equal(r.code, 1);
    assert.match(r.err, /not connected: cannot reach http:\/\/127\.0\.0\.1:9\/v1/);
  });

  it("SECRETS_KEY is needed before the key is read", async () => {
    const r = await cli([...base, "--key-stdin"], `${secret}\n`, {});
    assert.equal(r.code, 1);
    assert.match(r.err, /SECRETS_KEY/);
    assert.ok(!r.err.includes(secret));
  });
});
