-- Billing (docs/design.md §7, docs/billing.md): the daily counts a month's bill averages, from
-- complete snapshots only, as parameterized views an analyst queries for any range of days:
--
--   SELECT * FROM copilot_billing_days(tenant = 'acme', from = '2026-01-01', to = '2026-01-31')
--   SELECT * FROM openai_billing_days(tenant = 'acme', from = '2026-01-01', to = '2026-01-31')
--
-- Every day of the range has a row per billing unit (a GitHub enterprise or stand-alone
-- organization; an OpenAI organization): the count of the last complete snapshot taken on or
-- before the end of that day. A day without a snapshot of its own carries the last one forward
-- and says so (`carried` = 1, `snapshot_day` the day it was taken); a day before the unit's first
-- snapshot counts 0 with `snapshot_day` NULL: never a silent zero.

-- The enterprise each organization belongs to, as far as the data tells: the granting
-- organization of an enterprise's seats, and the `business` of an organization's audit events.
CREATE VIEW IF NOT EXISTS {db}.copilot_org_enterprises{on_cluster} AS
SELECT tenant, member AS org, any(enterprise) AS enterprise
FROM
(
    SELECT tenant, assumeNotNull(organization) AS member, org AS enterprise
    FROM {db}.copilot_seat_snapshots
    WHERE scope = 'ENTERPRISE' AND organization IS NOT NULL AND organization != ''
    UNION ALL
    SELECT tenant, org AS member, assumeNotNull(business) AS enterprise
    FROM {db}.copilot_audit_events
    WHERE scope = 'ORGANIZATION' AND business IS NOT NULL AND business != ''
)
GROUP BY tenant, member;

-- Copilot seats per tenant, billing unit and day, by GitHub's rules: a person with seats from
-- several organizations of one enterprise counts once (the unit is the enterprise); a person with
-- a Business and an Enterprise seat counts as Enterprise; a seat pending cancellation counts on
-- the days before its cancellation date.
CREATE VIEW IF NOT EXISTS {db}.copilot_billing_days{on_cluster} AS
WITH
    days AS
    (
        SELECT toDate({from:Date}) + number AS day,
               toDateTime64(toDate({from:Date}) + number + 1, 3, 'UTC') - toIntervalMillisecond(1) AS day_end
        FROM numbers(dateDiff('day', toDate({from:Date}), toDate({to:Date})) + 1)
    ),
    snapshots AS
    (
        SELECT tenant, org, scope, snapshot_id, taken_at
        FROM {db}.copilot_complete_seat_snapshots
        WHERE tenant = {tenant:String} AND taken_at < toDateTime64(toDate({to:Date}) + 1, 3, 'UTC')
    ),
    sources AS (SELECT DISTINCT tenant, org, scope FROM snapshots),
    chosen AS
    (
        SELECT g.tenant AS tenant, g.org AS org, g.scope AS scope, g.day AS day,
               s.snapshot_id AS snapshot_id, s.taken_at AS taken_at
        FROM (SELECT tenant, org, scope, day, day_end FROM sources CROSS JOIN days) AS g
        ASOF LEFT JOIN snapshots AS s
            ON g.tenant = s.tenant AND g.org = s.org AND g.scope = s.scope AND g.day_end >= s.taken_at
    ),
    units AS
    (
        SELECT c.tenant AS tenant, c.org AS org, c.scope AS scope, c.day AS day, c.snapshot_id AS snapshot_id,
               c.taken_at AS taken_at,
               if(c.scope = 'ENTERPRISE', c.org, if(e.enterprise != '', e.enterprise, c.org)) AS unit
        FROM chosen AS c
        LEFT JOIN {db}.copilot_org_enterprises AS e ON e.tenant = c.tenant AND e.org = c.org
    ),
    seats AS
    (
        SELECT u.tenant AS tenant, u.unit AS unit, u.day AS day, s.assignee_pseudonym AS who,
               max(s.plan_type = 'enterprise') AS enterprise_plan
        FROM units AS u
        INNER JOIN {db}.copilot_seat_snapshots AS s FINAL
            ON s.tenant = u.tenant AND s.org = u.org AND s.snapshot_id = u.snapshot_id
        WHERE u.snapshot_id != ''
          AND (s.pending_cancellation_date IS NULL OR u.day < s.pending_cancellation_date)
        GROUP BY tenant, unit, day, who
    ),
    counts AS
    (
        SELECT tenant, unit, day, count() AS seats, countIf(enterprise_plan) AS enterprise_seats
        FROM seats
        GROUP BY tenant, unit, day
    ),
    freshness AS
    (
        SELECT tenant, unit, day,
               groupUniqArrayIf(org, snapshot_id != '') AS orgs,
               minIf(toDate(taken_at), snapshot_id != '') AS oldest_snapshot_day,
               countIf(snapshot_id != '') AS sources_with_snapshot
        FROM units
        GROUP BY tenant, unit, day
    )
