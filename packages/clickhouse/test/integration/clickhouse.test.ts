/**
 * The ClickHouse adapter on the embedded engine: streamed reads that do not hold the whole result,
 * insert failures told apart into "these rows are wrong" and "try again", and no stale output
 * after a failed query.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { isRowRejection, type ClickHouse } from "@aiaudit/clickhouse";
import { testClickHouse } from "@aiaudit/testing";
import { resultSetRows } from "../../src/client.ts";

const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;
/** A query whose row 999,999 raises an error when the engine computes it. */
const FAILS_AT_THE_END = "SELECT number AS n, throwIf(number = 999999) AS boom FROM numbers(1000000)";

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  await ch.command(
    `CREATE TABLE ${ch.table("t")} (id String, at DateTime64(3, 'UTC'), n UInt32) ENGINE = MergeTree ORDER BY id`,
  );
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("stream()", () => {
  it("yields the first rows of a million-row result without computing the rest", async () => {
    // rows() (like the client's ResultSet on chdb's connection) materializes the result, so it
    // reaches row 999,999 and fails; a streaming reader that stops after ten rows never gets there.
    await assert.rejects(ch.rows(FAILS_AT_THE_END), /throwIf/);
    const first: number[] = [];
    for await (const row of ch.stream<{ n: string }>(FAILS_AT_THE_END)) {
      first.push(Number(row.n));
      if (first.length === 10) break;
    }
    assert.deepEqual(first, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });

  it("reads every row in order, binds parameters, and overlaps with other streams and queries", async () => {
    const a = ch.stream<{ n: string }>("SELECT number AS n FROM numbers({count:UInt32})", { count: 200_000 });
    const b = ch.stream<{ n: string }>("SELECT number * 2 AS n FROM numbers(3)");
    const ia = a[Symbol.asyncIterator]();
    const ib = b[Symbol.asyncIterator]();
    const next = async (it: AsyncIterator<{ n: string }>) => {
      const r = await it.next();
      assert.ok(r.done !== true);
      return Number(r.value.n);
    };
    try {
      assert.equal(await next(ia), 0);
      assert.equal(await next(ib), 0); // a second stream while the first is open
      assert.deepEqual(await ch.rows("SELECT 1 AS one"), [{ one: 1 }]); // and a query
      let count = 1;
      let last = 0;
      for (let r = await ia.next(); !r.done; r = await ia.next()) {
        count += 1;
        last = Number(r.value.n);
      }
      assert.equal(count, 200_000);
      assert.equal(last, 199_999);
      const rest: number[] = [];
      for (let r = await ib.next(); !r.done; r = await ib.next()) rest.push(Number(r.value.n));
      assert.deepEqual(rest, [2, 4]);
    } finally {
      await ia.return?.();
      await ib.return?.();
    }
  });

  it("a failing query fails the loop with CLICKHOUSE_FAILED", async () => {
    await assert.rejects(
      async () => {
        for await (const row of ch.stream(`SELECT * FROM ${ch.table("no_such_table")}`))
          assert.fail(String(row));
      },
      (err: Error & { code?: string }) =>
        err.code === "CLICKHOUSE_FAILED" && /no_such_table/.test(err.message),
    );
  });

  it("the server path (ResultSet.stream, JSONEachRow) yields the same rows", async () => {
    // On chdb the client's ResultSet arrives whole, so this checks the parsing, not the streaming.
    const rows: number[] = [];
    const query = "SELECT number AS n FROM numbers({c:UInt8})";
    for await (const row of resultSetRows<{ n: string }>(ch.client, query, { c: 5 }))
      rows.push(Number(row.n));
    assert.deepEqual(rows, [0, 1, 2, 3, 4]);
  });
});

describe("rows()", () => {
  it("after a query that failed late, the next query gets its own rows only", async () => {
    // chdb 3.4 left the failed query's output on the connection for the next query to return.
    await assert.rejects(ch.rows(FAILS_AT_THE_END), /throwIf/);
    assert.deepEqual(await ch.rows("SELECT 1 AS one"), [{ one: 1 }]);
  });
});

describe("insert failures", () => {
  it("a value ClickHouse cannot store is a row rejection, not retryable, with ClickHouse's code", async () => {
    const micro = new Date(Date.now() * 1000).toISOString(); // microseconds read as ms: year ~58000
    const err = await ch.insert("t", [{ id: "x", at: micro, n: 1 }]).catch((e: unknown) => e);
    assert.ok(isRowRejection(err));
    assert.equal(err.retryable, false);
    assert.equal(err.details.clickhouse_type, "CANNOT_PARSE_DATETIME");
    assert.equal(err.details.clickhouse_code, 41);
    const negative = await ch
      .insert("t", [{ id: "y", at: new Date().toISOString(), n: -1 }])
      .catch((e: unknown) => e);
    assert.ok(isRowRejection(negative));
    assert.equal(negative.details.clickhouse_type, "CANNOT_PARSE_NUMBER");
    const [count] = await ch.rows<{ c: string | number }>(`SELECT count() AS c FROM ${ch.table("t")}`);
    assert.equal(Number(count?.c), 0); // chdb gives UInt64 as a number, a server as a string
  });

  it("a missing table is retryable, never a row rejection", async () => {
    const missing = await ch.insert("no_such_table", [{ id: "x" }]).catch((e: unknown) => e);
    assert.equal(isRowRejection(missing), false);
    assert.equal((missing as { retryable?: boolean }).retryable, true);
    assert.equal((missing as { code?: string }).code, "CLICKHOUSE_FAILED");
  });
});

describe("insert deduplication tokens", () => {
  // Regression: the embedded engine kept the last insert's token, so the next inserts without
  // one (tenant settings written after a sink's batch) were dropped as its duplicates.
  it("an insert without a token after one with a token lands, and so does the next", async () => {
    await ch.command(
      `CREATE TABLE ${ch.table("d")} (id String) ENGINE = MergeTree ORDER BY id SETTINGS non_replicated_deduplication_window = 100`,
    );
    await ch.insert("t", [{ id: "a", at: new Date().toISOString(), n: 1 }], "token-1");
    await ch.insert("d", [{ id: "b" }]);
    await ch.insert("d", [{ id: "c" }]);
    await ch.insert("d", [{ id: "e" }], "token-2");
    await ch.insert("d", [{ id: "e" }], "token-2");
    const rows = await ch.rows<{ id: string }>(`SELECT id FROM ${ch.table("d")} ORDER BY id`);
    assert.deepEqual(
      rows.map((r) => r.id),
      ["b", "c", "e"],
    );
  });
});
