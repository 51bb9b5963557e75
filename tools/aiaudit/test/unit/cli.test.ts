/**
 * Issue 6 (defect 10): the aiaudit command line — every command answers --help with its own
 * usage, and a malformed --base-url, a tenant id the services refuse or a missing token file is
 * told in words a person acts on, before any request.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "@aiaudit/cli";
import { createKeyring, createPseudonymizer } from "@aiaudit/crypto";

async function cli(args: string[], env: Record<string, string> = {}, stdin = "") {
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

const connect = ["connect", "copilot", "--tenant", "tenant-a", "--org", "acme"];
const secrets = { SECRETS_KEY: "55".repeat(32) };

describe("aiaudit --help", () => {
  const commands = [
    ["connect", "copilot"],
    ["connect", "openai"],
    ["disconnect"],
    ["status"],
    ["pseudonym"],
    ["migrate"],
  ];
  for (const command of commands) {
    it(`${command.join(" ")} --help prints its own usage and exits 0`, async () => {
      const r = await cli([...command, "--help"]);
      assert.equal(r.code, 0, r.err);
      assert.match(r.out, new RegExp(`^usage: aiaudit ${command.join(" ")}`));
      assert.equal(r.err, "");
    });
  }
  it("-h and `help COMMAND` do the same", async () => {
    assert.match((await cli(["status", "-h"])).out, /^usage: aiaudit status/);
    assert.match((await cli(["help", "connect", "copilot"])).out, /^usage: aiaudit connect copilot/);
  });
  it("connect --help lists its subcommands; --help alone lists every command", async () => {
    const group = await cli(["connect", "--help"]);
    assert.equal(group.code, 0);
    assert.match(group.out, /aiaudit connect copilot/);
    assert.match(group.out, /aiaudit connect openai/);
    const all = await cli(["--help"]);
    assert.equal(all.code, 0);
    for (const name of ["connect copilot", "connect openai", "disconnect", "status", "pseudonym", "migrate"])
      assert.match(all.out, new RegExp(`aiaudit ${name}`));
  });
  it("an unknown command or subcommand is a usage error, exit 2", async () => {
    assert.equal((await cli(["statsu"])).code, 2);
    const r = await cli(["connect", "gitlab"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /connect what\? gitlab is not one of: copilot, openai/);
    assert.equal((await cli([])).code, 2);
  });
  it("an unknown option is a usage error with the command's usage", async () => {
    const r = await cli(["status", "--tenat", "a"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /Unknown option '--tenat'[\s\S]*usage: aiaudit status/);
  });
});

describe("issue 6: aiaudit connect copilot checks its input before any request", () => {
  for (const [url, why] of [
    ["htp:/x", /has the scheme htp, not http or https/],
    ["api.github.com", /is not a URL/],
    ["https://api.github.com/?x=1", /has a query or fragment/],
  ] as const) {
    it(`--base-url ${url}: usage error, exit 2`, async () => {
      const r = await cli([...connect, "--base-url", url], secrets, "ghp_x");
      assert.equal(r.code, 2);
      assert.match(r.err, why);
      assert.match(r.err, /e\.g\. https:\/\/api\.github\.com/);
    });
  }
  it("--base-url with credentials is refused without repeating them", async () => {
    const r = await cli(
      [...connect, "--base-url", "https://me:hunter2@ghe.example/api/v3"],
      secrets,
      "ghp_x",
    );
    assert.equal(r.code, 2);
    assert.match(r.err, /holds credentials/);
    assert.doesNotMatch(r.err, /hunter2/);
  });
  it("--tenant North_Wind is refused like TENANT_ID=North_Wind", async () => {
    const r = await cli(["connect", "copilot", "--tenant", "North_Wind", "--org", "acme"], secrets, "ghp_x");
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      /--tenant "North_Wind" is not a tenant id: 1-63 lower-case letters, digits and dashes/,
    );
  });
  it("a missing token file: says so, no raw ENOENT", async () => {
    const r = await cli([...connect, "--token-file", "/nonexistent/token"], secrets);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read the token file \/nonexistent\/token: no such file/);
    assert.doesNotMatch(r.err, /ENOENT/);
  });
  it("--org with a slash is not a GitHub name", async () => {
    const r = await cli(["connect", "copilot", "--tenant", "tenant-a", "--org", "acme/x"], secrets, "ghp_x");
    assert.equal(r.code, 2);
    assert.match(r.err, /--org "acme\/x" is not a GitHub name/);
  });
});

describe("aiaudit disconnect and pseudonym", () => {
  it("disconnect checks --tenant like the services", async () => {
    const r = await cli(["disconnect", "--tenant", "Acme", "--connection", "github-org-acme"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--tenant "Acme" is not a tenant id/);
  });
  it("pseudonym: a missing key file says so", async () => {
    const r = await cli(["pseudonym", "--key-file", "/nonexistent/key", "octocat"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /cannot read the key file \/nonexistent\/key: no such file/);
  });
  it("pseudonym: PSEUDONYM_KEY alone, as before", async () => {
    const key = "ab".repeat(32);
    const r = await cli(["pseudonym", "octocat"], { PSEUDONYM_KEY: key });
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.startsWith(createPseudonymizer(Buffer.from(key, "hex")).pseudonym("octocat")));
  });
  it("pseudonym: with a master key, the tenant's derived key, as ingest-copilot uses it", async () => {
    const master = Buffer.alloc(32, 9);
    const env = { PSEUDONYM_MASTER_KEY: master.toString("base64") };
    const expected = (tenant: string) =>
      createKeyring({ kind: "master", key: master }).pseudonymizer(tenant).pseudonym("octocat");
    const a = await cli(["pseudonym", "--tenant", "tenant-a", "octocat"], env);
    const b = await cli(["pseudonym", "--tenant", "tenant-b", "octocat"], env);
    assert.equal(a.code, 0, a.err);
    assert.ok(a.out.startsWith(`${expected("tenant-a")}  octocat`));
    assert.ok(b.out.startsWith(`${expected("tenant-b")}  octocat`));
    assert.notEqual(expected("tenant-a"), expected("tenant-b"));
    const none = await cli(["pseudonym", "octocat"], env);
    assert.equal(none.code, 2);
    assert.match(none.err, /--tenant is required with PSEUDONYM_MASTER_KEY/);
  });
  it("pseudonym: with a keyring file, the tenant's key, and a tenant it lacks is named", async () => {
    const key = Buffer.alloc(32, 3);
    const file = join(mkdtempSync(join(tmpdir(), "aiaudit-cli-")), "keys.json");
    writeFileSync(file, JSON.stringify({ "tenant-a": key.toString("hex") }));
    const r = await cli(["pseudonym", "--tenant", "tenant-a", "octocat"], { PSEUDONYM_KEYRING_FILE: file });
    assert.equal(r.code, 0, r.err);
    assert.ok(r.out.startsWith(createPseudonymizer(key).pseudonym("octocat")));
    const other = await cli(["pseudonym", "--tenant", "tenant-z", "octocat"], {
      PSEUDONYM_KEYRING_FILE: file,
    });
    assert.equal(other.code, 1);
    assert.match(other.err, /has no key for tenant tenant-z/);
  });
});
