/**
 * Issue 8: `aiaudit tenants` and `aiaudit tokens` without a broker — options refused before any
 * request, and the pure parts: the lines that show a new token (once), the lists (never a hash),
 * what revoke decides; and `aiaudit status`'s evidence-pack section from pack-run records.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, type PackRunRecord } from "@aiaudit/contracts";
import type { IncomingRecord } from "@aiaudit/kafka";
import { createToken, TenantDirectory, tenantKey, tokenKey } from "@aiaudit/tenants";
import { render, summarizePackRuns, type Status } from "../../src/commands/status.ts";
import { newTokenLines, renderTenants, table, tenantRows } from "../../src/commands/tenants.ts";
import { renderTokens, revocation, tokenRows } from "../../src/commands/tokens.ts";

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  // No KAFKA_BROKERS: a command that got as far as Kafka would fail with exit 1, not 2.
  const code = await runCli(args, {
    env: { KAFKA_BROKERS: "127.0.0.1:1" },
    stdin: Readable.from([]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const T0 = Date.UTC(2026, 2, 1, 12);

function directory() {
  const d = new TenantDirectory();
  d.apply(
    tenantKey("acme"),
    codecs.tenant.encode({ tenant: "acme", display_name: "Acme GmbH", created_at: T0 }),
  );
  d.apply(
    tenantKey("globex"),
    codecs.tenant.encode({ tenant: "globex", display_name: null, created_at: T0 + 1 }),
  );
  const tokens = {
    ci: createToken("acme", "ci", T0),
    auditor: createToken("acme", null, T0 + 60_000),
    globex: createToken("globex", "other", T0),
  };
  const revokedCi = { ...tokens.ci.record, revoked_at: T0 + 3_600_000 };
  for (const record of [revokedCi, tokens.auditor.record, tokens.globex.record])
    d.apply(tokenKey(record.tenant, record.token_id), codecs.apiToken.encode(record));
  return { d, tokens };
}

describe("aiaudit tenants / tokens: usage errors before any request (exit 2)", () => {
  const cases: [string, string[], RegExp][] = [
    ["no TENANT", ["tenants", "create"], /TENANT is required/],
    [
      "a TENANT the services refuse",
      ["tenants", "create", "North_Wind"],
      /TENANT "North_Wind" is not a tenant id: 1-63 lower-case/,
    ],
    ["two TENANTs", ["tenants", "create", "acme", "globex"], /one TENANT, not 2/],
    [
      "an empty --display-name",
      ["tenants", "create", "acme", "--display-name", "  "],
      /--display-name is empty/,
    ],
    [
      "a line break in --token-name",
      ["tenants", "create", "acme", "--token-name", "a\nb"],
      /--token-name holds a line break/,
    ],
    ["an unknown option", ["tenants", "list", "--tenant", "acme"], /Unknown option '--tenant'/],
    ["tokens create without --tenant", ["tokens", "create", "--name", "x"], /--tenant is required/],
    [
      "tokens list with a bad --tenant",
      ["tokens", "list", "--tenant", "ACME"],
      /--tenant "ACME" is not a tenant id/,
    ],
    ["tokens revoke without TOKEN_ID", ["tokens", "revoke", "--tenant", "acme"], /TOKEN_ID is required/],
    ["tokens revoke with two ids", ["tokens", "revoke", "--tenant", "acme", "a", "b"], /one TOKEN_ID, not 2/],
  ];
  for (const [what, args, message] of cases)
    it(what, async () => {
      const r = await cli(args);
      assert.equal(r.code, 2, r.err);
      assert.match(r.err, message);
      assert.match(r.err, new RegExp(`usage: aiaudit ${args[0] ?? ""} ${args[1] ?? ""}`));
      assert.equal(r.out, "");
    });
  it("tokens revoke with the whole token instead of its id: refused, the token not repeated", async () => {
    const { token, record } = createToken("acme", null);
    const r = await cli(["tokens", "revoke", "--tenant", "acme", token]);
    assert.equal(r.code, 2);
    assert.match(
      r.err,
      new RegExp(`TOKEN_ID is a whole token \\(not repeated here\\), not its id: give ${record.token_id}`),
    );
    assert.ok(!r.err.includes(token) && !r.err.includes(token.slice(17)));
  });
  for (const command of [
    ["tenants", "create"],
    ["tenants", "list"],
    ["tokens", "create"],
    ["tokens", "list"],
    ["tokens", "revoke"],
  ])
    it(`${command.join(" ")} --help prints its usage`, async () => {
      const r = await cli([...command, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^usage: aiaudit ${command.join(" ")} `));
    });
  it("`aiaudit tokens` alone lists create, list and revoke", async () => {
    const r = await cli(["tokens", "--help"]);
    assert.equal(r.code, 0);
    for (const sub of ["create", "list", "revoke"]) assert.match(r.out, new RegExp(`aiaudit tokens ${sub}`));
  });
});

describe("newTokenLines", () => {
  it("shows the token on one line only, with its id, that it is shown once, and the Authorization header", () => {
    const { token, record } = createToken("acme", "ci");
    const lines = newTokenLines(token, record);
    assert.equal(lines.filter((l) => l.includes(token)).length, 1);
    assert.equal(lines.join("\n").split(token).length, 2, "the token appears exactly once");
    assert.ok(lines.includes(`token id: ${record.token_id} (ci)`));
    assert.match(lines.join("\n"), /shown only this once/);
    assert.match(lines.join("\n"), /Authorization: Bearer <token>/);
    assert.match(lines.join("\n"), new RegExp(`aiaudit tokens revoke --tenant acme ${record.token_id}`));
    assert.ok(!lines.join("\n").includes(record.token_sha256));
  });
});

describe("tenant and token lists", () => {
  it("tenantRows: by id, with created_at and valid and revoked token counts", () => {
    assert.deepEqual(tenantRows(directory().d), [
      {
        tenant: "acme",
        display_name: "Acme GmbH",
        created_at: "2026-03-01T12:00:00.000Z",
        valid_tokens: 1,
        revoked_tokens: 1,
      },
      {
        tenant: "globex",
        display_name: null,
        created_at: "2026-03-01T12:00:00.001Z",
        valid_tokens: 1,
        revoked_tokens: 0,
      },
    ]);
  });
  it("renderTenants: a table; none: how to create one", () => {
    assert.deepEqual(renderTenants(tenantRows(directory().d)), [
      "TENANT  DISPLAY NAME  CREATED                   VALID TOKENS",
      "acme    Acme GmbH     2026-03-01T12:00:00.000Z  1 (1 revoked)",
      "globex  -             2026-03-01T12:00:00.001Z  1",
    ]);
    assert.match(renderTenants([])[0] ?? "", /^no tenants: create one with `aiaudit tenants create TENANT`$/);
  });
  it("tokenRows / renderTokens: the tenant's tokens oldest first, revoked_at or valid, never a hash or a token", () => {
    const { d, tokens } = directory();
    const rows = tokenRows(d, "acme");
    assert.deepEqual(rows, [
      {
        token_id: tokens.ci.record.token_id,
        name: "ci",
        created_at: "2026-03-01T12:00:00.000Z",
        revoked_at: "2026-03-01T13:00:00.000Z",
      },
      {
        token_id: tokens.auditor.record.token_id,
        name: null,
        created_at: "2026-03-01T12:01:00.000Z",
        revoked_at: null,
      },
    ]);
    const text = renderTokens("acme", rows);
    assert.deepEqual(text, [
      "TOKEN ID      NAME  CREATED                   STATUS",
      `${tokens.ci.record.token_id}  ci    2026-03-01T12:00:00.000Z  revoked 2026-03-01T13:00:00.000Z`,
      `${tokens.auditor.record.token_id}  -     2026-03-01T12:01:00.000Z  valid`,
    ]);
    const everything = JSON.stringify(rows) + text.join("\n");
    for (const t of Object.values(tokens)) {
      assert.ok(!everything.includes(t.record.token_sha256), "no hash");
      assert.ok(!everything.includes(t.token), "no token");
    }
    assert.ok(!everything.includes(tokens.globex.record.token_id), "no other tenant's token");
    assert.match(renderTokens("initech", [])[0] ?? "", /tenant initech has no tokens/);
  });
  it("table pads every column but the last", () => {
    assert.deepEqual(
      table(
        ["A", "BB"],
        [
          ["xyz", "1"],
          ["", ""],
        ],
      ),
      ["A    BB", "xyz  1", ""],
    );
  });
});

describe("revocation", () => {
  it("a valid token: the same record with revoked_at = now", () => {
    const { d, tokens } = directory();
    assert.deepEqual(revocation(d, "acme", tokens.auditor.record.token_id, T0 + 5), {
      write: { ...tokens.auditor.record, revoked_at: T0 + 5 },
    });
  });
  it("an unknown id and another tenant's id get the same answer", () => {
    const { d, tokens } = directory();
    const other = tokens.globex.record.token_id;
    assert.deepEqual(revocation(d, "acme", other, T0), {
      refused: `no token ${other} for tenant acme: \`aiaudit tokens list --tenant acme\` shows its tokens`,
    });
    assert.deepEqual(revocation(d, "acme", "000000000000", T0), {
      refused: "no token 000000000000 for tenant acme: `aiaudit tokens list --tenant acme` shows its tokens",
    });
  });
  it("a revoked token: says when, writes nothing", () => {
    const { d, tokens } = directory();
    const outcome = revocation(d, "acme", tokens.ci.record.token_id, T0 + 9_999_999);
    assert.ok("already" in outcome);
    assert.match(outcome.already, /was revoked already, at 2026-03-01T13:00:00\.000Z: nothing written/);
  });
});

describe("status: evidence packs (monthly schedule)", () => {
  const month = (m: number) => Date.UTC(2026, m, 1);
  function run(
    tenant: string,
    module: PackRunRecord["module"],
    m: number,
    over: Partial<PackRunRecord> = {},
  ) {
    const record: PackRunRecord = {
      tenant,
      module,
      period_start: month(m),
      period_end: month(m + 1) - 1,
      state: "SUCCEEDED",
      attempts: 1,
      last_error: null,
      next_attempt_at: null,
      pack_id: `${tenant}${module}${m}`.padEnd(32, "0"),
      sequence: m + 1,
      updated_at: month(m + 1) + 3_600_000,
      ...over,
    };
    return record;
  }
  function records(...runs: PackRunRecord[]): Map<string, IncomingRecord> {
    const map = new Map<string, IncomingRecord>();
    runs.forEach((r, i) => {
      const key = `${r.tenant}/${r.module}/${new Date(r.period_start).toISOString()}`;
      map.set(key, {
        topic: "p.control.pack-runs.v1",
        partition: 0,
        offset: String(i),
        key,
        value: codecs.packRun.encode(r),
        headers: {},
        timestamp: "0",
      });
    });
    return map;
  }
  const failed = run("acme", "copilot", 2, {
    state: "FAILED",
    attempts: 3,
    last_error: "ClickHouse is not reachable",
    next_attempt_at: Date.UTC(2026, 3, 1, 6),
    pack_id: null,
    sequence: null,
  });
  const all = records(
    run("acme", "copilot", 0),
    run("acme", "copilot", 1),
    failed,
    run("acme", "openai_admin", 2),
    run("globex", "copilot", 2),
  );

  it("summarizePackRuns: by tenant, module, newest month first; --tenant keeps only that tenant", () => {
    const problems: string[] = [];
    const packs = summarizePackRuns(all, undefined, problems);
    assert.deepEqual(problems, []);
    assert.deepEqual(
      packs.map((p) => `${p.tenant} ${p.module} ${p.period} ${p.state}`),
      [
        "acme copilot 2026-03 FAILED",
        "acme copilot 2026-02 SUCCEEDED",
        "acme copilot 2026-01 SUCCEEDED",
        "acme openai_admin 2026-03 SUCCEEDED",
        "globex copilot 2026-03 SUCCEEDED",
      ],
    );
    assert.deepEqual(packs[0], {
      tenant: "acme",
      module: "copilot",
      period: "2026-03",
      period_start: "2026-03-01T00:00:00.000Z",
      period_end: "2026-03-31T23:59:59.999Z",
      state: "FAILED",
      attempts: 3,
      last_error: "ClickHouse is not reachable",
      next_attempt_at: "2026-04-01T06:00:00.000Z",
      pack_id: null,
      sequence: null,
      updated_at: "2026-04-01T01:00:00.000Z",
    });
    assert.deepEqual(
      summarizePackRuns(all, "globex", problems).map((p) => p.tenant),
      ["globex"],
    );
  });
  it("a record that cannot be read is a problem, not a failure", () => {
    const map = records(run("acme", "copilot", 0));
    const [good] = map.values();
    assert.ok(good);
    map.set("acme/copilot/x", { ...good, key: "acme/copilot/x", value: Buffer.from("junk") });
    const problems: string[] = [];
    assert.equal(summarizePackRuns(map, undefined, problems).length, 1);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? "", /key acme\/copilot\/x\) cannot be read/);
  });

  function status(packs: Status["packs"]): Status {
    return {
      at: "2026-04-01T07:00:00.000Z",
      kafka: { brokers: ["b:9092"], prefix: "p", error: null },
      connections: [],
      packs,
      destinations: [],
      clickhouse: { database: "d", where: "w", error: null },
      tables: [],
      problems: [],
    };
  }
  const section = (lines: string[]) => {
    const text = lines.join("\n").split("\n");
    const start = text.indexOf("evidence packs (monthly schedule, p.control.pack-runs.v1):");
    assert.ok(start >= 0, text.join("\n"));
    const end = text.findIndex((l, i) => i > start && !l.startsWith(" "));
    return text.slice(start + 1, end);
  };

  it("render: FAILED with attempts, next attempt and error; the newest SUCCEEDED with pack id prefix and sequence; older ones counted", () => {
    const lines = section(render(status(summarizePackRuns(all, undefined, []))));
    assert.deepEqual(lines, [
      "  acme    copilot       2026-03  FAILED     3 attempts, next attempt 2026-04-01T06:00:00.000Z",
      "      ClickHouse is not reachable",
      "  acme    copilot       2026-02  SUCCEEDED  pack acmecopilot1… sequence 2, at 2026-03-01T01:00:00.000Z",
      "  acme    copilot       and 1 earlier month SUCCEEDED (--json lists them)",
      "  acme    openai_admin  2026-03  SUCCEEDED  pack acmeopenai_a… sequence 3, at 2026-04-01T01:00:00.000Z",
      "  globex  copilot       2026-03  SUCCEEDED  pack globexcopilo… sequence 3, at 2026-04-01T01:00:00.000Z",
    ]);
  });
  it("render: no runs (or no topic) is 'no scheduled pack yet'", () => {
    assert.deepEqual(section(render(status([]))), ["  no scheduled pack yet"]);
  });
});
