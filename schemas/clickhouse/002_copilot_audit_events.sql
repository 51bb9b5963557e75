-- Copilot audit-log events and agent events (topic <prefix>.copilot.audit-events.v1), one row
-- per GitHub _document_id. ReplacingMergeTree on the event id: a re-delivered batch collapses.

CREATE TABLE IF NOT EXISTS {db}.copilot_audit_events{on_cluster}
(
    tenant             LowCardinality(String),
    org                LowCardinality(String),
    scope              LowCardinality(String) COMMENT 'ORGANIZATION or ENTERPRISE audit log',
    event_id           String COMMENT 'GitHub _document_id',
    action             LowCardinality(String),
    created_at         DateTime64(3, 'UTC') COMMENT 'the event @timestamp',
    actor_pseudonym    Nullable(String) COMMENT 'HMAC-SHA256 of the human actor login',
    actor_agent        LowCardinality(Nullable(String)) COMMENT 'agent name when an agent acted',
    actor_is_agent     Bool,
    agent_session_id   Nullable(String),
    user_pseudonym     Nullable(String) COMMENT 'affected user, or the human behind an agent session',
    actor_country_code LowCardinality(Nullable(String)),
    business           Nullable(String),
    event_org          Nullable(String),
    raw_json           String COMMENT 'the event as GitHub sent it, people pseudonymized',
    pseudonym_key_id   LowCardinality(String),
    ingested_at        DateTime64(3, 'UTC')
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(created_at)
ORDER BY (tenant, org, event_id)
SETTINGS non_replicated_deduplication_window = 10000;
