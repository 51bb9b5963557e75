/**
 * `aiaudit billing` against the real ClickHouse engine (seat snapshots inserted directly; the
 * path through Kafka is services/snapshotter/test/issues/9-billing.test.ts): the month's text and
 * JSON, prices from the command line, and usage errors before any query.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { Readable } from "node:stream";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { runCli } from "@aiaudit/cli";
import { testClickHouse } from "@aiaudit/testing";

const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

async function snapshot(id: string, takenAt: string, seats: number): Promise<void> {
  await ch.insert(
    "copilot_seat_snapshots",
    Array.from({ length: seats }, (_, i) => ({
      tenant: "acme",
      org: "acme",
      scope: "ORGANIZATION",
      snapshot_id: id,
      taken_at: takenAt,
      seat_id: `s${i}`,
      assignee_pseudonym: `p${i}`,
      assignee_type: "User",
      organization: null,
      assigning_team: null,
      plan_type: "business",
      created_at: "2025-01-01T00:00:00.000Z",
      pending_cancellation_date: null,
      last_activity_at: null,
      last_activity_editor: null,
      last_authenticated_at: null,
      pseudonym_key_id: "k",
      kafka_partition: 0,
      kafka_offset: 0,
    })),
  );
  await ch.insert("copilot_seat_snapshot_markers", [
    {
      tenant: "acme",
      org: "acme",
      scope: "ORGANIZATION",
      snapshot_id: id,
      taken_at: takenAt,
      row_count: seats,
      total_seats: seats,
      pseudonym_key_id: "k",
    },
  ]);
}

async function billing(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["billing", ...args], {
    env: {
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

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  await snapshot("s-0101", "2026-01-01T06:00:00.000Z", 30);
  await snapshot("s-0115", "2026-01-15T06:00:00.000Z", 35);
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("aiaudit billing", () => {
  it("prints the month's bill: 1015 seat-days / 31 = 32.74 → 33 seats → EUR 33.00", async () => {
    const { code, out } = await billing("--tenant", "acme", "--month", "2026-01");
    assert.equal(code, 0);
    assert.match(out, /seats: 1015 seat-days \/ 31 days = 32\.74 → 33 × EUR 1\.00 = EUR 33\.00/);
    assert.match(out, /29 days carried forward/);
    assert.match(out, /OpenAI: no connected organization: nothing to bill/);
    assert.match(out, /total: EUR 33\.00/);
  });

  it("--json and prices from the command line", async () => {
    const { code, out } = await billing(
      "--tenant",
      "acme",
      "--month",
      "2026-01",
      "--json",
      "--copilot-seat-price",
      "2.5",
      "--currency",
      "USD",
    );
    assert.equal(code, 0);
    const bill = JSON.parse(out) as {
      currency: string;
      total_cents: number;
      copilot: { seats: { billable: number } };
    };
    assert.equal(bill.currency, "USD");
    assert.equal(bill.copilot.seats.billable, 33);
    assert.equal(bill.total_cents, 33 * 250);
  });

  it("a tenant without organizations pays nothing", async () => {
    const { code, out } = await billing("--tenant", "nobody", "--month", "2026-01");
    assert.equal(code, 0);
    assert.match(out, /total: EUR 0\.00/);
  });

  it("refuses a bad month, price or currency with exit 2", async () => {
    for (const args of [
      ["--tenant", "acme", "--month", "2026-13"],
      ["--tenant", "acme"],
      ["--tenant", "acme", "--month", "2026-01", "--copilot-seat-price", "1,5"],
      ["--tenant", "acme", "--month", "2026-01", "--currency", "euro"],
    ]) {
      const { code, err } = await billing(...args);
      assert.equal(code, 2, args.join(" "));
      assert.match(err, /usage: aiaudit billing/);
    }
  });
});
