import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { loadConfig } from "@aiaudit/ingest-copilot/config";

const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
const run = (env: Record<string, string>) =>
  spawnSync(process.execPath, [main], {
    env: { PATH: process.env.PATH ?? "", ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
const stack = /at .*\.ts:\d+/;
const key = "ab".repeat(32);
const base = { TENANT_ID: "t", PSEUDONYM_KEY: key, SECRETS_KEY: "cd".repeat(32) };

/** The message loadConfig throws for `env`. */
function problem(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (err) {
    assert.equal((err as { code?: string }).code, "CONFIG_INVALID");
    return (err as Error).message;
  }
  assert.fail("the configuration was accepted");
}

function tempFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), "aiaudit-config-")), "file");
  writeFileSync(file, content);
  return file;
}

describe("ingest-copilot main", () => {
  it("stops at start with exit 1 and names what is missing", () => {
    const result = run({});
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /PSEUDONYM_KEY \(with TENANT_ID\), PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE/,
    );
    assert.match(result.stderr, /SECRETS_KEY .* or GITHUB_ORG with a token must be set/);
    assert.doesNotMatch(result.stdout + result.stderr, stack, "a stack trace reached the operator");
  });
  it("says when there is nothing to poll", () => {
    const result = run({ TENANT_ID: "t", PSEUDONYM_KEY: "cd".repeat(32) });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /SECRETS_KEY .* or GITHUB_ORG with a token must be set/);
  });
  it("names a missing token without echoing other settings' secrets", () => {
    const result = run({ TENANT_ID: "t", GITHUB_ORG: "acme", PSEUDONYM_KEY: key });
    assert.equal(result.status, 1);
    assert.match(result.stdout, /GITHUB_TOKEN_FILE or GITHUB_TOKEN must be set with GITHUB_ORG/);
    assert.ok(!(result.stdout + result.stderr).includes(key));
  });
});

