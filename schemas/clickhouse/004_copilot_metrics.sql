-- Rows of the daily Copilot usage-metrics reports (topic <prefix>.copilot.metrics.v1). The
-- reports' fields change over time, so the row is kept whole as JSON next to its keys.

CREATE TABLE IF NOT EXISTS {db}.copilot_metrics_rows{on_cluster}
(
    tenant           LowCardinality(String),
    org              LowCardinality(String),
    scope            LowCardinality(String),
    report           LowCardinality(String) COMMENT 'e.g. users-1-day, organization-1-day',
    day              Date,
    row_id           String,
    user_pseudonym   Nullable(String),
    row_json         String COMMENT 'the row as GitHub wrote it, people pseudonymized',
    pseudonym_key_id LowCardinality(String),
    ingested_at      DateTime64(3, 'UTC')
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(day)
ORDER BY (tenant, org, report, day, row_id)
SETTINGS non_replicated_deduplication_window = 10000;
