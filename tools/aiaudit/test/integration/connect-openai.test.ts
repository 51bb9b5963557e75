/**
 * `aiaudit connect openai` against the real broker and the OpenAI simulator: a key of the wrong
 * kind is refused before any request, every refusal of OpenAI is told in words a person acts on,
 * and an accepted admin key is stored only sealed on the connections topic and printed nowhere.
 * Then `aiaudit disconnect` writes its tombstone, and `aiaudit status` shows an OpenAI connection
 * with the message an ACTIVE connection can carry.
 */
import assert from "node:assert/strict";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, beforeEach, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames, type ConnectionRecord } from "@aiaudit/contracts";
import { openSecret } from "@aiaudit/crypto";
import { AUDIT_LOGGING_OFF, REJECTED_ADMIN_KEY } from "@aiaudit/openai-connect";
import { faults, startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { captureLogger, testClickHouse, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";

const adminKey = "sk-admin-connectgoodkey0000000000000";
const restrictedKey = "sk-admin-connectnotowner000000000000";
const projectKey = "sk-proj-connectprojectkey00000000000";
const secretsKey = "55".repeat(32);
const prefix = uniquePrefix("connect-openai");
const USERS = "/v1/organization/users";
// At the top level: `after` registered inside a `before` hook would run when the hook ends.
const ch: ClickHouse = await testClickHouse(after);
let sim: OpenaiSimulator;

before(async () => {
  sim = await startOpenaiSimulator({
    orgs: {
      "org-AcmeResearch": {
        adminKeys: [adminKey],
        users: [{ object: "organization.user", id: "user-1", email: "a@acme.example", added_at: 1 }],
        projects: [],
        projectApiKeys: {},
        projectUsers: {},
        serviceAccounts: {},
        adminApiKeys: [],
        auditLogs: [],
        auditLoggingEnabled: false,
      },
    },
    restrictedKeys: [restrictedKey, projectKey],
  });
});
after(() => sim.close());
beforeEach(() => {
  sim.clearFaults();
  sim.requests.length = 0;
});

const env = () => ({
  KAFKA_BROKERS: TEST_BROKERS.join(","),
  KAFKA_TOPIC_PREFIX: prefix,
  SECRETS_KEY: secretsKey,
  CLICKHOUSE_DATA_DIR: `.cache/test-chdb/${process.pid}`,
  CLICKHOUSE_DATABASE: ch.database,
  ...(process.env.CLICKHOUSE_URL ? { CLICKHOUSE_URL: process.env.CLICKHOUSE_URL } : {}),
});

async function cli(args: string[], stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: env(),
    stdin: Readable.from(stdin ? [stdin] : []),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const connectArgs = (...more: string[]) => [
  "connect",
  "openai",
  "--tenant",
  "tenant-a",
  "--org-id",
  "org-AcmeResearch",
  "--base-url",
  `${sim.url}/v1`,
  ...more,
];

/** Connects with the key on standard input. */
const connect = (key: string, ...more: string[]) => cli(connectArgs("--key-stdin", ...more), `${key}\n`);

function assertNoKey(...texts: string[]) {
  for (const text of texts)
    for (const key of [adminKey, restrictedKey, projectKey])
      assert.ok(!text.includes(key), "a key is in the output");
}

describe("aiaudit connect openai", () => {
  it("a project key: names its kind and where admin keys come from, exit 1, no request", async () => {
    const r = await connect(projectKey);
    assert.equal(r.code, 1);
    assert.match(r.err, /not connected: The key given is a project API key \(sk-proj-…\), not an admin key/);
    assert.match(
      r.err,
      /Only an Organization Owner can create one: platform\.openai\.com → Settings → Organization → Admin keys/,
    );
    assert.deepEqual(sim.requests, [], "a request was made with a key of the wrong kind");
    assertNoKey(r.out, r.err);
  });

  it("401: the key is mistyped, revoked or not an admin key", async () => {
    const r = await connect("sk-admin-connectwrongkey000000000000");
    assert.equal(r.code, 1);
    assert.equal(r.err, `aiaudit: not connected: ${REJECTED_ADMIN_KEY}`);
    assert.deepEqual(
      sim.requests.map((q) => [q.method, q.path, q.query, q.status]),
      [["GET", USERS, { limit: "1" }, 401]],
    );
    assert.ok(!r.err.includes("connectwrongkey"));
  });

  it("403: the key has no admin rights (not an Organization Owner, or restricted)", async () => {
    const r = await connect(restrictedKey);
    assert.equal(r.code, 1);
    assert.match(r.err, /refused the key at the admin endpoints \(403\): it has no admin rights/);
    assert.match(r.err, /not an Organization Owner/);
    assertNoKey(r.out, r.err);
  });

  it("429: retry in the seconds OpenAI says, without retrying", async () => {
    sim.injectFault(faults.rateLimited(USERS, 42, { times: 3 }));
    const r = await connect(adminKey);
    assert.equal(r.code, 1);
    assert.match(r.err, /rate-limited the check \(429\); retry in 42 seconds/);
    assert.equal(sim.requests.length, 1);
  });

  it("a base URL that refuses the connection is told as one", async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const address = closed.address();
    assert.ok(address && typeof address === "object");
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${address.port}/v1`;
    const r = await connect(adminKey, "--base-url", url);
    assert.equal(r.code, 1);
    assert.equal(r.err, `aiaudit: not connected: cannot reach ${url}: connection refused — check --base-url`);
  });

  it("a key on the command line is refused with the reason, and not repeated", async () => {
    for (const args of [["--key", adminKey], [`--admin-key=${adminKey}`], [adminKey]]) {
      const r = await cli(connectArgs(...args));
      assert.equal(r.code, 2, args[0]);
      assert.match(r.err, /shell history and process listings/);
      assert.match(r.err, /--key-file F.*--key-stdin/);
      assertNoKey(r.out, r.err);
    }
    assert.deepEqual(sim.requests, []);
  });

  it("input is checked before any request: org id, one key source", async () => {
    const badOrg = await cli(
      ["connect", "openai", "--tenant", "tenant-a", "--org-id", "acme", "--key-stdin"],
      adminKey,
    );
    assert.equal(badOrg.code, 2);
    assert.match(badOrg.err, /--org-id "acme" is not an OpenAI organization id/);
    const both = await cli(connectArgs("--key-stdin", "--key-file", "/nonexistent/key"), adminKey);
    assert.equal(both.code, 2);
    assert.match(both.err, /give exactly one of --key-file F and --key-stdin/);
    const none = await cli(connectArgs());
    assert.equal(none.code, 2);
    assert.deepEqual(sim.requests, []);
  });

  it("success: publishes the connection with the admin key sealed, and prints it nowhere", async () => {
    const { logger, lines } = captureLogger();
    const file = join(mkdtempSync(join(tmpdir(), "aiaudit-openai-")), "admin-key");
    writeFileSync(file, `${adminKey}\n`);
    const r = await cli(connectArgs("--key-file", file, "--name", "Acme research"));
    assert.equal(r.code, 0, r.err);
    assert.equal(
      r.out,
      `connected tenant-a/openai-org-acmeresearch (OpenAI organization org-AcmeResearch "Acme research" at ${sim.url}/v1)`,
    );
    assert.equal(r.err, "");

    const records = await testKafka(logger).readTopic(topicNames(prefix).connections);
    assert.equal(records.length, 1, "a refused connection was published");
    const [record] = records;
    assert.ok(record?.value);
    assert.equal(record.key, "tenant-a/openai-org-acmeresearch");
    assert.ok(!record.value.toString("latin1").includes(adminKey), "the key is in the topic in clear");
    const connection = codecs.connection.decode(record.value);
    assert.deepEqual(
      [
        connection.vendor,
        connection.kind,
        connection.slug,
        connection.display_name,
        connection.status,
        connection.base_url,
      ],
      ["OPENAI", "ORGANIZATION", "org-AcmeResearch", "Acme research", "ACTIVE", `${sim.url}/v1`],
    );
    assert.equal(
      openSecret(Buffer.from(secretsKey, "hex"), connection.sealed_token, "tenant-a/openai-org-acmeresearch"),
      adminKey,
    );
    assert.deepEqual(
      sim.requests.map((q) => [q.path, q.authorization, q.status]),
      [[USERS, "Bearer", 200]],
    );
    assertNoKey(r.out, r.err, ...lines, JSON.stringify(sim.requests));
  });

  it("disconnect writes the tombstone", async () => {
    const r = await cli(["disconnect", "--tenant", "tenant-a", "--connection", "openai-org-acmeresearch"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, "disconnected tenant-a/openai-org-acmeresearch");
    const { logger } = captureLogger();
    const records = await testKafka(logger).readTopic(topicNames(prefix).connections);
    assert.deepEqual(
      records.map((rec) => [rec.key, rec.value === null]),
      [
        ["tenant-a/openai-org-acmeresearch", false],
        ["tenant-a/openai-org-acmeresearch", true],
      ],
    );
  });
});

describe("aiaudit status with an OpenAI connection", () => {
  it("shows the vendor, org id, name and the message of an ACTIVE connection", async () => {
    const now = Date.now();
    const record: ConnectionRecord = {
      tenant: "tenant-b",
      connection_id: "openai-org-nolog",
      vendor: "OPENAI",
      kind: "ORGANIZATION",
      slug: "org-NoLog",
      base_url: "https://api.openai.com/v1",
      sealed_token: { alg: "A256GCM", kid: "k", nonce: "n", ciphertext: "c", tag: "t" },
      status: "ACTIVE",
      status_message: AUDIT_LOGGING_OFF,
      token_expires_at: null,
      scopes: [],
      keep_usage_content: false,
      display_name: "No-log org",
      created_at: now,
      updated_at: now,
    };
    const { logger } = captureLogger();
    const producer = await testKafka(logger).transactionalProducer(`${prefix}.status-test`);
    await producer.transaction((tx) =>
      tx.send([
        {
          topic: topicNames(prefix).connections,
          key: "tenant-b/openai-org-nolog",
          value: codecs.connection.encode(record),
        },
      ]),
    );
    await producer.disconnect();

    const json = await cli(["status", "--tenant", "tenant-b", "--json"]);
    assert.equal(json.code, 0, json.err);
    const s = JSON.parse(json.out) as { connections: Record<string, unknown>[] };
    assert.equal(s.connections.length, 1);
    assert.deepEqual(
      {
        ...s.connections[0],
        streams: undefined,
      },
      {
        tenant: "tenant-b",
        connection_id: "openai-org-nolog",
        state: "ACTIVE",
        message: AUDIT_LOGGING_OFF,
        vendor: "OPENAI",
        kind: "ORGANIZATION",
        slug: "org-NoLog",
        display_name: "No-log org",
        base_url: "https://api.openai.com/v1",
        token_expires_at: null,
        streams: undefined,
      },
    );

    const text = await cli(["status"]);
    assert.equal(text.code, 0, text.err);
    assert.ok(
      text.out.includes(
        `  tenant-b/openai-org-nolog  ACTIVE  OpenAI organization org-NoLog "No-log org" at https://api.openai.com/v1\n      ${AUDIT_LOGGING_OFF}\n`,
      ),
      text.out,
    );
    assert.doesNotMatch(text.out, /openai-org-acmeresearch/, "the disconnected connection is still listed");
  });
});
