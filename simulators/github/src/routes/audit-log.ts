/**
 * `GET /orgs/{org}/audit-log` and `GET /enterprises/{enterprise}/audit-log`: raw
 * `audit-log-event`s filtered by `phrase`, ordered by (`@timestamp`, `_document_id`) asc or desc
 * (default desc), in cursor pages (`after` / `before` from the Link header, `per_page` default
 * 30, max 100). `include` is accepted and ignored; the enterprise `page` parameter (GHES only)
 * is ignored. Each endpoint has its own per-token hourly query limit (`auditLogLimit`).
 */
import { notFound, perPage, str, type Reply, type RouteRequest, type Route } from "../http.ts";
import {
  badCreated,
  createdRange,
  cursorPage,
  epochMs,
  intersect,
  parsePhrase,
  readOrder,
  type SortKey,
  type TimeRange,
} from "../query.ts";
import { lookup, type AuditEvent, type Repeats, type SimulatedEnterprise } from "../state.ts";

const SCOPES = ["read:audit_log"];

/** (`@timestamp` or else `created_at`, in ms whatever unit it was sent in; `_document_id`). */
export function auditKey(event: AuditEvent): SortKey {
  return { ts: epochMs(event["@timestamp"] ?? event.created_at), id: str(event._document_id) };
}

const text = (value: unknown) => (typeof value === "string" ? value.toLowerCase() : "");

/** What a phrase selects: a `created:` time range, and a test for the other terms. */
export interface Selection<T> {
  test: (item: T) => boolean;
  range: TimeRange;
}

/**
 * What a phrase selects. Supported qualifiers: `action:X` (equal to X or starting with `X.`),
 * `actor:`, `user:`, `org:` (case-insensitive equality), `created:` (see `createdRange`).
 * Several terms must all match; unknown qualifiers and bare words are ignored.
 */
export function auditFilter(phrase: string): Selection<AuditEvent> | Reply {
  const tests: ((event: AuditEvent) => boolean)[] = [];
  let range: TimeRange = { from: -Infinity, until: Infinity };
  for (const { key, value } of parsePhrase(phrase)) {
    const wanted = value.toLowerCase();
    if (key === "action") {
      tests.push((e) => text(e.action) === wanted || text(e.action).startsWith(`${wanted}.`));
    } else if (key === "actor" || key === "user" || key === "org") {
      tests.push((e) => text(e[key]) === wanted);
    } else if (key === "created") {
      const created = createdRange(value);
      if (!created) return badCreated(value);
      range = intersect(range, created);
    }
  }
  return { test: (event) => tests.every((t) => t(event)), range };
}

function page(req: RouteRequest, events: readonly AuditEvent[], repeats: Repeats): Reply {
  const selection = auditFilter(req.query.get("phrase") ?? "");
  if ("status" in selection) return selection;
  return cursorPage(events, {
    ...selection,
    keyOf: auditKey,
    order: readOrder(req.query),
    perPage: perPage(req.query, 30, 100),
    baseUrl: req.state.baseUrl,
    path: req.path,
    query: req.query,
    repeats,
    served: req.state.served,
  });
}

/**
 * The enterprise's events and its member orgs', each id once, kept while none of the lists
 * changed, so that the sorted copy (see `cursorPage`) survives from one page to the next.
 */
const merged = new WeakMap<SimulatedEnterprise, { parts: unknown[]; events: AuditEvent[] }>();

function enterpriseEvents(req: RouteRequest, enterprise: SimulatedEnterprise): AuditEvent[] {
  const lists = [
    enterprise.auditEvents ?? [],
    ...(enterprise.orgs ?? []).map((name) => lookup(req.state.orgs, name)?.auditEvents ?? []),
  ];
  const parts = lists.flatMap((list) => [list, list.length]);
  const cached = merged.get(enterprise);
  if (cached?.parts.length === parts.length && cached.parts.every((p, i) => p === parts[i]))
    return cached.events;
  const seen = new Set<string>();
  const events: AuditEvent[] = [];
  for (const e of lists.flat()) {
    const id = str(e._document_id);
    if (id && seen.has(id)) continue;
    seen.add(id);
    events.push(e);
  }
  merged.set(enterprise, { parts, events });
  return events;
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
      return page(req, org.auditEvents ?? [], org);
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
      return page(req, enterpriseEvents(req, enterprise), enterprise);
    },
  },
];
