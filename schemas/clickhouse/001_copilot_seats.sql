-- Copilot seat snapshots (topic <prefix>.copilot.seats.v1), their END markers, and the daily
-- seat count used for billing. A snapshot is the truth only once its marker is in and its rows
-- are all in: see the views at the end.

CREATE TABLE IF NOT EXISTS {db}.copilot_seat_snapshots{on_cluster}
(
    tenant                    LowCardinality(String) COMMENT 'tenant id',
    org                       LowCardinality(String) COMMENT 'organization or enterprise slug',
    scope                     LowCardinality(String) COMMENT 'ORGANIZATION or ENTERPRISE',
    snapshot_id               String COMMENT 'snapshot the seat belongs to (UUID v7)',
    taken_at                  DateTime64(3, 'UTC') COMMENT 'when the snapshot was taken',
    seat_id                   String COMMENT 'stable seat id within the org',
    assignee_pseudonym        String COMMENT 'HMAC-SHA256 of the login with the tenant key',
    assignee_type             LowCardinality(Nullable(String)),
    organization              Nullable(String) COMMENT 'granting organization (enterprise scope)',
    assigning_team            Nullable(String) COMMENT 'granting team slug',
    plan_type                 LowCardinality(String) COMMENT 'business, enterprise or unknown',
    created_at                DateTime64(3, 'UTC') COMMENT 'when access was last granted',
    pending_cancellation_date Nullable(Date),
    last_activity_at          Nullable(DateTime64(3, 'UTC')),
    last_activity_editor      Nullable(String),
    last_authenticated_at     Nullable(DateTime64(3, 'UTC')),
    pseudonym_key_id          LowCardinality(String),
    kafka_partition           UInt32,
    kafka_offset              UInt64,
    ingested_at               DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, snapshot_id, seat_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.copilot_seat_snapshot_markers{on_cluster}
(
    tenant           LowCardinality(String),
    org              LowCardinality(String),
    scope            LowCardinality(String),
    snapshot_id      String,
    taken_at         DateTime64(3, 'UTC'),
    row_count        UInt64 COMMENT 'number of seat rows the snapshot has',
    total_seats      Nullable(UInt64) COMMENT 'total_seats as GitHub reported it',
    pseudonym_key_id LowCardinality(String),
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, snapshot_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- One row per tenant, org and UTC day: the seat count of the day's last snapshot.
CREATE TABLE IF NOT EXISTS {db}.copilot_daily_seats{on_cluster}
(
    tenant      LowCardinality(String),
    org         LowCardinality(String),
    day         Date,
    snapshot_id String,
    taken_at    DateTime64(3, 'UTC'),
    seats       UInt32 COMMENT 'seats in the last snapshot of the day'
)
ENGINE = {replicated}ReplacingMergeTree(taken_at)
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, org, day)
SETTINGS non_replicated_deduplication_window = 10000;

-- Snapshots whose END marker arrived and whose rows are all in ClickHouse.
CREATE VIEW IF NOT EXISTS {db}.copilot_complete_seat_snapshots{on_cluster} AS
SELECT m.tenant, m.org, m.scope, m.snapshot_id, m.taken_at, m.row_count, m.total_seats
FROM {db}.copilot_seat_snapshot_markers AS m FINAL
LEFT JOIN
(
    SELECT snapshot_id, count() AS rows_in
    FROM {db}.copilot_seat_snapshots FINAL
    GROUP BY snapshot_id
) AS c ON c.snapshot_id = m.snapshot_id
WHERE c.rows_in = m.row_count
SETTINGS join_use_nulls = 0;

-- The seats of the newest complete snapshot of every tenant and org.
CREATE VIEW IF NOT EXISTS {db}.copilot_current_seats{on_cluster} AS
SELECT s.*
FROM {db}.copilot_seat_snapshots AS s FINAL
INNER JOIN
(
    SELECT tenant, org, argMax(snapshot_id, taken_at) AS snapshot_id
    FROM {db}.copilot_complete_seat_snapshots
    GROUP BY tenant, org
) AS latest ON latest.tenant = s.tenant AND latest.org = s.org AND latest.snapshot_id = s.snapshot_id;
