/**
 * `GET /orgs/{org}/audit-log` and `GET /enterprises/{enterprise}/audit-log`: raw
 * `audit-log-event`s filtered by `phrase`, ordered by (`@timestamp`, `_document_id`) asc or desc
 * (default desc), in cursor pages (`after` / `before` from the Link header, `per_page` default
 * 30, max 100). `include` is accepted and ignored; the enterprise `page` parameter (GHES only)
 * is ignored. Each endpoint has its own per-token hourly query limit (`auditLogLimit`).
 */
import { notFound, perPage, str, type Reply, type RouteRequest, type Route } from "../http.ts";
import { badCreated, createdRange, cursorPage, parsePhrase, readOrder, type SortKey } from "../query.ts";
import { lookup, type AuditEvent } from "../state.ts";

const SCOPES = ["read:audit_log"];

export function auditKey(event: AuditEvent): SortKey {
  const ts = event["@timestamp"] ?? event.created_at;
  return { ts: typeof ts === "number" ? ts : 0, id: str(event._document_id) };
}

const text = (value: unknown) => (typeof value === "string" ? value.toLowerCase() : "");

/**
 * The predicate a phrase selects. Supported qualifiers: `action:X` (equal to X or starting with
 * `X.`), `actor:`, `user:`, `org:` (case-insensitive equality), `created:` (see `createdRange`).
 * Several terms must all match; unknown qualifiers and bare words are ignored.
 */
export function auditFilter(phrase: string): ((event: AuditEvent) => boolean) | Reply {
  const tests: ((event: AuditEvent) => boolean)[] = [];
  for (const { key, value } of parsePhrase(phrase)) {
    const wanted = value.toLowerCase();
    if (key === "action") {
      tests.push((e) => text(e.action) === wanted || text(e.action).startsWith(`${wanted}.`));
    } else if (key === "actor" || key === "user" || key === "org") {
      tests.push((e) => text(e[key]) === wanted);
    } else if (key === "created") {
      const range = createdRange(value);
      if (!range) return badCreated(value);
      tests.push((e) => {
        const { ts } = auditKey(e);
        return ts >= range.from && ts < range.until;
      });
    }
  }
  return (event) => tests.every((t) => t(event));
}

function page(req: RouteRequest, events: readonly AuditEvent[]): Reply {
  const filter = auditFilter(req.query.get("phrase") ?? "");
  if (typeof filter !== "function") return filter;
  return cursorPage(events.filter(filter), {
    keyOf: auditKey,
    order: readOrder(req.query),
    perPage: perPage(req.query, 30, 100),
    baseUrl: req.state.baseUrl,
    path: req.path,
    query: req.query,
  });
}

export const auditLogRoutes: Route[] = [
  {
    path: "/orgs/{org}/audit-log",
    scopes: SCOPES,
    permissions: "organization_administration=read",
    queryLimitBucket: "org-audit-log",
    handle(req) {
      const org = lookup(req.state.orgs, req.params.org ?? "");
      if (!org) return notFound();
      return page(req, org.auditEvents ?? []);
    },
  },
  {
    path: "/enterprises/{enterprise}/audit-log",
    scopes: SCOPES,
    permissions: "enterprise_administration=read",
    queryLimitBucket: "enterprise-audit-log",
    handle(req) {
      const enterprise = lookup(req.state.enterprises, req.params.enterprise ?? "");
      if (!enterprise) return notFound();
      const seen = new Set<string>();
      const events: AuditEvent[] = [];
      const memberEvents = (enterprise.orgs ?? []).flatMap(
        (name) => lookup(req.state.orgs, name)?.auditEvents ?? [],
      );
      for (const e of [...(enterprise.auditEvents ?? []), ...memberEvents]) {
        const id = str(e._document_id);
        if (id && seen.has(id)) continue;
        seen.add(id);
        events.push(e);
      }
      return page(req, events);
    },
  },
];