SELECT f.tenant AS tenant,
       f.unit AS unit,
       f.day AS day,
       toUInt32(ifNull(c.seats, 0)) AS seats,
       toUInt32(ifNull(c.seats, 0) - ifNull(c.enterprise_seats, 0)) AS business_seats,
       toUInt32(ifNull(c.enterprise_seats, 0)) AS enterprise_seats,
       arraySort(f.orgs) AS orgs,
       if(f.sources_with_snapshot = 0, NULL, f.oldest_snapshot_day) AS snapshot_day,
       toUInt8(f.sources_with_snapshot > 0 AND f.oldest_snapshot_day < f.day) AS carried
FROM freshness AS f
LEFT JOIN counts AS c ON c.tenant = f.tenant AND c.unit = f.unit AND c.day = f.day
ORDER BY tenant, unit, day
SETTINGS join_use_nulls = 1;

-- OpenAI users and active projects per tenant, organization and day, from the last complete
-- USERS and PROJECTS snapshots taken on or before the end of the day. Users are people
-- (service accounts are left out); projects count when active.
CREATE VIEW IF NOT EXISTS {db}.openai_billing_days{on_cluster} AS
WITH
    days AS
    (
        SELECT toDate({from:Date}) + number AS day,
               toDateTime64(toDate({from:Date}) + number + 1, 3, 'UTC') - toIntervalMillisecond(1) AS day_end
        FROM numbers(dateDiff('day', toDate({from:Date}), toDate({to:Date})) + 1)
    ),
    snapshots AS
    (
        SELECT tenant, org, entity, snapshot_id, taken_at
        FROM {db}.openai_complete_snapshots
        WHERE tenant = {tenant:String} AND entity IN ('USERS', 'PROJECTS')
          AND taken_at < toDateTime64(toDate({to:Date}) + 1, 3, 'UTC')
    ),
    sources AS (SELECT DISTINCT tenant, org, entity FROM snapshots),
    chosen AS
    (
        SELECT g.tenant AS tenant, g.org AS org, g.entity AS entity, g.day AS day,
               s.snapshot_id AS snapshot_id, s.taken_at AS taken_at
        FROM (SELECT tenant, org, entity, day, day_end FROM sources CROSS JOIN days) AS g
        ASOF LEFT JOIN snapshots AS s
            ON g.tenant = s.tenant AND g.org = s.org AND g.entity = s.entity AND g.day_end >= s.taken_at
    ),
    users AS
    (
        SELECT c.tenant AS tenant, c.org AS org, c.day AS day, count() AS n
        FROM chosen AS c
        INNER JOIN {db}.openai_users AS u FINAL
            ON u.tenant = c.tenant AND u.org = c.org AND u.snapshot_id = c.snapshot_id
        WHERE c.entity = 'USERS' AND c.snapshot_id != '' AND NOT u.is_service_account
        GROUP BY tenant, org, day
    ),
    projects AS
    (
        SELECT c.tenant AS tenant, c.org AS org, c.day AS day, count() AS n
        FROM chosen AS c
        INNER JOIN {db}.openai_projects AS p FINAL
            ON p.tenant = c.tenant AND p.org = c.org AND p.snapshot_id = c.snapshot_id
        WHERE c.entity = 'PROJECTS' AND c.snapshot_id != '' AND p.status = 'active'
        GROUP BY tenant, org, day
    ),
    freshness AS
    (
        SELECT tenant, org, day,
               minIf(toDate(taken_at), snapshot_id != '') AS oldest_snapshot_day,
               countIf(snapshot_id != '') AS sources_with_snapshot
        FROM chosen
        GROUP BY tenant, org, day
    )
SELECT f.tenant AS tenant,
       f.org AS org,
       f.day AS day,
       toUInt32(ifNull(u.n, 0)) AS users,
       toUInt32(ifNull(p.n, 0)) AS active_projects,
       if(f.sources_with_snapshot = 0, NULL, f.oldest_snapshot_day) AS snapshot_day,
       toUInt8(f.sources_with_snapshot > 0 AND f.oldest_snapshot_day < f.day) AS carried
FROM freshness AS f
LEFT JOIN users AS u ON u.tenant = f.tenant AND u.org = f.org AND u.day = f.day
LEFT JOIN projects AS p ON p.tenant = f.tenant AND p.org = f.org AND p.day = f.day
ORDER BY tenant, org, day
SETTINGS join_use_nulls = 1;
