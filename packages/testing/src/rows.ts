/**
 * Rows for tests that read the analyst views: a complete Copilot seat snapshot written straight
 * into the tables the snapshotter fills (its seats, its marker, the day's count), so that
 * `copilot_current_seats`, `copilot_idle_seats` and `kpi_summary` show it.
 */
import { createHash } from "node:crypto";
import type { ClickHouse } from "@aiaudit/clickhouse";

const DAY_MS = 86_400_000;
const time = (ms: number): string => new Date(ms).toISOString();

export interface TestSeat {
  team: string | null;
  /** null: never used. */
  lastActivityDaysAgo: number | null;
}

/**
 * A complete seat snapshot of `org` taken a minute ago; seat i's pseudonym is the sha256 of
 * `tenant/org/i`. Returns the snapshot's UTC day.
 */
export async function insertSeatSnapshot(
  ch: ClickHouse,
  tenant: string,
  org: string,
  seats: readonly TestSeat[],
): Promise<string> {
  const snapshotId = `snap-${tenant}-${org}`;
  const takenAt = time(Date.now() - 60_000);
  const day = takenAt.slice(0, 10);
  await ch.insert(
    "copilot_seat_snapshots",
    seats.map((s, i) => ({
      tenant,
      org,
      scope: "ORGANIZATION",
      snapshot_id: snapshotId,
      taken_at: takenAt,
      seat_id: `${org}-${i}`,
      assignee_pseudonym: createHash("sha256").update(`${tenant}/${org}/${i}`).digest("hex"),
      assignee_type: "User",
      organization: org,
      assigning_team: s.team,
      plan_type: "business",
      created_at: time(Date.now() - 100 * DAY_MS),
      pending_cancellation_date: null,
      last_activity_at:
        s.lastActivityDaysAgo === null ? null : time(Date.now() - s.lastActivityDaysAgo * DAY_MS),
      last_activity_editor: s.lastActivityDaysAgo === null ? null : "vscode/1.99",
      last_authenticated_at: time(Date.now() - DAY_MS),
      pseudonym_key_id: "pk-1",
      kafka_partition: 0,
      kafka_offset: i,
      ingested_at: takenAt,
    })),
  );
  await ch.insert("copilot_seat_snapshot_markers", [
    {
      tenant,
      org,
      scope: "ORGANIZATION",
      snapshot_id: snapshotId,
      taken_at: takenAt,
      row_count: seats.length,
      total_seats: seats.length,
      pseudonym_key_id: "pk-1",
    },
  ]);
  await ch.insert("copilot_daily_seats", [
    { tenant, org, day, snapshot_id: snapshotId, taken_at: takenAt, seats: seats.length },
  ]);
  return day;
}
