/**
 * Issue 8: `aiaudit tenants` and `aiaudit tokens` against the real broker. A created token is
 * printed once and authenticates with a TenantDirectory read from the topic (as the packer reads
 * it); a revoked one is refused there; the lists and the topic never hold a token, the lists no
 * hash. `aiaudit status` shows the pack runs published to the pack-runs topic.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { codecs, topicNames, topicSpecs, type PackRunRecord } from "@aiaudit/contracts";
import { TenantDirectory, tokenSha256 } from "@aiaudit/tenants";
import {
  captureLogger,
  testClickHouse,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";

const prefix = uniquePrefix("tenants");
const topics = topicNames(prefix);
const kafka = testKafka(captureLogger().logger);
// At the top level: `after` registered inside a `before` hook would run when the hook ends.
const ch: ClickHouse = await testClickHouse(after);

async function cli(args: string[], topicPrefix = prefix) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: {
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: topicPrefix,
      CLICKHOUSE_DATA_DIR: `.cache/test-chdb/${process.pid}`,
      CLICKHOUSE_DATABASE: ch.database,
      ...(process.env.CLICKHOUSE_URL ? { CLICKHOUSE_URL: process.env.CLICKHOUSE_URL } : {}),
    },
    stdin: Readable.from([]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** The tenants topic as a service following it sees it. */
async function tenantsTopic() {
  const records = await kafka.readTopic(topics.tenants, { idleMs: 1000 });
  const directory = new TenantDirectory();
  for (const r of records) if (r.key !== null) directory.apply(r.key, r.value);
  return { directory, records };
}

/**
 * The tenants topic once it holds `count` records. The broker writes a transaction's commit marker
 * just after the commit returned, and readTopic stops at the last stable offset: a read in that
 * instant (the next command's, or this test's) would not see the transaction yet.
 */
const settled = (count: number) =>
  waitFor(`${count} records on ${topics.tenants}`, async () => {
    const read = await tenantsTopic();
    return read.records.length >= count ? read : undefined;
  });

/** The token a create command printed, checking it is printed exactly once. */
function printedToken(out: string): { token: string; tokenId: string } {
  const match = /^token: +(aat_([0-9a-f]{12})_\S+)$/m.exec(out);
  assert.ok(match?.[1] && match[2], `no token in\n${out}`);
  assert.equal(out.split(match[1]).length, 2, "the token is printed exactly once");
  assert.match(out, /shown only this once/);
  assert.match(out, /Authorization: Bearer/);
  assert.match(out, new RegExp(`^token id: ${match[2]}`, "m"));
  return { token: match[1], tokenId: match[2] };
}

interface TokenJson {
  tenant: string;
  tokens: { token_id: string; name: string | null; created_at: string; revoked_at: string | null }[];
}

