/**
 * Retention (issue 9): after the migrations, every table of evidence has a TTL on its event or
 * snapshot time, set again only when CLICKHOUSE_TTL_DAYS changes; rows older than the TTL are gone
 * after a merge (OPTIMIZE … FINAL), and a snapshot's END marker expires with its rows, so the
 * complete-snapshot and current views stay right. Known input, known answer, embedded engine.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { applyRetention, RETENTION_COLUMNS, ttlExpression, type ClickHouse } from "@aiaudit/clickhouse";
import { isAiauditError } from "@aiaudit/errors";
import { testClickHouse } from "@aiaudit/testing";

const DAY = 86_400_000;
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn)); // migrated, no retention yet
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

/** Each MergeTree table of the test database and the TTL clause ClickHouse shows for it. */
async function ttls(): Promise<Map<string, string | undefined>> {
  const tables = await ch.rows<{ name: string; engine_full: string }>(
    "SELECT name, engine_full FROM system.tables WHERE database = {db:String} AND engine LIKE '%MergeTree'",
    { db: ch.database },
  );
  return new Map(tables.map((t) => [t.name, / TTL (.+?) SETTINGS /.exec(t.engine_full)?.[1]]));
}

const iso = (ms: number) => new Date(ms).toISOString();

describe("applyRetention", () => {
  it("puts a TTL on every table of evidence, on its event or snapshot time, and on nothing else", async () => {
    const result = await applyRetention(ch, 400);
    assert.deepEqual(result.changed.sort(), Object.keys(RETENTION_COLUMNS).sort());
    const found = await ttls();
    for (const [table, column] of Object.entries(RETENTION_COLUMNS)) {
      assert.equal(found.get(table), `${column} + toIntervalDay(400)`, table);
    }
    // A table added by a later migration must be named in RETENTION_COLUMNS (or here, on purpose).
    const without = [...found].filter(([, ttl]) => ttl === undefined).map(([name]) => name);
    assert.deepEqual(without.sort(), ["schema_migrations", "tenant_domains"]);
  });

  it("is idempotent, follows a changed setting, and 0 removes the TTL", async () => {
    const again = await applyRetention(ch, 400);
    assert.deepEqual(again.changed, []);
    assert.equal(again.unchanged.length, Object.keys(RETENTION_COLUMNS).length);

    assert.equal((await applyRetention(ch, 183)).changed.length, Object.keys(RETENTION_COLUMNS).length);
    assert.equal((await ttls()).get("copilot_audit_events"), ttlExpression("created_at", 183));
    assert.equal((await ttls()).get("copilot_daily_seats"), "day + toIntervalDay(183)");

    assert.equal((await applyRetention(ch, 0)).changed.length, Object.keys(RETENTION_COLUMNS).length);
    assert.equal((await ttls()).get("openai_audit_events"), undefined);
    assert.deepEqual((await applyRetention(ch, 0)).changed, []);
  });

  it("refuses less than six months, and a missing table", async () => {
    for (const days of [1, 182, -1, 1.5]) {
      await assert.rejects(applyRetention(ch, days), (err) => isAiauditError(err, "CONFIG_INVALID"));
    }
    await ch.command(`RENAME TABLE ${ch.table("copilot_metrics_rows")} TO ${ch.table("metrics_aside")}`);
    try {
      await assert.rejects(
        applyRetention(ch, 400),
        (err) => isAiauditError(err, "MIGRATION_FAILED") && /copilot_metrics_rows/.test(err.message),
      );
    } finally {
      await ch.command(`RENAME TABLE ${ch.table("metrics_aside")} TO ${ch.table("copilot_metrics_rows")}`);
    }
  });
});

const optimize = async (...tables: string[]) => {
  for (const table of tables) await ch.command(`OPTIMIZE TABLE ${ch.table(table)} FINAL`);
};

