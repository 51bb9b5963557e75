-- The analysts' KPI views (issue 9): idle and never-used seats, pending cancellations, seats
-- granted and removed per month, agent activity and agent usage records per day, and one KPI row
-- per tenant and module. docs/analyst-views.md documents every view with an example query: each
-- number the dashboard or a pack shows comes from a view an analyst can query too. Views that
-- compare with now() describe the present: they change as time passes, with no new data.

-- Current seats with no Copilot activity in the last 30 days: reason 'idle' (activity, but more
-- than 30 days ago) or 'never used' (no activity recorded at all). last_activity_at needs IDE
-- telemetry and lags up to 24 hours, so an idle seat may be a seat whose user turned telemetry off.
CREATE VIEW IF NOT EXISTS {db}.copilot_idle_seats{on_cluster} AS
SELECT
    tenant, org, scope, seat_id, assignee_pseudonym, assignee_type, organization, assigning_team,
    plan_type, created_at, pending_cancellation_date, last_activity_at, last_activity_editor,
    last_authenticated_at, snapshot_id, taken_at,
    if(last_activity_at IS NULL, 'never used', 'idle') AS reason
FROM {db}.copilot_current_seats
WHERE last_activity_at IS NULL OR last_activity_at < now64(3) - INTERVAL 30 DAY;

