-- OpenAI organizations (topics <prefix>.openai.{users,projects,service-accounts,api-keys}.v1 and
-- <prefix>.openai.audit-events.v1): one table per snapshot entity with the seat tables' design
-- (rows, END markers, a snapshot is the truth only once its rows are all in), the audit log, the
-- tenant's own email domains, and the analysts' views: current state, stale keys, orphan keys,
-- external users.

CREATE TABLE IF NOT EXISTS {db}.openai_users{on_cluster}
(
    tenant               LowCardinality(String) COMMENT 'tenant id',
    org                  LowCardinality(String) COMMENT 'OpenAI organization id (org-…)',
    snapshot_id          String COMMENT 'USERS snapshot the user belongs to (UUID v7)',
    taken_at             DateTime64(3, 'UTC') COMMENT 'when the snapshot was taken',
    user_id              String COMMENT 'OpenAI user id (user-…)',
    email_pseudonym      Nullable(String) COMMENT 'HMAC-SHA256 of the lower-case email with the tenant key',
    email_domain         LowCardinality(Nullable(String)) COMMENT 'the email domain, lower case',
    email_display        Nullable(String) COMMENT 'masked email (jo…@acme.com)',
    role                 LowCardinality(Nullable(String)) COMMENT 'organization role: owner or reader',
    added_at             DateTime64(3, 'UTC') COMMENT 'when the user joined the organization',
    is_service_account   Bool,
    is_scim_managed      Nullable(Bool),
    api_key_last_used_at Nullable(DateTime64(3, 'UTC')),
    pseudonym_key_id     LowCardinality(String),
    kafka_partition      UInt32,
    kafka_offset         UInt64,
    ingested_at          DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, snapshot_id, user_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.openai_projects{on_cluster}
(
    tenant           LowCardinality(String),
    org              LowCardinality(String),
    snapshot_id      String COMMENT 'PROJECTS snapshot (UUID v7)',
    taken_at         DateTime64(3, 'UTC'),
    project_id       String COMMENT 'OpenAI project id (proj_…)',
    name             Nullable(String),
    status           LowCardinality(String) COMMENT 'active or archived',
    created_at       DateTime64(3, 'UTC'),
    archived_at      Nullable(DateTime64(3, 'UTC')),
    residency        LowCardinality(Nullable(String)) COMMENT 'data residency, e.g. EU_STORAGE_PROCESSING',
    pseudonym_key_id LowCardinality(String),
    kafka_partition  UInt32,
    kafka_offset     UInt64,
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, snapshot_id, project_id)
SETTINGS non_replicated_deduplication_window = 10000;

CREATE TABLE IF NOT EXISTS {db}.openai_service_accounts{on_cluster}
(
    tenant             LowCardinality(String),
    org                LowCardinality(String),
    snapshot_id        String COMMENT 'SERVICE_ACCOUNTS snapshot (UUID v7): those of every active project',
    taken_at           DateTime64(3, 'UTC'),
    service_account_id String COMMENT 'OpenAI id (svc_acct_…)',
    project_id         String COMMENT 'the project it belongs to',
    name               Nullable(String),
    role               LowCardinality(Nullable(String)) COMMENT 'owner, member or none',
    created_at         DateTime64(3, 'UTC'),
    pseudonym_key_id   LowCardinality(String),
    kafka_partition    UInt32,
    kafka_offset       UInt64,
    ingested_at        DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, snapshot_id, service_account_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- Project and admin keys in one table: each kind is a snapshot of its own (entity).
CREATE TABLE IF NOT EXISTS {db}.openai_api_keys{on_cluster}
(
    tenant               LowCardinality(String),
    org                  LowCardinality(String),
    entity               LowCardinality(String) COMMENT 'PROJECT_API_KEYS or ADMIN_API_KEYS: the snapshot kind',
    snapshot_id          String COMMENT 'snapshot (UUID v7)',
    taken_at             DateTime64(3, 'UTC'),
    key_type             LowCardinality(String) COMMENT 'PROJECT or ADMIN',
    key_id               String COMMENT 'OpenAI key id (key_…)',
    project_id           Nullable(String) COMMENT 'the key''s project (PROJECT keys)',
    name                 Nullable(String),
    redacted_value       String COMMENT 'OpenAI''s redacted value (sk-abc...def), never the secret',
    owner_type           LowCardinality(Nullable(String)) COMMENT 'user or service_account',
    owner_id             Nullable(String) COMMENT 'the owner''s user or service-account id',
    owner_pseudonym      Nullable(String) COMMENT 'a user owner''s email pseudonym',
    owner_role           LowCardinality(Nullable(String)),
    owner_project_access LowCardinality(Nullable(String)) COMMENT 'PROJECT keys: active or inactive',
    created_at           DateTime64(3, 'UTC'),
    last_used_at         Nullable(DateTime64(3, 'UTC')) COMMENT 'null: never used (or unknown)',
    expires_at           Nullable(DateTime64(3, 'UTC')) COMMENT 'ADMIN keys; null: never',
    pseudonym_key_id     LowCardinality(String),
    kafka_partition      UInt32,
    kafka_offset         UInt64,
    ingested_at          DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, snapshot_id, key_type, key_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- END markers of every entity's snapshots, with the row count the snapshot has.
CREATE TABLE IF NOT EXISTS {db}.openai_snapshot_markers{on_cluster}
(
    tenant           LowCardinality(String),
    org              LowCardinality(String),
    entity           LowCardinality(String) COMMENT 'USERS, PROJECTS, SERVICE_ACCOUNTS, PROJECT_API_KEYS or ADMIN_API_KEYS',
    snapshot_id      String,
    taken_at         DateTime64(3, 'UTC'),
    row_count        UInt64 COMMENT 'number of rows the snapshot has',
    pseudonym_key_id LowCardinality(String),
    ingested_at      DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(taken_at)
ORDER BY (tenant, org, entity, snapshot_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- The organization's audit log, every event type, one row per OpenAI audit log id.
CREATE TABLE IF NOT EXISTS {db}.openai_audit_events{on_cluster}
(
    tenant                   LowCardinality(String),
    org                      LowCardinality(String),
    event_id                 String COMMENT 'OpenAI audit log id',
    type                     LowCardinality(String) COMMENT 'e.g. api_key.created',
    effective_at             DateTime64(3, 'UTC'),
    project_id               Nullable(String),
    project_name             Nullable(String),
    actor_type               LowCardinality(Nullable(String)) COMMENT 'session or api_key',
    actor_pseudonym          Nullable(String) COMMENT 'email pseudonym of the acting person',
    actor_user_id            Nullable(String),
    actor_api_key_id         Nullable(String),
    actor_service_account_id Nullable(String),
    actor_ip_pseudonym       Nullable(String),
    resource_id              Nullable(String) COMMENT 'the object acted on',
    raw_json                 String COMMENT 'the event as OpenAI sent it, people and addresses pseudonymized',
    pseudonym_key_id         LowCardinality(String),
    ingested_at              DateTime64(3, 'UTC')
)
ENGINE = {replicated}ReplacingMergeTree(ingested_at)
PARTITION BY toYYYYMM(effective_at)
ORDER BY (tenant, org, event_id)
SETTINGS non_replicated_deduplication_window = 10000;

-- A tenant setting: the tenant's own email domains, lower case (a subdomain is a domain of its own).
CREATE TABLE IF NOT EXISTS {db}.tenant_domains{on_cluster}
(
    tenant   LowCardinality(String),
    domain   String COMMENT 'e.g. acme.com',
    added_at DateTime64(3, 'UTC') DEFAULT now64(3)
)
ENGINE = {replicated}ReplacingMergeTree(added_at)
ORDER BY (tenant, domain)
SETTINGS non_replicated_deduplication_window = 10000;

-- Snapshots whose END marker arrived and whose rows are all in ClickHouse (an empty snapshot,
-- row_count 0, is complete as soon as its marker is in).
CREATE VIEW IF NOT EXISTS {db}.openai_complete_snapshots{on_cluster} AS
SELECT m.tenant, m.org, m.entity, m.snapshot_id, m.taken_at, m.row_count
FROM {db}.openai_snapshot_markers AS m FINAL
LEFT JOIN
(
    SELECT tenant, org, 'USERS' AS entity, snapshot_id, count() AS rows_in
    FROM {db}.openai_users FINAL
    GROUP BY tenant, org, snapshot_id
    UNION ALL
    SELECT tenant, org, 'PROJECTS' AS entity, snapshot_id, count() AS rows_in
    FROM {db}.openai_projects FINAL
    GROUP BY tenant, org, snapshot_id
    UNION ALL
    SELECT tenant, org, 'SERVICE_ACCOUNTS' AS entity, snapshot_id, count() AS rows_in
    FROM {db}.openai_service_accounts FINAL
    GROUP BY tenant, org, snapshot_id
    UNION ALL
    SELECT tenant, org, toString(entity) AS entity, snapshot_id, count() AS rows_in
    FROM {db}.openai_api_keys FINAL
    GROUP BY tenant, org, entity, snapshot_id
) AS c ON c.tenant = m.tenant AND c.org = m.org AND c.entity = m.entity AND c.snapshot_id = m.snapshot_id
WHERE c.rows_in = m.row_count
SETTINGS join_use_nulls = 0;

-- The newest complete snapshot of every tenant, org and entity (ties on taken_at go to the
-- greater snapshot id, so the answer does not depend on the read order).
CREATE VIEW IF NOT EXISTS {db}.openai_current_snapshots{on_cluster} AS
SELECT tenant, org, entity, newest.1 AS snapshot_id, newest.2 AS taken_at
FROM
(
    SELECT tenant, org, entity, argMax((snapshot_id, taken_at), (taken_at, snapshot_id)) AS newest
    FROM {db}.openai_complete_snapshots
    GROUP BY tenant, org, entity
);

CREATE VIEW IF NOT EXISTS {db}.openai_current_users{on_cluster} AS
SELECT u.*
FROM {db}.openai_users AS u FINAL
INNER JOIN
(
    SELECT tenant, org, snapshot_id FROM {db}.openai_current_snapshots WHERE entity = 'USERS'
) AS latest ON latest.tenant = u.tenant AND latest.org = u.org AND latest.snapshot_id = u.snapshot_id;

CREATE VIEW IF NOT EXISTS {db}.openai_current_projects{on_cluster} AS
SELECT p.*
FROM {db}.openai_projects AS p FINAL
INNER JOIN
(
    SELECT tenant, org, snapshot_id FROM {db}.openai_current_snapshots WHERE entity = 'PROJECTS'
) AS latest ON latest.tenant = p.tenant AND latest.org = p.org AND latest.snapshot_id = p.snapshot_id;

CREATE VIEW IF NOT EXISTS {db}.openai_current_service_accounts{on_cluster} AS
SELECT s.*
FROM {db}.openai_service_accounts AS s FINAL
INNER JOIN
(
    SELECT tenant, org, snapshot_id FROM {db}.openai_current_snapshots WHERE entity = 'SERVICE_ACCOUNTS'
) AS latest ON latest.tenant = s.tenant AND latest.org = s.org AND latest.snapshot_id = s.snapshot_id;

-- Project and admin keys: the newest complete snapshot of each kind.
CREATE VIEW IF NOT EXISTS {db}.openai_current_api_keys{on_cluster} AS
SELECT k.*
FROM {db}.openai_api_keys AS k FINAL
INNER JOIN
(
    SELECT tenant, org, entity, snapshot_id
    FROM {db}.openai_current_snapshots
    WHERE entity IN ('PROJECT_API_KEYS', 'ADMIN_API_KEYS')
) AS latest
    ON latest.tenant = k.tenant AND latest.org = k.org AND latest.entity = k.entity
    AND latest.snapshot_id = k.snapshot_id;

-- Current keys (project and admin) not used in the last 90 days, or never.
CREATE VIEW IF NOT EXISTS {db}.openai_stale_keys{on_cluster} AS
SELECT
    tenant, org, key_type, key_id, project_id, name, redacted_value, owner_type, owner_id,
    owner_pseudonym, owner_role, created_at, last_used_at, expires_at, snapshot_id, taken_at,
    if(last_used_at IS NULL, 'never used', 'unused for over 90 days') AS reason
FROM {db}.openai_current_api_keys
WHERE last_used_at IS NULL OR last_used_at < now64(3) - INTERVAL 90 DAY;

-- Current project keys whose owner or project no longer holds them up, one row per key:
--   owner not in the organization: a user owner absent from the org's current users, or a
--     service-account owner absent from the current service accounts of the key's project while
--     that project is not archived (service accounts are listed for active projects only);
--   owner has no access to the project: owner_project_access = 'inactive';
--   project archived: the key's project is archived in the current projects.
-- `reasons` holds every reason that applies, in that order; `reason` is the first of them.
-- An owner check needs the org's current snapshot of the owners (users, or service accounts):
-- without one the owner is unknown, not absent, and that reason is left out.
CREATE VIEW IF NOT EXISTS {db}.openai_orphan_keys{on_cluster} AS
SELECT
    tenant, org, key_id, project_id, name, redacted_value, owner_type, owner_id, owner_pseudonym,
    owner_role, owner_project_access, created_at, last_used_at, snapshot_id, taken_at,
    reasons[1] AS reason, reasons
FROM
(
    SELECT
        k.*,
        (k.tenant, k.org, ifNull(k.project_id, '')) IN
        (
            SELECT tenant, org, project_id FROM {db}.openai_current_projects WHERE status = 'archived'
        ) AS project_archived,
        arrayFilter(r -> r != '', [
            if(
                (
                    k.owner_type = 'user'
                    AND (k.tenant, k.org) IN
                    (
                        SELECT tenant, org FROM {db}.openai_current_snapshots WHERE entity = 'USERS'
                    )
                    AND (k.tenant, k.org, ifNull(k.owner_id, '')) NOT IN
                    (
                        SELECT tenant, org, user_id FROM {db}.openai_current_users
                    )
                )
                OR
                (
                    k.owner_type = 'service_account'
                    AND NOT project_archived
                    AND (k.tenant, k.org) IN
                    (
                        SELECT tenant, org FROM {db}.openai_current_snapshots WHERE entity = 'SERVICE_ACCOUNTS'
                    )
                    AND (k.tenant, k.org, ifNull(k.project_id, ''), ifNull(k.owner_id, '')) NOT IN
                    (
                        SELECT tenant, org, project_id, service_account_id
                        FROM {db}.openai_current_service_accounts
                    )
                ),
                'owner not in the organization', ''),
            if(k.owner_project_access = 'inactive', 'owner has no access to the project', ''),
            if(project_archived, 'project archived', '')
        ]) AS reasons
    FROM {db}.openai_current_api_keys AS k
    WHERE k.key_type = 'PROJECT'
)
WHERE length(reasons) > 0;

-- Current users whose email domain is not one of the tenant's own (tenant_domains). A tenant that
-- has not set its domains is left out: whether its users are external is unknown, not "everyone".
-- A user without an email domain is left out too, for the same reason.
CREATE VIEW IF NOT EXISTS {db}.openai_external_users{on_cluster} AS
SELECT u.*
FROM {db}.openai_current_users AS u
INNER JOIN
(
    SELECT tenant, groupArray(lower(domain)) AS domains
    FROM {db}.tenant_domains FINAL
    GROUP BY tenant
) AS d ON d.tenant = u.tenant
WHERE u.email_domain IS NOT NULL AND NOT has(d.domains, lower(assumeNotNull(u.email_domain)));
