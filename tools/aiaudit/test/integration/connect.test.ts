/**
 * Issue 3: `aiaudit connect copilot` maps every answer of GitHub to a message a person can act
 * on, stores the token only sealed on the connections topic, and prints it nowhere.
 */
import assert from "node:assert/strict";
import { createServer } from "node:net";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, topicNames } from "@aiaudit/contracts";
import { openSecret } from "@aiaudit/crypto";
import { faults, seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";

const good = "ghp_connectgoodtoken00000000000000000";
const narrow = "ghp_connectnarrowtoken000000000000000";
const expiring = "ghp_connectexpiringtoken0000000000000";
const secretsKey = "55".repeat(32);
const prefix = uniquePrefix("connect");
const everything = ["manage_billing:copilot", "read:org", "read:audit_log"];
let sim: GithubSimulator;

before(async () => {
  sim = await startGithubSimulator({
    tokens: [
      { token: good, scopes: everything },
      { token: narrow, scopes: ["read:org"] },
      { token: expiring, scopes: everything, expiresAt: new Date(Date.now() + 3 * 86_400_000).toISOString() },
    ],
    orgs: { acme: { id: 1, seats: seats("acme", 3) } },
  });
});
after(() => sim.close());

async function connect(token: string, ...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["connect", "copilot", "--tenant", "tenant-a", "--base-url", sim.url, ...args], {
    env: { KAFKA_BROKERS: TEST_BROKERS.join(","), KAFKA_TOPIC_PREFIX: prefix, SECRETS_KEY: secretsKey },
    stdin: Readable.from([`${token}\n`]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

describe("aiaudit connect copilot", () => {
  it("401: says the token is mistyped or expired", async () => {
    const r = await connect("ghp_wrongwrongwrongwrongwrongwrong0000", "--org", "acme");
    assert.equal(r.code, 1);
    assert.match(r.err, /rejected the token \(401 Bad credentials\): it is mistyped, expired or revoked/);
  });

  it("403: names the missing permissions for both token kinds", async () => {
    const r = await connect(narrow, "--org", "acme");
    assert.equal(r.code, 1);
    assert.match(r.err, /may not read the audit log of organization "acme"/);
    assert.match(r.err, /Administration/);
    assert.match(r.err, /read:audit_log/);
    assert.match(r.err, /The token has the scopes: read:org/);
  });

  it("404: says the org name is wrong or the owner is not a member", async () => {
    const r = await connect(good, "--org", "acme-typo");
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /organization "acme-typo" .* was not found \(404\): the name is wrong, or the token's owner is not a member/,
    );
  });

  it("rate limit: says when to try again", async () => {
    sim.injectFault(faults.primaryRateLimit({ path: "/orgs/acme", resetInSeconds: 120, status: 403 }));
    const r = await connect(good, "--org", "acme");
    assert.equal(r.code, 1);
    assert.match(r.err, /rate-limited .* try connecting again at \d{4}-/);
  });

  it('issue 6: a refused connection is told as one, not as "GitHub answered 500"', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const address = closed.address();
    assert.ok(address && typeof address === "object");
    await new Promise((resolve) => closed.close(resolve));
    const url = `http://127.0.0.1:${address.port}`;
    const r = await connect(good, "--org", "acme", "--base-url", url);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`cannot reach ${url}: connection refused — check --base-url`));
    assert.doesNotMatch(r.err, /answered 500/);
  });

  it("issue 6: a base URL that answers a web page is not the GitHub API", async () => {
    sim.injectFault(faults.html("/orgs/acme"));
    const r = await connect(good, "--org", "acme");
    assert.equal(r.code, 1);
    assert.match(
      r.err,
      /does not look like the GitHub REST API \(it answered 200 with text\/html.*\) — check --base-url/,
    );
  });

  it("refuses a token on the command line", async () => {
    const r = await connect(good, "--org", "acme", "--token", good);
    assert.equal(r.code, 2);
  });

  it("success: publishes the connection with the token sealed, and warns of an expiry within 7 days", async () => {
    const { logger, lines } = captureLogger();
    const r = await connect(expiring, "--org", "acme");
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /connected tenant-a\/github-org-acme/);
    assert.match(r.err, /warning: the token expires on .* within 7 days/);

    const records = await testKafka(logger).readTopic(topicNames(prefix).connections);
    assert.equal(records.length, 1);
    const [record] = records;
    assert.ok(record?.value);
    assert.ok(!record.value.toString("latin1").includes(expiring), "the token is in the topic in clear");
    const connection = codecs.connection.decode(record.value);
    assert.equal(connection.status, "ACTIVE");
    assert.deepEqual(connection.scopes, everything);
    assert.ok(connection.token_expires_at);
    assert.equal(
      openSecret(Buffer.from(secretsKey, "hex"), connection.sealed_token, "tenant-a/github-org-acme"),
      expiring,
    );
    for (const text of [r.out, r.err, ...lines, JSON.stringify(sim.requests)])
      assert.ok(!text.includes(expiring));
  });
});
