/**
 * Issue 8, the benchmark's fix: a pack's rows are read in ranges of the table's sorting key, sorted
 * per range by ClickHouse and merged by the packer, and ClickHouse writes the JSON lines itself, so
 * that memory does not grow with the month's rows. The lines must stay exactly what the one-query
 * path gave (every row through JSON.parse, times to RFC 3339, canonicalJson), whatever the strings
 * hold: escapes JavaScript writes differently (`\u001f`, U+2028), invalid UTF-8, `/`, quotes; with
 * duplicates left for FINAL, one range or many. A 64-bit integer beyond 2^53 − 1 still fails the
 * pack, and a column type whose JSON could differ is refused.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { canonicalJson } from "@aiaudit/evidence-pack";
import { parsePeriod } from "@aiaudit/packer";
import { testClickHouse } from "@aiaudit/testing";
import { EVENT_COLUMNS, USAGE_COLUMNS } from "../../src/copilot.ts";
import { jsonLines, params, rfc3339, type LinesQuery, type Scope } from "../../src/sql.ts";

const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;
let scope: Scope;
const EVENTS = 3_000;

/** Twelve bytes from `number`: control characters, quotes, backslashes, invalid UTF-8 and all. */
const bytes = (salt: number): string =>
  `arrayStringConcat(arrayMap(i -> char((number * ${salt} + i * 37) % 256), range(12)))`;
/** Text of every kind, by row. */
const text = (salt: number): string =>
  `multiIf(number % 5 = 0, ${bytes(salt)}, number % 5 = 1, concat('a/b\\\\c"d', unhex('E280A8'), '😀', char(31)),
     number % 5 = 2, concat('tab', char(9), 'nl', char(10)), number % 5 = 3, 'plain', concat('é', toString(number)))`;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  scope = { ch, tenant: "acme", period: parsePeriod("2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z") };
  const t = (name: string): string => ch.table(name);
  await ch.command(`INSERT INTO ${t("copilot_audit_events")} SELECT
    if(number % 40 = 0, 'other', 'acme'), ['acme', 'beta', 'zeta/x'][number % 3 + 1], 'ORGANIZATION',
    if(number % 9 = 0, concat(${bytes(3)}, toString(number)), hex(SHA256(toString(number)))),
    'copilot.cfb_seat_added',
    toDateTime64('2026-04-01 00:00:00', 3, 'UTC') + toIntervalMillisecond(cityHash64(number) % 2678400000),
    if(number % 4 = 0, NULL, ${text(5)}), if(number % 3 = 0, 'Copilot', NULL), number % 3 = 0, NULL, ${text(7)},
    'US', ${text(11)}, NULL, concat('{"k":"', ${text(13)}, '"}'), 'pk-1', toDateTime64('2026-05-01 00:00:00', 3, 'UTC')
    FROM numbers(${EVENTS})`);
  // Later versions of some events, with other content: FINAL keeps these.
  await ch.command(`INSERT INTO ${t("copilot_audit_events")} SELECT tenant, org, scope, event_id, action, created_at,
    actor_pseudonym, actor_agent, actor_is_agent, agent_session_id, user_pseudonym, actor_country_code, business,
    event_org, concat(raw_json, '-v2'), pseudonym_key_id, ingested_at + toIntervalSecond(1)
    FROM ${t("copilot_audit_events")} WHERE cityHash64(event_id) % 10 = 0`);
  await ch.command(`INSERT INTO ${t("copilot_usage_records")} SELECT 'acme', ['ent-a', 'ent-b'][number % 2 + 1],
    concat('rec-', toString(number)), 'request', NULL, if(number % 3 = 0, NULL, toInt64(number) * -1000003), NULL, NULL,
    toDateTime64('2026-04-02 00:00:00', 3, 'UTC') + toIntervalSecond(number % 97), number % 2 = 0, NULL,
    [${text(17)}, 'read_file'], 'hmac', number * 4096, '{}', if(number % 2 = 0, ${text(19)}, NULL), 'pk-1',
    toDateTime64('2026-05-01 00:00:00', 3, 'UTC')
    FROM numbers(1000)`);
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

const events = (): LinesQuery => ({
  table: ch.table("copilot_audit_events"),
  where:
    "tenant = {tenant:String} AND created_at BETWEEN {start:DateTime64(3, 'UTC')} AND {end:DateTime64(3, 'UTC')}",
  columns: EVENT_COLUMNS,
  orderBy: ["org", "created_at", "event_id"],
  rangeBy: ["org", "event_id"],
});

const usage = (): LinesQuery => ({
  table: ch.table("copilot_usage_records"),
  where: "tenant = {tenant:String}",
  columns: USAGE_COLUMNS,
  orderBy: ["enterprise", "created_at", "record_id"],
  rangeBy: ["enterprise", "record_id"],
});

