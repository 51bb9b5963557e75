/**
 * An OpenAI admin pack's content (docs/evidence-pack.md "Layout"): the rows of every complete
 * users, projects, service-account and API-key snapshot taken in the period, every audit event
 * effective in it (one row per event id: FINAL); coverage per org and day; KPIs (users, external
 * users, stale and orphan keys) computed from the last complete snapshots of the period, not from
 * the `openai_current_*` views, so that re-packing a past period later gives the same numbers.
 * Ingestion bookkeeping (Kafka partition and offset, ingested_at) stays out, as in Copilot packs.
 */
import { coverage, type DayCount, type EventSpan } from "./coverage.ts";
import { jsonFile, type ModuleContent } from "./content.ts";
import { DAY_MS, clickhouseTime } from "./period.ts";
import { END, inPeriod, jsonLines, rfc3339, smallRows, type LinesQuery, type Scope } from "./sql.ts";

/** Keys unused for this long before the period's end, or never used, are stale (as the openai_stale_keys view). */
export const STALE_KEY_DAYS = 90;

const ENTITIES = ["USERS", "PROJECTS", "SERVICE_ACCOUNTS", "PROJECT_API_KEYS", "ADMIN_API_KEYS"] as const;
type Entity = (typeof ENTITIES)[number];
const metricOf = (entity: Entity): string => `${entity.toLowerCase()}_snapshots`;

interface SnapshotFile {
  name: string;
  table: string;
  entities: readonly Entity[];
  columns: readonly string[];
  /** The order of the lines. */
  orderBy: readonly string[];
  /** The table's sorting key after tenant (the ranges it is read in). */
  rangeBy: readonly string[];
}

const FILES: readonly SnapshotFile[] = [
  {
    name: "users.jsonl",
    table: "openai_users",
    entities: ["USERS"],
    columns: [
      "org",
      "snapshot_id",
      "taken_at",
      "user_id",
      "email_pseudonym",
      "email_domain",
      "email_display",
      "role",
      "added_at",
      "is_service_account",
      "is_scim_managed",
      "api_key_last_used_at",
      "pseudonym_key_id",
    ],
    orderBy: ["org", "taken_at", "snapshot_id", "user_id"],
    rangeBy: ["org", "snapshot_id", "user_id"],
  },
  {
    name: "projects.jsonl",
    table: "openai_projects",
    entities: ["PROJECTS"],
    columns: [
      "org",
      "snapshot_id",
      "taken_at",
      "project_id",
      "name",
      "status",
      "created_at",
      "archived_at",
      "residency",
      "pseudonym_key_id",
    ],
    orderBy: ["org", "taken_at", "snapshot_id", "project_id"],
    rangeBy: ["org", "snapshot_id", "project_id"],
  },
  {
    name: "service_accounts.jsonl",
    table: "openai_service_accounts",
    entities: ["SERVICE_ACCOUNTS"],
    columns: [
      "org",
      "snapshot_id",
      "taken_at",
      "service_account_id",
      "project_id",
      "name",
      "role",
      "created_at",
      "pseudonym_key_id",
    ],
    orderBy: ["org", "taken_at", "snapshot_id", "service_account_id"],
    rangeBy: ["org", "snapshot_id", "service_account_id"],
  },
  {
    name: "api_keys.jsonl",
    table: "openai_api_keys",
    entities: ["PROJECT_API_KEYS", "ADMIN_API_KEYS"],
    columns: [
      "org",
      "entity",
      "snapshot_id",
      "taken_at",
      "key_type",
      "key_id",
      "project_id",
      "name",
      "redacted_value",
      "owner_type",
      "owner_id",
      "owner_pseudonym",
      "owner_role",
      "owner_project_access",
      "created_at",
      "last_used_at",
      "expires_at",
      "pseudonym_key_id",
    ],
    orderBy: ["org", "taken_at", "snapshot_id", "key_type", "key_id"],
    rangeBy: ["org", "snapshot_id", "key_type", "key_id"],
  },
];

