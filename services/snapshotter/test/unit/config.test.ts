/**
 * The snapshotter's settings for batches (fetch sizes, rows per insert) and retention
 * (CLICKHOUSE_TTL_DAYS): defaults, overrides, and refusals that name the variable.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadConfig } from "@aiaudit/snapshotter/config";

const MiB = 1024 * 1024;

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

describe("loadConfig: batches", () => {
  it("defaults to fetches of 8 MiB or a second, 32 MiB a partition, 50 MiB in all, 100,000 rows an insert", () => {
    const config = loadConfig({});
    assert.equal(config.SNAPSHOTTER_FETCH_MIN_BYTES, 8 * MiB);
    assert.equal(config.SNAPSHOTTER_FETCH_MAX_WAIT_MS, 1000);
    assert.equal(config.SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION, 32 * MiB);
    assert.equal(config.SNAPSHOTTER_FETCH_MAX_BYTES, 50 * MiB);
    assert.equal(config.SNAPSHOTTER_MAX_INSERT_ROWS, 100_000);
  });

  it("takes other values", () => {
    const config = loadConfig({
      SNAPSHOTTER_FETCH_MIN_BYTES: "1",
      SNAPSHOTTER_FETCH_MAX_WAIT_MS: "250",
      SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION: "1048576",
      SNAPSHOTTER_FETCH_MAX_BYTES: "10485760",
      SNAPSHOTTER_MAX_INSERT_ROWS: "20000",
    });
    assert.equal(config.SNAPSHOTTER_FETCH_MIN_BYTES, 1);
    assert.equal(config.SNAPSHOTTER_FETCH_MAX_WAIT_MS, 250);
    assert.equal(config.SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION, MiB);
    assert.equal(config.SNAPSHOTTER_FETCH_MAX_BYTES, 10 * MiB);
    assert.equal(config.SNAPSHOTTER_MAX_INSERT_ROWS, 20_000);
  });

  it("refuses a long-poll that would starve heartbeats, and sizes that are not sizes", () => {
    assert.match(
      problem({ SNAPSHOTTER_FETCH_MAX_WAIT_MS: "6000" }),
      /SNAPSHOTTER_FETCH_MAX_WAIT_MS is malformed/,
    );
    assert.match(problem({ SNAPSHOTTER_FETCH_MIN_BYTES: "0" }), /SNAPSHOTTER_FETCH_MIN_BYTES is malformed/);
    assert.match(
      problem({ SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION: "1kb" }),
      /SNAPSHOTTER_FETCH_MAX_BYTES_PER_PARTITION is malformed/,
    );
    assert.match(
      problem({ SNAPSHOTTER_FETCH_MAX_BYTES: "1000" }),
      /SNAPSHOTTER_FETCH_MAX_BYTES is malformed/,
    );
    assert.match(problem({ SNAPSHOTTER_MAX_INSERT_ROWS: "0" }), /SNAPSHOTTER_MAX_INSERT_ROWS is malformed/);
    assert.match(
      problem({ SNAPSHOTTER_MAX_INSERT_ROWS: "" }),
      /SNAPSHOTTER_MAX_INSERT_ROWS is set but empty/,
    );
  });
});

describe("loadConfig: retention", () => {
  it("keeps rows 400 days by default, any number from 183 up, or forever with 0", () => {
    assert.equal(loadConfig({}).CLICKHOUSE_TTL_DAYS, 400);
    assert.equal(loadConfig({ CLICKHOUSE_TTL_DAYS: "183" }).CLICKHOUSE_TTL_DAYS, 183);
    assert.equal(loadConfig({ CLICKHOUSE_TTL_DAYS: "3650" }).CLICKHOUSE_TTL_DAYS, 3650);
    assert.equal(loadConfig({ CLICKHOUSE_TTL_DAYS: "0" }).CLICKHOUSE_TTL_DAYS, 0);
  });

  it("refuses less than six months, naming the variable and the reason", () => {
    const message = problem({ CLICKHOUSE_TTL_DAYS: "90" });
    assert.match(message, /CLICKHOUSE_TTL_DAYS is malformed: at least 183 days/);
    assert.match(message, /AI Act art\. 26\(6\)/);
    assert.match(problem({ CLICKHOUSE_TTL_DAYS: "182" }), /CLICKHOUSE_TTL_DAYS is malformed/);
    assert.match(problem({ CLICKHOUSE_TTL_DAYS: "-1" }), /CLICKHOUSE_TTL_DAYS is malformed/);
    assert.match(problem({ CLICKHOUSE_TTL_DAYS: "400.5" }), /CLICKHOUSE_TTL_DAYS is malformed/);
    assert.match(problem({ CLICKHOUSE_TTL_DAYS: "a year" }), /CLICKHOUSE_TTL_DAYS is malformed/);
  });
});