/** The lines as the packer wrote them before ranges: one query, each row parsed and re-encoded. */
async function oneQuery(query: LinesQuery, times: string[]): Promise<Buffer> {
  const sql = `SELECT ${query.columns.join(", ")} FROM ${query.table} FINAL WHERE ${query.where}
    ORDER BY ${query.orderBy.join(", ")} SETTINGS output_format_json_quote_64bit_integers = 0`;
  const lines: string[] = [];
  for await (const row of ch.stream<Record<string, unknown>>(sql, params(scope))) {
    for (const name of times) row[name] = rfc3339(row[name]);
    lines.push(`${canonicalJson(row)}\n`);
  }
  return Buffer.from(lines.join(""), "utf8");
}

async function collect(source: AsyncIterable<Buffer>): Promise<Buffer> {
  const blocks: Buffer[] = [];
  for await (const block of source) blocks.push(block);
  return Buffer.concat(blocks);
}

describe("jsonLines in ranges", () => {
  it("gives the one-query lines byte for byte, in one range and in many", async () => {
    const expected = await oneQuery(events(), ["created_at"]);
    const lines = expected.toString("utf8").split("\n").length - 1;
    assert.ok(
      lines > EVENTS * 0.9 && lines < EVENTS,
      `${lines} events of the period, this tenant's, once each`,
    );
    assert.match(expected.toString("utf8"), /\\u001f/, "a line with an escape ClickHouse writes otherwise");
    assert.match(expected.toString("utf8"), /\uFFFD/, "a line that was not UTF-8");
    for (const rangeRows of [1_000_000, 700, 97]) {
      const got = await collect(jsonLines(scope, events(), { rangeRows }));
      assert.ok(got.equals(expected), `ranges of ${rangeRows} rows: the same bytes`);
    }
  });

  it("gives the same bytes when the output arrives in pieces cut anywhere, as a server's response does", async () => {
    const expected = await oneQuery(events(), ["created_at"]);
    let pieces = 0;
    const cut: ClickHouse = {
      ...ch,
      async *streamBytes(query, format, queryParams) {
        for await (const block of ch.streamBytes(query, format, queryParams)) {
          // pieces of 1 to 500 bytes: inside a key, a line, a UTF-8 sequence
          for (let at = 0; at < block.length;) {
            const size = 1 + ((at * 7919 + pieces++) % 500);
            yield block.subarray(at, at + size);
            at += size;
          }
        }
      },
    };
    const got = await collect(jsonLines({ ...scope, ch: cut }, events(), { rangeRows: 500 }));
    assert.ok(pieces > 1000, `${pieces} pieces`);
    assert.ok(got.equals(expected), "the same bytes");
  });

  it("spools ranges under the scope's spool directory and removes them, read whole or not", async () => {
    const spoolDir = await mkdtemp(join(tmpdir(), "aiaudit-ranges-"));
    cleanups.push(() => rm(spoolDir, { recursive: true, force: true }));
    let seen: string[] = [];
    for await (const block of jsonLines({ ...scope, spoolDir }, events(), { rangeRows: 200 })) {
      assert.ok(block.length > 0);
      seen = await readdir(spoolDir);
    }
    assert.equal(seen.length, 1, "one spool directory while reading");
    assert.match(seen[0] ?? "", /^aiaudit-pack-rows-/, "named so the store's leftover cleanup finds it");
    assert.deepEqual(await readdir(spoolDir), [], "removed once read");
    for await (const block of jsonLines({ ...scope, spoolDir }, events(), { rangeRows: 200 })) {
      assert.ok(block.length > 0);
      break; // a build that fails midway stops reading
    }
    assert.deepEqual(await readdir(spoolDir), [], "removed when reading stopped early");
  });

  it("writes arrays, 64-bit integers, booleans and nulls as before", async () => {
    const expected = await oneQuery(usage(), ["created_at"]);
    assert.match(expected.toString("utf8"), /"enterprise_id":-\d+/);
    for (const rangeRows of [1_000_000, 64]) {
      const got = await collect(jsonLines(scope, usage(), { rangeRows }));
      assert.ok(got.equals(expected), `ranges of ${rangeRows} rows: the same bytes`);
    }
  });

  it("fails on a 64-bit integer beyond 2^53 - 1, as canonicalJson did", async () => {
    await ch.command(`INSERT INTO ${ch.table("copilot_usage_records")} SELECT 'acme', 'ent-c', 'rec-big', 'request',
      NULL, 9007199254740993, NULL, NULL, toDateTime64('2026-04-03 00:00:00', 3, 'UTC'), false, NULL, [], 'h',
      0, '{}', NULL, 'pk-1', toDateTime64('2026-05-01 00:00:00', 3, 'UTC')`);
    const big = { ...usage(), where: "tenant = {tenant:String} AND enterprise = 'ent-c'" };
    await assert.rejects(collect(jsonLines(scope, big)), /beyond 2\^53/);
  });

  it("refuses a column whose JSON canonicalJson would write otherwise", async () => {
    await ch.command(
      `CREATE TABLE ${ch.table("floats")} (tenant String, id String, x Float64) ENGINE = MergeTree ORDER BY (tenant, id)`,
    );
    const query: LinesQuery = {
      table: ch.table("floats"),
      where: "tenant = {tenant:String}",
      columns: ["id", "x"],
      orderBy: ["id"],
      rangeBy: ["id"],
    };
    await assert.rejects(collect(jsonLines(scope, query)), /x has type Float64/);
  });
});