const EVENT_COLUMNS = [
  "org",
  "event_id",
  "type",
  "effective_at",
  "project_id",
  "project_name",
  "actor_type",
  "actor_pseudonym",
  "actor_user_id",
  "actor_api_key_id",
  "actor_service_account_id",
  "actor_ip_pseudonym",
  "resource_id",
  "raw_json",
  "pseudonym_key_id",
];

const TENANT = "tenant = {tenant:String}";

export async function openaiContent(scope: Scope): Promise<ModuleContent> {
  const t = (name: string): string => scope.ch.table(name);
  const complete = `SELECT * FROM ${t("openai_complete_snapshots")} WHERE ${TENANT} AND ${inPeriod("taken_at")}`;
  // Each file is read in ranges: the complete snapshots' ids are looked up once.
  const completeIds = await smallRows<{ entity: string; snapshot_id: string }>(
    scope,
    `SELECT entity, snapshot_id FROM (${complete})`,
  );
  const snapshotQuery = (file: SnapshotFile): LinesQuery => ({
    table: t(file.table),
    where: `${TENANT} AND ${inPeriod("taken_at")} AND snapshot_id IN {complete_ids:Array(String)}`,
    columns: file.columns,
    orderBy: file.orderBy,
    rangeBy: file.rangeBy,
    extra: {
      complete_ids: completeIds
        .filter((c) => (file.entities as readonly string[]).includes(c.entity))
        .map((c) => c.snapshot_id),
    },
  });
  const events: LinesQuery = {
    table: t("openai_audit_events"),
    where: `${TENANT} AND ${inPeriod("effective_at")}`,
    columns: EVENT_COLUMNS,
    orderBy: ["org", "effective_at", "event_id"],
    rangeBy: ["org", "event_id"],
  };

  const rowTables = (time: (table: string) => string): string =>
    [...FILES.map((f) => f.table), "openai_snapshot_markers"]
      .map((table) => `SELECT org, pseudonym_key_id FROM ${t(table)} WHERE ${TENANT} AND ${time(table)}`)
      .join(" UNION ALL ");
  const orgs = await smallRows<{ org: string }>(
    scope,
    `SELECT DISTINCT org FROM (
       ${rowTables(() => `taken_at <= ${END}`)}
       UNION ALL SELECT org, pseudonym_key_id FROM ${t("openai_audit_events")} WHERE ${TENANT} AND effective_at <= ${END}
     ) ORDER BY org`,
  );
  const keyIds = await smallRows<{ k: string }>(
    scope,
    `SELECT DISTINCT pseudonym_key_id AS k FROM (
       ${rowTables(() => inPeriod("taken_at"))}
       UNION ALL SELECT org, pseudonym_key_id FROM ${t("openai_audit_events")} WHERE ${TENANT} AND ${inPeriod("effective_at")}
     ) ORDER BY k`,
  );
  const orgNames = orgs.map((o) => o.org);
  return {
    orgs: orgNames,
    pseudonymKeyIds: keyIds.map((k) => k.k),
    files: [
      ...FILES.map((file) => ({
        name: file.name,
        source: jsonLines(scope, snapshotQuery(file)),
      })),
      { name: "events.jsonl", source: jsonLines(scope, events) },
      jsonFile("coverage.json", await openaiCoverage(scope, orgNames, complete)),
      jsonFile("kpis.json", await openaiKpis(scope, orgNames, complete)),
    ],
  };
}

