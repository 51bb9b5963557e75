-- Copilot agent usage records (topic <prefix>.copilot.usage-records.v1): one row per request or
-- response. Content is kept as keyed hashes with lengths unless the tenant chose to keep it.

CREATE TABLE IF NOT EXISTS {db}.copilot_usage_records{on_cluster}
(
    tenant            LowCardinality(String),
    enterprise        LowCardinality(String),
    record_id         String COMMENT 'event_id, or github_request_id:type',
    type              LowCardinality(String) COMMENT 'request or response',
    user_pseudonym    Nullable(String) COMMENT 'HMAC-SHA256 of id:<user_id>',
    enterprise_id     Nullable(Int64),
    github_request_id Nullable(String),
    endpoint          LowCardinality(Nullable(String)),
    created_at        DateTime64(3, 'UTC'),
    truncated         Bool,
    model             LowCardinality(Nullable(String)),
    tool_names        Array(String),
    body_hmac         String,
    body_length       UInt64,
    body_digest_json  String COMMENT 'structure with content strings as {hmac, length}',
    body              Nullable(String) COMMENT 'only when the tenant keeps usage content',
    pseudonym_key_id  LowCardinality(String),
    ingested_at       DateTime64(3, 'UTC')
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, enterprise, record_id)
SETTINGS non_replicated_deduplication_window = 10000;
