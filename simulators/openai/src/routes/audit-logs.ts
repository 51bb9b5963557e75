/**
 * `GET /v1/organization/audit_logs` (reference §2.6) with every filter of the spec, under the
 * literal bracketed names it uses (`event_types[]`, `effective_at[gte]`...). The spec leaves the
 * order [unknown]; the simulator serves newest first (descending `effective_at`, then id
 * descending). `after=<id>` continues after that event in this order, `before=<id>` gives the page
 * just before it (newer events). 403 while audit logging is off in the org's settings.
 */
import { AUDIT_LOG_EVENT_TYPES, isTenantScoped } from "../event-types.ts";
import { apiError, badParam, json, listBody, parseLimit, type Reply, type Route } from "../http.ts";
import type { OpenaiAuditLog } from "../state.ts";

export const AUDIT_LOGGING_DISABLED_MESSAGE =
  "Audit logging is not enabled for this organization. Enable it in Organization settings → Data controls → Audit logging.";

const BOUNDS = ["gt", "gte", "lt", "lte"] as const;
const KNOWN_TYPES = new Set(AUDIT_LOG_EVENT_TYPES);

/** Newest first: a negative result puts `a` before `b`. */
export function newestFirst(a: OpenaiAuditLog, b: OpenaiAuditLog): number {
  return b.effective_at - a.effective_at || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

function payload(e: OpenaiAuditLog): Record<string, unknown> {
  const p = e[e.type];
  return p !== null && typeof p === "object" ? (p as Record<string, unknown>) : {};
}

function actorIds(e: OpenaiAuditLog): unknown[] {
  const a = e.actor;
  return [a?.session?.user?.id, a?.api_key?.id, a?.api_key?.user?.id, a?.api_key?.service_account?.id];
}

function actorEmails(e: OpenaiAuditLog): unknown[] {
  return [e.actor?.session?.user?.email, e.actor?.api_key?.user?.email].map((m) =>
    typeof m === "string" ? m.toLowerCase() : m,
  );
}

/** A predicate for the query's filters, or the 400 for a bad one. */
function filters(query: URLSearchParams): ((e: OpenaiAuditLog) => boolean) | Reply {
  const checks: ((e: OpenaiAuditLog) => boolean)[] = [];
  for (const bound of BOUNDS) {
    const raw = query.get(`effective_at[${bound}]`);
    if (raw === null) continue;
    if (!/^\d+$/.test(raw))
      return badParam(`effective_at[${bound}]`, `Invalid 'effective_at[${bound}]': expected an integer.`);
    const t = Number(raw);
    const cmp = {
      gt: (v: number) => v > t,
      gte: (v: number) => v >= t,
      lt: (v: number) => v < t,
      lte: (v: number) => v <= t,
    };
    checks.push((e) => cmp[bound](e.effective_at));
  }
  const tenantRaw = query.get("tenant_only") ?? "false";
  if (tenantRaw !== "true" && tenantRaw !== "false")
    return badParam("tenant_only", `Invalid 'tenant_only': expected a boolean, got '${tenantRaw}'.`);
  const tenantOnly = tenantRaw === "true";
  const types = query.getAll("event_types[]");
  for (const type of types) {
    if (!KNOWN_TYPES.has(type)) return badParam("event_types[]", `Invalid event type: '${type}'.`);
    if (isTenantScoped(type) !== tenantOnly)
      return badParam(
        "tenant_only",
        tenantOnly
          ? `'${type}' is not a tenant-scoped event type; with tenant_only=true all event types must be tenant-scoped.`
          : `'${type}' is a tenant-scoped event type: it requires tenant_only=true.`,
      );
  }
  // Tenant-scoped events only with tenant_only=true ("Required for tenant-scoped events").
  checks.push((e) => isTenantScoped(e.type) === tenantOnly);
  const anyOf = (name: string, pick: (e: OpenaiAuditLog) => unknown[], lower = false) => {
    const wanted = new Set(query.getAll(name).map((v) => (lower ? v.toLowerCase() : v)));
    if (wanted.size > 0) checks.push((e) => pick(e).some((v) => typeof v === "string" && wanted.has(v)));
  };
  anyOf("event_types[]", (e) => [e.type]);
  anyOf("project_ids[]", (e) => [e.project?.id]);
  anyOf("actor_ids[]", actorIds);
  anyOf("actor_emails[]", actorEmails, true);
  anyOf("resource_ids[]", (e) => [payload(e).id, payload(e).resource_id]);
  return (e) => checks.every((check) => check(e));
}

export const auditLogRoutes: Route[] = [
  {
    path: "/v1/organization/audit_logs",
    handle({ org, query }) {
      if (!org.auditLoggingEnabled) return apiError(403, AUDIT_LOGGING_DISABLED_MESSAGE);
      const limit = parseLimit(query);
      if (typeof limit !== "number") return limit;
      const keep = filters(query);
      if (typeof keep !== "function") return keep;
      let items = org.auditLogs.filter(keep).toSorted(newestFirst);
      const cursors: Record<string, OpenaiAuditLog | undefined> = {};
      for (const name of ["after", "before"]) {
        const id = query.get(name);
        if (id === null || id === "") continue;
        const at = org.auditLogs.find((e) => e.id === id);
        if (!at) return badParam(name, `No audit log with id '${id}'.`);
        cursors[name] = at;
      }
      const { after, before } = cursors;
      if (after) items = items.filter((e) => newestFirst(e, after) > 0);
      if (before) items = items.filter((e) => newestFirst(e, before) < 0);
      const page = before && !after ? items.slice(-limit) : items.slice(0, limit);
      return json(listBody(page, items.length > limit));
    },
  },
];