describe("aiaudit tenants / tokens", () => {
  const issued: { token: string; tokenId: string }[] = [];

  it("tenants create: the tenant and its first token in one transaction; the token authenticates", async () => {
    const r = await cli(["tenants", "create", "acme", "--display-name", "Acme GmbH", "--token-name", "ci"]);
    assert.equal(r.code, 0, r.err);
    assert.equal(r.err, "");
    assert.match(r.out, /^created tenant acme "Acme GmbH"$/m);
    const first = printedToken(r.out);
    issued.push(first);
    const { directory, records } = await settled(2);
    assert.deepEqual(
      records.map((rec) => rec.key),
      ["tenant/acme", `token/acme/${first.tokenId}`],
    );
    const tenant = directory.tenant("acme");
    assert.deepEqual([tenant?.tenant, tenant?.display_name], ["acme", "Acme GmbH"]);
    assert.ok(tenant && Math.abs(tenant.created_at - Date.now()) < 60_000, "created now");
    assert.deepEqual(directory.authenticate(`Bearer ${first.token}`), {
      ok: true,
      tenant: "acme",
      tokenId: first.tokenId,
    });
    for (const rec of records)
      assert.ok(!rec.value?.includes(first.token), "the topic holds the hash, never the token");
    assert.equal(directory.tokens("acme")[0]?.token_sha256, tokenSha256(first.token));
  });

  it("tenants create of an existing tenant refuses (exit 1) and writes nothing", async () => {
    const before = (await tenantsTopic()).records.length;
    const r = await cli(["tenants", "create", "acme"]);
    assert.equal(r.code, 1);
    assert.match(r.err, /^aiaudit tenants create: tenant acme exists \(created [0-9T:.Z-]+\)/);
    assert.doesNotMatch(r.out, /aat_/);
    assert.equal((await tenantsTopic()).records.length, before);
  });

  it("tokens create: a second token that authenticates; refused for a tenant that does not exist", async () => {
    const r = await cli(["tokens", "create", "--tenant", "acme", "--name", "auditor-2026"]);
    assert.equal(r.code, 0, r.err);
    const second = printedToken(r.out);
    issued.push(second);
    const { directory } = await settled(3);
    assert.equal(directory.authenticate(`Bearer ${second.token}`).ok, true);
    assert.equal(directory.tokens("acme").length, 2);

    const refused = await cli(["tokens", "create", "--tenant", "nope"]);
    assert.equal(refused.code, 1);
    assert.match(refused.err, /no tenant nope: create it with `aiaudit tenants create nope`/);
    assert.doesNotMatch(refused.out, /aat_/);
  });

  it("tokens revoke: refused for an unknown id or another tenant's; then revoked, and refused by the directory", async () => {
    const [first, second] = issued;
    assert.ok(first && second);
    const globex = await cli(["tenants", "create", "globex"]);
    assert.equal(globex.code, 0, globex.err);
    const othersId = printedToken(globex.out).tokenId;
    await settled(5);
    for (const id of ["000000000000", othersId]) {
      const r = await cli(["tokens", "revoke", "--tenant", "acme", id]);
      assert.equal(r.code, 1);
      assert.equal(
        r.err,
        `aiaudit tokens revoke: no token ${id} for tenant acme: \`aiaudit tokens list --tenant acme\` shows its tokens`,
      );
    }

    const r = await cli(["tokens", "revoke", "--tenant", "acme", first.tokenId]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^revoked token ${first.tokenId} \\(ci\\) of tenant acme at `));
    const { directory, records } = await settled(6);
    const refused = directory.authenticate(`Bearer ${first.token}`);
    assert.equal(refused.ok, false);
    assert.match(refused.reason, /was revoked/);
    assert.equal(directory.authenticate(`Bearer ${second.token}`).ok, true, "the other token still works");
    assert.ok(
      records.every((rec) => rec.value !== null),
      "a revoked token keeps its record: never a tombstone",
    );

    const again = await cli(["tokens", "revoke", "--tenant", "acme", first.tokenId]);
    assert.equal(again.code, 0, again.err);
    assert.match(again.out, /was revoked already, at .*: nothing written/);
    assert.equal((await tenantsTopic()).records.length, records.length, "nothing written");
  });

  it("tokens list and tenants list: revoked_at or valid, counts; never a token or a hash", async () => {
    const [first, second] = issued;
    assert.ok(first && second);
    const json = await cli(["tokens", "list", "--tenant", "acme", "--json"]);
    assert.equal(json.code, 0, json.err);
    const listed = JSON.parse(json.out) as TokenJson;
    assert.equal(listed.tenant, "acme");
    assert.deepEqual(
      listed.tokens.map((t) => [t.token_id, t.name, t.revoked_at === null]),
      [
        [first.tokenId, "ci", false],
        [second.tokenId, "auditor-2026", true],
      ],
    );
    assert.match(listed.tokens[0]?.revoked_at ?? "", /^\d{4}-\d\d-\d\dT/);

    const text = await cli(["tokens", "list", "--tenant", "acme"]);
    assert.equal(text.code, 0, text.err);
    assert.match(text.out, new RegExp(`^${first.tokenId}  ci  +\\S+  revoked \\S+Z$`, "m"));
    assert.match(text.out, new RegExp(`^${second.tokenId}  auditor-2026  \\S+  valid$`, "m"));

    const tenants = await cli(["tenants", "list"]);
    assert.equal(tenants.code, 0, tenants.err);
    assert.match(tenants.out, /^acme {4}Acme GmbH {5}\S+Z {2}1 \(1 revoked\)$/m);
    assert.match(tenants.out, /^globex {2}- {13}\S+Z {2}1$/m);
    const tenantsJson = await cli(["tenants", "list", "--json"]);
    assert.deepEqual(
      (JSON.parse(tenantsJson.out) as { tenants: { tenant: string; valid_tokens: number }[] }).tenants.map(
        (t) => [t.tenant, t.valid_tokens],
      ),
      [
        ["acme", 1],
        ["globex", 1],
      ],
    );

    const everything = [json, text, tenants, tenantsJson].map((x) => x.out + x.err).join("\n");
    for (const { token } of issued) {
      assert.ok(!everything.includes(token), "no token in a list");
      assert.ok(!everything.includes(token.slice(17)), "no token secret in a list");
      assert.ok(!everything.includes(tokenSha256(token)), "no hash in a list");
    }

    const unknown = await cli(["tokens", "list", "--tenant", "nope"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no tenant nope/);
  });
});

describe("aiaudit status: evidence packs (monthly schedule)", () => {
  const march = Date.UTC(2026, 2, 1);
  const april = Date.UTC(2026, 3, 1);
  function packRun(tenant: string, module: PackRunRecord["module"], over: Partial<PackRunRecord>) {
    const record: PackRunRecord = {
      tenant,
      module,
      period_start: march,
      period_end: april - 1,
      state: "SUCCEEDED",
      attempts: 1,
      last_error: null,
      next_attempt_at: null,
      pack_id: null,
      sequence: null,
      updated_at: april + 3_600_000,
      ...over,
    };
    return {
      topic: topics.packRuns,
      key: `${tenant}/${module}/${new Date(record.period_start).toISOString()}`,
      value: codecs.packRun.encode(record),
    };
  }

  it("shows a FAILED and a SUCCEEDED run published to the pack-runs topic, filtered by --tenant", async () => {
    await kafka.ensureTopics(topicSpecs(prefix));
    const producer = await kafka.transactionalProducer(`${prefix}.pack-runs-test`);
    try {
      await producer.transaction((tx) =>
        tx.send([
          packRun("acme", "copilot", {
            state: "FAILED",
            attempts: 1,
            last_error: "first try",
            next_attempt_at: april + 60_000,
          }),
          // The newer record of the same month wins.
          packRun("acme", "copilot", {
            state: "FAILED",
            attempts: 2,
            last_error: "ClickHouse is not reachable",
            next_attempt_at: april + 7_200_000,
          }),
          packRun("acme", "openai_admin", { pack_id: "0123456789abcdef0123456789abcdef", sequence: 4 }),
          packRun("globex", "copilot", { pack_id: "fedcba9876543210fedcba9876543210", sequence: 1 }),
        ]),
      );
    } finally {
      await producer.disconnect();
    }
    // Past the commit marker (see `settled`), so status reads the transaction.
    await waitFor("the pack runs", async () =>
      (await kafka.readTopic(topics.packRuns, { idleMs: 1000 })).length >= 4 ? true : undefined,
    );

    const json = await cli(["status", "--tenant", "acme", "--json"]);
    assert.equal(json.code, 0, json.err);
    const s = JSON.parse(json.out) as {
      packs: { tenant: string; module: string; period: string; state: string; attempts: number }[];
      problems: string[];
    };
    assert.deepEqual(
      s.packs.map((p) => [p.tenant, p.module, p.period, p.state, p.attempts]),
      [
        ["acme", "copilot", "2026-03", "FAILED", 2],
        ["acme", "openai_admin", "2026-03", "SUCCEEDED", 1],
      ],
    );
    assert.ok(!s.problems.some((p) => p.includes("pack-runs")), s.problems.join("\n"));

    const text = await cli(["status"]);
    assert.equal(text.code, 0, text.err);
    assert.match(
      text.out,
      new RegExp(`^evidence packs \\(monthly schedule, ${prefix}\\.control\\.pack-runs\\.v1\\):$`, "m"),
    );
    assert.match(
      text.out,
      /^ {2}acme {4}copilot {7}2026-03 {2}FAILED {5}2 attempts, next attempt 2026-04-01T02:00:00\.000Z\n {6}ClickHouse is not reachable$/m,
    );
    assert.match(
      text.out,
      /^ {2}acme {4}openai_admin {2}2026-03 {2}SUCCEEDED {2}pack 0123456789ab… sequence 4, at 2026-04-01T01:00:00\.000Z$/m,
    );
    assert.match(
      text.out,
      /^ {2}globex {2}copilot {7}2026-03 {2}SUCCEEDED {2}pack fedcba987654… sequence 1/m,
    );
  });

  it("a prefix without a pack-runs topic: no scheduled pack yet, not a problem", async () => {
    const empty = uniquePrefix("tenants-none");
    const r = await cli(["status", "--json"], empty);
    const s = JSON.parse(r.out) as { packs: unknown[]; problems: string[]; kafka: { error: string | null } };
    assert.equal(s.kafka.error, null);
    assert.deepEqual(s.packs, []);
    assert.ok(!s.problems.some((p) => p.includes("pack-runs")), s.problems.join("\n"));
    const text = await cli(["status"], empty);
    assert.match(text.out, /^evidence packs \(monthly schedule, .*\):\n {2}no scheduled pack yet$/m);
  });
});