-- Current seats GitHub has scheduled for cancellation: access ends on pending_cancellation_date
-- (the start of the org's next billing cycle), and the seat is billed until then.
CREATE VIEW IF NOT EXISTS {db}.copilot_pending_cancellations{on_cluster} AS
SELECT
    tenant, org, scope, seat_id, assignee_pseudonym, assignee_type, organization, assigning_team,
    plan_type, created_at, pending_cancellation_date, last_activity_at, last_activity_editor,
    last_authenticated_at, snapshot_id, taken_at
FROM {db}.copilot_current_seats
WHERE pending_cancellation_date IS NOT NULL;

-- Seats granted and removed per tenant, org and UTC month, from the audit log (one row per event
-- id: FINAL). Granted: copilot.cfb_seat_added (the user received access, whichever way the seat
-- was assigned). Removed: copilot.cfb_seat_cancelled and copilot.cfb_seat_cancelled_by_staff (the
-- user no longer has access). The assignment events are counted apart, never as grants or
-- removals: an assignment created for a team is one event for many seats, one for a user comes
-- with that user's cfb_seat_added, and an unassigned seat keeps access until the billing cycle
-- ends (its cfb_seat_cancelled follows). cfb_seat_assignment_reused changes nothing and is left out.
-- A month without any of these events has no row.
CREATE VIEW IF NOT EXISTS {db}.copilot_seat_changes_monthly{on_cluster} AS
SELECT
    tenant,
    org,
    toStartOfMonth(created_at) AS month,
    countIf(action = 'copilot.cfb_seat_added') AS seats_granted,
    countIf(action IN ('copilot.cfb_seat_cancelled', 'copilot.cfb_seat_cancelled_by_staff')) AS seats_removed,
    countIf(action = 'copilot.cfb_seat_assignment_created') AS assignments_created,
    countIf(action = 'copilot.cfb_seat_assignment_unassigned') AS assignments_unassigned,
    countIf(action = 'copilot.cfb_seat_assignment_refreshed') AS cancellations_revoked
FROM {db}.copilot_audit_events FINAL
WHERE action IN (
    'copilot.cfb_seat_added',
    'copilot.cfb_seat_cancelled',
    'copilot.cfb_seat_cancelled_by_staff',
    'copilot.cfb_seat_assignment_created',
    'copilot.cfb_seat_assignment_unassigned',
    'copilot.cfb_seat_assignment_refreshed'
)
GROUP BY tenant, org, month;

-- Audit-log events done by an agent (actor_is_agent), per tenant, org, UTC day and agent (the
-- actor GitHub named, e.g. Copilot, or empty when it named none): events, distinct agent
-- sessions, and distinct people behind them. One row per event id (FINAL).
CREATE VIEW IF NOT EXISTS {db}.copilot_agent_activity_daily{on_cluster} AS
SELECT
    tenant,
    org,
    toDate(created_at) AS day,
    ifNull(actor_agent, '') AS agent,
    count() AS events,
    uniqExact(agent_session_id) AS sessions,
    uniqExact(user_pseudonym) AS users
FROM {db}.copilot_audit_events FINAL
WHERE actor_is_agent
GROUP BY tenant, org, day, agent;

-- Copilot agent usage records (request and response bodies, kept as keyed hashes) per tenant,
-- enterprise and UTC day. The records name an enterprise, not an org, and no agent. One row per
-- record id (FINAL).
CREATE VIEW IF NOT EXISTS {db}.copilot_agent_usage_daily{on_cluster} AS
SELECT
    tenant,
    enterprise,
    toDate(created_at) AS day,
    count() AS records,
    countIf(type = 'request') AS requests,
    countIf(type = 'response') AS responses,
    uniqExact(user_pseudonym) AS users,
    countIf(truncated) AS truncated_records
FROM {db}.copilot_usage_records FINAL
GROUP BY tenant, enterprise, day;

-- One row per tenant and module ('copilot', 'openai_admin') the tenant has data in: a complete
-- snapshot, or an audit event this UTC month. Each figure comes from the views above and in
-- 001 and 005, and is 0 when that view has no row for the tenant. The other module's columns are
-- NULL, and so is external_users while the tenant has not set its email domains.
--   connected_orgs: orgs with at least one complete snapshot (any entity, for OpenAI)
--   events_this_month: audit events (one per event id) with created_at (Copilot) or
--     effective_at (OpenAI) in the current UTC month
--   Copilot: seats (copilot_current_seats), idle_seats and never_used_seats (copilot_idle_seats
--     by reason), pending_cancellation_seats (copilot_pending_cancellations)
--   OpenAI: users (people in openai_current_users: service accounts left out, as billing does),
--     active_projects (openai_current_projects with status active), keys (openai_current_api_keys, project and admin), stale_keys, orphan_keys,
--     external_users (openai_stale_keys, openai_orphan_keys, openai_external_users)
CREATE VIEW IF NOT EXISTS {db}.kpi_summary{on_cluster} AS
SELECT
    tenant,
    'copilot' AS module,
    toNullable(sumIf(n, kpi = 'connected_orgs')) AS connected_orgs,
    toNullable(sumIf(n, kpi = 'events_this_month')) AS events_this_month,
    toNullable(sumIf(n, kpi = 'seats')) AS seats,
    toNullable(sumIf(n, kpi = 'idle_seats')) AS idle_seats,
    toNullable(sumIf(n, kpi = 'never_used_seats')) AS never_used_seats,
    toNullable(sumIf(n, kpi = 'pending_cancellation_seats')) AS pending_cancellation_seats,
    CAST(NULL AS Nullable(UInt64)) AS users,
    CAST(NULL AS Nullable(UInt64)) AS active_projects,
    CAST(NULL AS Nullable(UInt64)) AS keys,
    CAST(NULL AS Nullable(UInt64)) AS stale_keys,
    CAST(NULL AS Nullable(UInt64)) AS orphan_keys,
    CAST(NULL AS Nullable(UInt64)) AS external_users
FROM
(
    SELECT tenant, 'connected_orgs' AS kpi, uniqExact(org) AS n
    FROM {db}.copilot_complete_seat_snapshots
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'events_this_month' AS kpi, count() AS n
    FROM {db}.copilot_audit_events FINAL
    WHERE created_at >= toDateTime64(toStartOfMonth(now('UTC')), 3, 'UTC')
        AND created_at < toDateTime64(toStartOfMonth(now('UTC')) + INTERVAL 1 MONTH, 3, 'UTC')
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'seats' AS kpi, count() AS n
    FROM {db}.copilot_current_seats
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'idle_seats' AS kpi, countIf(reason = 'idle') AS n
    FROM {db}.copilot_idle_seats
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'never_used_seats' AS kpi, countIf(reason = 'never used') AS n
    FROM {db}.copilot_idle_seats
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'pending_cancellation_seats' AS kpi, count() AS n
    FROM {db}.copilot_pending_cancellations
    GROUP BY tenant
)
GROUP BY tenant
UNION ALL
SELECT
    tenant,
    'openai_admin' AS module,
    toNullable(sumIf(n, kpi = 'connected_orgs')) AS connected_orgs,
    toNullable(sumIf(n, kpi = 'events_this_month')) AS events_this_month,
    CAST(NULL AS Nullable(UInt64)) AS seats,
    CAST(NULL AS Nullable(UInt64)) AS idle_seats,
    CAST(NULL AS Nullable(UInt64)) AS never_used_seats,
    CAST(NULL AS Nullable(UInt64)) AS pending_cancellation_seats,
    toNullable(sumIf(n, kpi = 'users')) AS users,
    toNullable(sumIf(n, kpi = 'active_projects')) AS active_projects,
    toNullable(sumIf(n, kpi = 'keys')) AS keys,
    toNullable(sumIf(n, kpi = 'stale_keys')) AS stale_keys,
    toNullable(sumIf(n, kpi = 'orphan_keys')) AS orphan_keys,
    if(
        tenant IN (SELECT tenant FROM {db}.tenant_domains FINAL),
        toNullable(sumIf(n, kpi = 'external_users')),
        CAST(NULL AS Nullable(UInt64))
    ) AS external_users
FROM
(
    SELECT tenant, 'connected_orgs' AS kpi, uniqExact(org) AS n
    FROM {db}.openai_complete_snapshots
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'events_this_month' AS kpi, count() AS n
    FROM {db}.openai_audit_events FINAL
    WHERE effective_at >= toDateTime64(toStartOfMonth(now('UTC')), 3, 'UTC')
        AND effective_at < toDateTime64(toStartOfMonth(now('UTC')) + INTERVAL 1 MONTH, 3, 'UTC')
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'users' AS kpi, countIf(NOT is_service_account) AS n
    FROM {db}.openai_current_users
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'active_projects' AS kpi, countIf(status = 'active') AS n
    FROM {db}.openai_current_projects
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'keys' AS kpi, count() AS n
    FROM {db}.openai_current_api_keys
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'stale_keys' AS kpi, count() AS n
    FROM {db}.openai_stale_keys
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'orphan_keys' AS kpi, count() AS n
    FROM {db}.openai_orphan_keys
    GROUP BY tenant
    UNION ALL
    SELECT tenant, 'external_users' AS kpi, count() AS n
    FROM {db}.openai_external_users
    GROUP BY tenant
)
GROUP BY tenant;