describe("issue 6: configuration errors", () => {
  it("LOG_LEVEL=verbose is a configuration error naming it, not a crash with a stack trace", () => {
    const result = run({ ...base, LOG_LEVEL: "verbose" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /LOG_LEVEL is malformed: not a log level \(minimum log level: trace, debug/);
    assert.doesNotMatch(result.stdout + result.stderr, stack);
  });
  it("KAFKA_BROKERS= is an error naming the variable and the default, not a silent fall-back", () => {
    const result = run({ ...base, KAFKA_BROKERS: "" });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /KAFKA_BROKERS is set but empty: unset it for the default 127\.0\.0\.1:19092, or give host:port,…/,
    );
  });
  it("every variable set but empty is named, e.g. POLL_INTERVAL_SECONDS and GITHUB_API_URL", () => {
    const result = run({ ...base, POLL_INTERVAL_SECONDS: "", GITHUB_API_URL: "" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /POLL_INTERVAL_SECONDS is set but empty: unset it for the default 3600/);
    assert.match(
      result.stderr,
      /GITHUB_API_URL is set but empty: unset it for the default https:\/\/api\.github\.com/,
    );
  });
  it("a broker that is not host:port is named", () => {
    const result = run({ ...base, KAFKA_BROKERS: "kafka-0,kafka-1:9092" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /KAFKA_BROKERS is malformed: "kafka-0" is not host:port/);
  });
  it("is told to a person on stderr, readable, and to machines as one JSON fatal line on stdout", () => {
    const result = run({ ...base, KAFKA_BROKERS: "", LOG_LEVEL: "" });
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      "ingest-copilot: invalid configuration:\n" +
        "  - KAFKA_BROKERS is set but empty: unset it for the default 127.0.0.1:19092, or give host:port,… of the Kafka bootstrap servers, comma-separated\n" +
        "  - LOG_LEVEL is set but empty: unset it for the default info, or give minimum log level: trace, debug, info, warn, error, fatal, silent\n",
    );
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const fatal = JSON.parse(lines[0] ?? "") as { level: number; code: string; msg: string };
    assert.equal(fatal.level, 60);
    assert.equal(fatal.code, "CONFIG_INVALID");
    assert.match(fatal.msg, /KAFKA_BROKERS is set but empty/);
  });
});

describe("loadConfig: tenants and pseudonym keys", () => {
  it("TENANT_ID with PSEUDONYM_KEY: one tenant, one key", () => {
    const config = loadConfig(base);
    assert.equal(config.TENANT_ID, "t");
    assert.equal(config.HTTP_PORT, 9464);
    assert.deepEqual(config.pseudonymKeys, { kind: "single", tenant: "t", key: Buffer.from(key, "hex") });
    assert.ok(!("PSEUDONYM_KEY" in config), "the raw key stays out of the config object");
  });
  it("without TENANT_ID, a master key serves every tenant", () => {
    const config = loadConfig({ SECRETS_KEY: base.SECRETS_KEY, PSEUDONYM_MASTER_KEY: key });
    assert.equal(config.TENANT_ID, undefined);
    assert.deepEqual(config.pseudonymKeys, { kind: "master", key: Buffer.from(key, "hex") });
  });
  it("a keyring file gives each tenant its key, in hex or base64", () => {
    const b64 = Buffer.alloc(32, 7).toString("base64");
    const file = tempFile(JSON.stringify({ "tenant-a": key, "tenant-b": b64 }));
    const config = loadConfig({ SECRETS_KEY: base.SECRETS_KEY, PSEUDONYM_KEYRING_FILE: file });
    assert.deepEqual(config.pseudonymKeys, {
      kind: "keyring",
      keys: { "tenant-a": Buffer.from(key, "hex"), "tenant-b": Buffer.alloc(32, 7) },
    });
  });
  it("PSEUDONYM_KEY needs TENANT_ID", () => {
    assert.match(
      problem({ SECRETS_KEY: base.SECRETS_KEY, PSEUDONYM_KEY: key }),
      /PSEUDONYM_KEY is one tenant's key: set TENANT_ID/,
    );
  });
  it("exactly one of the three key sources", () => {
    assert.match(
      problem({ ...base, PSEUDONYM_MASTER_KEY: key }),
      /set only one of PSEUDONYM_KEY, PSEUDONYM_MASTER_KEY:/,
    );
  });
  it("GITHUB_ORG needs TENANT_ID", () => {
    assert.match(
      problem({ PSEUDONYM_MASTER_KEY: key, GITHUB_ORG: "acme", GITHUB_TOKEN: "ghp_x" }),
      /GITHUB_ORG requires TENANT_ID/,
    );
  });
  it("TENANT_ID follows the tenant id rule the CLI uses", () => {
    assert.match(
      problem({ ...base, TENANT_ID: "North_Wind" }),
      /TENANT_ID is malformed: 1-63 lower-case letters/,
    );
  });
  it("a keyring's problems name the file and the tenant, never a key", () => {
    const short = "c2hvcnQ=";
    const file = tempFile(JSON.stringify({ "tenant-a": short, North_Wind: key }));
    const message = problem({ SECRETS_KEY: base.SECRETS_KEY, PSEUDONYM_KEYRING_FILE: file });
    assert.match(
      message,
      new RegExp(`PSEUDONYM_KEYRING_FILE \\(${file}\\) has a malformed key for tenant tenant-a`),
    );
    assert.match(message, /not a valid tenant id: "North_Wind"/);
    assert.ok(!message.includes(short) && !message.includes(key));
  });
  it("a keyring that is missing, not JSON, empty, or lacks TENANT_ID is named", () => {
    const env = { SECRETS_KEY: base.SECRETS_KEY };
    assert.match(
      problem({ ...env, PSEUDONYM_KEYRING_FILE: "/nonexistent/keys.json" }),
      /PSEUDONYM_KEYRING_FILE \(\/nonexistent\/keys\.json\) cannot be read: no such file/,
    );
    assert.match(problem({ ...env, PSEUDONYM_KEYRING_FILE: tempFile("{") }), /is not JSON/);
    assert.match(problem({ ...env, PSEUDONYM_KEYRING_FILE: tempFile("{}") }), /it holds no tenant/);
    assert.match(
      problem({
        ...env,
        TENANT_ID: "tenant-b",
        PSEUDONYM_KEYRING_FILE: tempFile(JSON.stringify({ "tenant-a": key })),
      }),
      /has no key for tenant tenant-b/,
    );
  });
  it("a token file that is missing or empty is named", () => {
    const env = { ...base, GITHUB_ORG: "acme" };
    assert.match(
      problem({ ...env, GITHUB_TOKEN_FILE: "/nonexistent/token" }),
      /GITHUB_TOKEN_FILE \(\/nonexistent\/token\) cannot be used: no such file/,
    );
    assert.match(problem({ ...env, GITHUB_TOKEN_FILE: tempFile("\n") }), /cannot be used: it is empty/);
  });
});