describe("rows older than the TTL", () => {
  const now = Date.now();

  before(async () => {
    await applyRetention(ch, 0);
    const event = (id: string, ageDays: number) => ({
      tenant: "t",
      org: "acme",
      scope: "ORGANIZATION",
      event_id: id,
      action: "copilot.cfb_seat_added",
      created_at: iso(now - ageDays * DAY),
      actor_is_agent: false,
      raw_json: "{}",
      pseudonym_key_id: "k1",
      ingested_at: iso(now),
    });
    await ch.insert("copilot_audit_events", [
      event("e-500", 500),
      event("e-300", 300),
      event("e-190", 190),
      event("e-10", 10),
    ]);
  });

  const eventIds = async () =>
    (
      await ch.rows<{ event_id: string }>(
        `SELECT event_id FROM ${ch.table("copilot_audit_events")} ORDER BY created_at`,
      )
    ).map((r) => r.event_id);

  it("are kept while there is no TTL, and gone after a merge once there is", async () => {
    await optimize("copilot_audit_events");
    assert.deepEqual(await eventIds(), ["e-500", "e-300", "e-190", "e-10"]);

    await applyRetention(ch, 400);
    await optimize("copilot_audit_events");
    assert.deepEqual(await eventIds(), ["e-300", "e-190", "e-10"]);

    await applyRetention(ch, 183);
    await optimize("copilot_audit_events");
    assert.deepEqual(await eventIds(), ["e-10"]);
  });
});

describe("a snapshot older than the TTL", () => {
  const now = Date.now();

  before(async () => {
    await applyRetention(ch, 0);
    // Two snapshots of one org, each complete: one taken 500 days ago, one 10 days ago.
    const snapshot = (id: string, ageDays: number, seats: number) => {
      const takenAt = iso(now - ageDays * DAY);
      const base = { tenant: "t", org: "acme", scope: "ORGANIZATION", snapshot_id: id, taken_at: takenAt };
      return {
        seats: Array.from({ length: seats }, (_, i) => ({
          ...base,
          seat_id: `${id}-${i}`,
          assignee_pseudonym: `p${i}`,
          plan_type: "business",
          created_at: takenAt,
          pseudonym_key_id: "k1",
          kafka_partition: 0,
          kafka_offset: i,
        })),
        marker: { ...base, row_count: seats, total_seats: seats, pseudonym_key_id: "k1" },
      };
    };
    const old = snapshot("snap-old", 500, 3);
    const recent = snapshot("snap-new", 10, 2);
    await ch.insert("copilot_seat_snapshots", [...old.seats, ...recent.seats]);
    await ch.insert("copilot_seat_snapshot_markers", [old.marker, recent.marker]);
  });

  const ids = async (table: string) =>
    (
      await ch.rows<{ snapshot_id: string }>(
        `SELECT DISTINCT snapshot_id FROM ${ch.table(table)} ORDER BY snapshot_id`,
      )
    ).map((r) => r.snapshot_id);

  it("is never miscounted while its rows are gone and its marker not yet", async () => {
    assert.deepEqual(await ids("copilot_complete_seat_snapshots"), ["snap-new", "snap-old"]);
    // As if the seat table had merged and the marker table not yet.
    await ch.command(
      `ALTER TABLE ${ch.table("copilot_seat_snapshots")} MODIFY TTL ${ttlExpression("taken_at", 400)}`,
    );
    await optimize("copilot_seat_snapshots");
    assert.deepEqual(await ids("copilot_seat_snapshots"), ["snap-new"]);
    assert.deepEqual(await ids("copilot_seat_snapshot_markers"), ["snap-new", "snap-old"]);
    assert.deepEqual(await ids("copilot_complete_seat_snapshots"), ["snap-new"]);
  });

  it("goes with its marker, and the current view shows the newest complete snapshot", async () => {
    await applyRetention(ch, 400);
    await optimize("copilot_seat_snapshots", "copilot_seat_snapshot_markers");
    assert.deepEqual(await ids("copilot_seat_snapshot_markers"), ["snap-new"]);
    assert.deepEqual(await ids("copilot_complete_seat_snapshots"), ["snap-new"]);
    const current = await ch.rows<{ seat_id: string }>(
      `SELECT seat_id FROM ${ch.table("copilot_current_seats")} ORDER BY seat_id`,
    );
    assert.deepEqual(
      current.map((s) => s.seat_id),
      ["snap-new-0", "snap-new-1"],
    );
  });
});