async function openaiCoverage(scope: Scope, orgs: string[], complete: string): Promise<unknown> {
  const t = (name: string): string => scope.ch.table(name);
  const counts = await smallRows<DayCount>(
    scope,
    `SELECT org, toString(toDate(effective_at)) AS day, 'events' AS metric, count() AS n
       FROM ${t("openai_audit_events")} FINAL WHERE ${TENANT} AND ${inPeriod("effective_at")} GROUP BY org, day
     UNION ALL SELECT org, toString(toDate(taken_at)) AS day, concat(lower(entity), '_snapshots') AS metric, count() AS n
       FROM (${complete}) GROUP BY org, day, metric`,
  );
  const spans = await smallRows<EventSpan>(
    scope,
    `SELECT org, count() AS events, min(effective_at) AS first_at, max(effective_at) AS last_at
     FROM ${t("openai_audit_events")} FINAL WHERE ${TENANT} AND ${inPeriod("effective_at")} GROUP BY org`,
  );
  const started = [
    `SELECT org, toString(entity) AS entity, snapshot_id FROM ${t("openai_snapshot_markers")} WHERE ${TENANT} AND ${inPeriod("taken_at")}`,
    ...FILES.map(
      (f) =>
        `SELECT org, ${f.table === "openai_api_keys" ? "toString(entity)" : `'${f.entities[0] ?? ""}'`} AS entity, snapshot_id
         FROM ${t(f.table)} WHERE ${TENANT} AND ${inPeriod("taken_at")}`,
    ),
  ].join(" UNION ALL ");
  const incomplete = await smallRows<{ org: string; metric: string; n: number }>(
    scope,
    `SELECT org, concat(lower(entity), '_snapshots') AS metric, countDistinct(snapshot_id) AS n FROM (${started})
     WHERE snapshot_id NOT IN (SELECT snapshot_id FROM (${complete})) GROUP BY org, metric`,
  );
  const snapshotMetrics = ENTITIES.map(metricOf);
  return coverage({
    period: scope.period,
    orgs,
    metrics: ["events", ...snapshotMetrics],
    snapshotMetrics,
    counts,
    spans,
    incomplete,
    notes: [
      "<entity>_snapshots counts complete snapshots of that entity (END marker in, every row in).",
      "days_without_complete_snapshot lists, per entity, the days with no complete snapshot: nothing is known about that entity on those days.",
      "incomplete_snapshots counts snapshots of the period whose END marker or rows are missing; their rows are not in the pack.",
    ],
  });
}

interface LastSnapshot {
  org: string;
  entity: Entity;
  last_id: string;
  last_at: string;
}

