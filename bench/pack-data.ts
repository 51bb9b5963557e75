/**
 * The data of bench/pack.ts: N Copilot audit events of one tenant and org in one month (November
 * 2026), generated inside ClickHouse (`INSERT … SELECT … FROM numbers(N)`, one statement, so
 * ClickHouse cuts its own parts as a bulk load does), and a daily seat snapshot of 200 seats.
 *
 * Field sizes as the ingest writes them: a random 22-character `_document_id` (so the pack's order,
 * by time, is not the table's, by id), 64-hex pseudonyms, and a `raw_json` of ~480 bytes. One row
 * of events.jsonl is ~1 KB.
 */
import { migrate, type ClickHouse } from "@aiaudit/clickhouse";
import { EVENT_COLUMNS } from "@aiaudit/packer/copilot";

export const BENCH_DATABASE = "bench_pack";
export const BENCH_TENANT = "bench";
export const BENCH_ORG = "acme";
/** The pack's signing seed (not a secret: a benchmark key). */
export const BENCH_KEY_SEED = Buffer.alloc(32, 8);
export const PERIOD = { periodStart: "2026-11-01T00:00:00Z", periodEnd: "2026-11-30T23:59:59Z" } as const;
const MONTH_MS = 30 * 86_400_000;
const START = "toDateTime64('2026-11-01 00:00:00', 3, 'UTC')";
const SEATS = 200;
/**
 * Events are inserted in this many parts whatever N is (a month's partition after ClickHouse's
 * background merges holds a few): a range read touches every part, so the count matters.
 */
const PARTS = 4;

/** The columns and order of the packer's events query. */
export { EVENT_COLUMNS };
export const EVENTS_ORDER_BY = "org, created_at, event_id";

/** N/PARTS events from `from` on: one INSERT, one part. */
function eventsSelect(from: number, count: number): string {
  return `SELECT '${BENCH_TENANT}' AS tenant, '${BENCH_ORG}' AS org, 'ORGANIZATION' AS scope,
      substring(base64Encode(unhex(hex(SHA256(toString(number))))), 1, 22) AS event_id,
      ['copilot.cfb_seat_assignment_created', 'copilot.cfb_seat_cancelled', 'copilot.policy_updated',
       'pull_request.create'][number % 4 + 1] AS action,
      ${START} + toIntervalMillisecond(cityHash64(number) % ${MONTH_MS}) AS created_at,
      lower(hex(SHA256(concat('actor', toString(number % 50))))) AS actor_pseudonym,
      if(number % 4 = 3, 'Copilot', NULL) AS actor_agent,
      number % 4 = 3 AS actor_is_agent,
      if(number % 4 = 3, toString(generateUUIDv4(number)), NULL) AS agent_session_id,
      lower(hex(SHA256(concat('user', toString(number % ${SEATS}))))) AS user_pseudonym,
      'US' AS actor_country_code, 'acme-enterprise' AS business, '${BENCH_ORG}' AS event_org,
      concat('{"@timestamp":', toString(toUnixTimestamp64Milli(created_at)), ',"_document_id":"', event_id,
        '","action":"', action, '","actor":"', actor_pseudonym,
        '","actor_id":9000,"actor_location":{"country_code":"US","country_name":"United States"},',
        '"business":"acme-enterprise","business_id":1,"created_at":', toString(toUnixTimestamp64Milli(created_at)),
        ',"operation_type":"modify","org":"${BENCH_ORG}","org_id":1,"user":"', user_pseudonym,
        '","user_id":', toString(10000 + number % ${SEATS}), '}') AS raw_json,
      'pk-bench' AS pseudonym_key_id,
      created_at + toIntervalSecond(30) AS ingested_at
    FROM numbers(${from}, ${count})`;
}

/** Migrates and fills an empty database with `events` events and the month's seat snapshots. */
export async function fill(ch: ClickHouse, events: number): Promise<void> {
  await migrate(ch);
  const t = (name: string): string => ch.table(name);
  for (let part = 0; part < PARTS; part++) {
    const from = Math.floor((events * part) / PARTS);
    const count = Math.floor((events * (part + 1)) / PARTS) - from;
    await ch.command(
      `INSERT INTO ${t("copilot_audit_events")} ${eventsSelect(from, count)}` +
        ` SETTINGS min_insert_block_size_rows = ${count + 1}, min_insert_block_size_bytes = ${2 ** 40}`,
    );
  }
  const snapshot = `concat('snap-', toString(day))`;
  const takenAt = `${START} + toIntervalDay(day) + toIntervalHour(6)`;
  await ch.command(`INSERT INTO ${t("copilot_seat_snapshots")}
    SELECT '${BENCH_TENANT}', '${BENCH_ORG}', 'ORGANIZATION', ${snapshot}, ${takenAt},
      concat('seat-', toString(seat)), lower(hex(SHA256(concat('user', toString(seat))))), 'User', NULL, NULL,
      'business', ${START} - toIntervalDay(300), NULL, ${takenAt} - toIntervalHour(seat % 1000), 'vscode/1.99',
      ${takenAt} - toIntervalHour(seat % 100), 'pk-bench', 0, day * ${SEATS} + seat, ${takenAt}
    FROM (SELECT intDiv(number, ${SEATS}) AS day, number % ${SEATS} AS seat FROM numbers(${30 * SEATS}))`);
  await ch.command(`INSERT INTO ${t("copilot_seat_snapshot_markers")}
    SELECT '${BENCH_TENANT}', '${BENCH_ORG}', 'ORGANIZATION', ${snapshot}, ${takenAt}, ${SEATS}, ${SEATS},
      'pk-bench', ${takenAt}
    FROM (SELECT number AS day FROM numbers(30))`);
  await ch.command(`INSERT INTO ${t("copilot_daily_seats")}
    SELECT '${BENCH_TENANT}', '${BENCH_ORG}', toDate(${takenAt}), ${snapshot}, ${takenAt}, ${SEATS}
    FROM (SELECT number AS day FROM numbers(30))`);
}