async function openaiKpis(scope: Scope, orgs: string[], complete: string): Promise<unknown> {
  const t = (name: string): string => scope.ch.table(name);
  const last = await smallRows<LastSnapshot>(
    scope,
    // Aliases differ from column names: ClickHouse would read an aliased column as its alias.
    `SELECT org, entity, argMax(snapshot_id, (taken_at, snapshot_id)) AS last_id, max(taken_at) AS last_at
     FROM (${complete}) GROUP BY org, entity`,
  );
  const ids = (...entities: Entity[]): string[] =>
    last.filter((l) => entities.includes(l.entity)).map((l) => l.last_id);
  const orgsWith = (entity: Entity): string[] => last.filter((l) => l.entity === entity).map((l) => l.org);
  const domains = (
    await smallRows<{ d: string }>(
      scope,
      `SELECT DISTINCT lower(domain) AS d FROM ${t("tenant_domains")} FINAL WHERE ${TENANT} ORDER BY d`,
    )
  ).map((r) => r.d);

  const users = await smallRows<{ org: string; users: number; external: number }>(
    scope,
    `SELECT org, count() AS users,
       countIf(email_domain IS NOT NULL AND NOT has({domains:Array(String)}, lower(assumeNotNull(email_domain)))) AS external
     FROM ${t("openai_users")} FINAL WHERE ${TENANT} AND snapshot_id IN {ids:Array(String)} GROUP BY org`,
    { ids: ids("USERS"), domains },
  );
  const stale = await smallRows<{ org: string; n: number }>(
    scope,
    `SELECT org, countIf(last_used_at IS NULL OR last_used_at < {stale_before:DateTime64(3, 'UTC')}) AS n
     FROM ${t("openai_api_keys")} FINAL WHERE ${TENANT} AND snapshot_id IN {ids:Array(String)} GROUP BY org`,
    {
      ids: ids("PROJECT_API_KEYS", "ADMIN_API_KEYS"),
      stale_before: clickhouseTime(scope.period.endMs + 1 - STALE_KEY_DAYS * DAY_MS),
    },
  );
  // The openai_orphan_keys view's rules, over the period's last snapshots instead of the current ones.
  const archived = `SELECT org, project_id FROM ${t("openai_projects")} FINAL
    WHERE ${TENANT} AND snapshot_id IN {projects:Array(String)} AND status = 'archived'`;
  const orphans = await smallRows<{ org: string; n: number }>(
    scope,
    `SELECT org, count() AS n FROM ${t("openai_api_keys")} FINAL
     WHERE ${TENANT} AND snapshot_id IN {keys:Array(String)} AND key_type = 'PROJECT' AND (
       ifNull(owner_project_access, '') = 'inactive'
       OR (org, ifNull(project_id, '')) IN (${archived})
       OR (ifNull(owner_type, '') = 'user' AND has({user_orgs:Array(String)}, org)
           AND (org, ifNull(owner_id, '')) NOT IN (SELECT org, user_id FROM ${t("openai_users")} FINAL
             WHERE ${TENANT} AND snapshot_id IN {users:Array(String)}))
       OR (ifNull(owner_type, '') = 'service_account' AND has({sa_orgs:Array(String)}, org)
           AND (org, ifNull(project_id, '')) NOT IN (${archived})
           AND (org, ifNull(project_id, ''), ifNull(owner_id, '')) NOT IN
             (SELECT org, project_id, service_account_id FROM ${t("openai_service_accounts")} FINAL
              WHERE ${TENANT} AND snapshot_id IN {sas:Array(String)}))
     ) GROUP BY org`,
    {
      keys: ids("PROJECT_API_KEYS"),
      projects: ids("PROJECTS"),
      users: ids("USERS"),
      sas: ids("SERVICE_ACCOUNTS"),
      user_orgs: orgsWith("USERS"),
      sa_orgs: orgsWith("SERVICE_ACCOUNTS"),
    },
  );

  const perOrg = orgs.map((org) => {
    const has = (entity: Entity): boolean => last.some((l) => l.org === org && l.entity === entity);
    const u = users.find((x) => x.org === org);
    const snapshots = Object.fromEntries(
      ENTITIES.map((entity) => {
        const l = last.find((x) => x.org === org && x.entity === entity);
        return [entity, l === undefined ? null : { snapshot_id: l.last_id, taken_at: rfc3339(l.last_at) }];
      }),
    );
    return {
      org,
      last_snapshots: snapshots,
      users: has("USERS") ? (u?.users ?? 0) : null,
      external_users: has("USERS") && domains.length > 0 ? (u?.external ?? 0) : null,
      stale_keys:
        has("PROJECT_API_KEYS") || has("ADMIN_API_KEYS") ? (stale.find((x) => x.org === org)?.n ?? 0) : null,
      orphan_keys: has("PROJECT_API_KEYS") ? (orphans.find((x) => x.org === org)?.n ?? 0) : null,
    };
  });
  return {
    period_start: new Date(scope.period.startMs).toISOString(),
    period_end: new Date(scope.period.endMs).toISOString(),
    orgs: perOrg,
    definitions: {
      basis:
        "every count is taken from the org's last complete snapshot of each entity taken in the period (last_snapshots); null: no such snapshot",
      users: "users of the last USERS snapshot",
      external_users:
        "those users whose email domain is not one of the tenant's own domains (the domains as configured when the pack was built); null when the tenant has set none",
      stale_keys: `project and admin keys of the last key snapshots not used in the ${STALE_KEY_DAYS} days before the period's end, or never`,
      orphan_keys:
        "project keys whose owner is not in the org (last users or service-account snapshot), whose owner has no access to the project, or whose project is archived (last projects snapshot)",
    },
  };
}
