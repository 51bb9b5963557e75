/**
 * The contract between the server pipeline and the route modules: a route declares its path
 * template and the access it needs, and returns a `Reply`; the server adds authentication, rate
 * limits, faults, ETags, request ids and the request log.
 */
import { json, type Reply } from "@aiaudit/sim-kit";
import type { SimState } from "./state.ts";

export { json, type Reply };

export interface RouteRequest {
  /** Decoded path parameters, e.g. `{ org: "acme" }` for `/orgs/{org}`. */
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
  state: SimState;
  requestId: string;
}

export interface Route {
  /** Path template, e.g. `/orgs/{org}/audit-log`. */
  path: string;
  /** Classic OAuth scopes, any one of which grants access. Omitted: any valid token. */
  scopes?: readonly string[];
  /** Fine-grained permission sets sent in `x-accepted-github-permissions` (simulator's choice). */
  permissions?: string;
  /** No token needed and no rate limit (signed download URLs). */
  public?: boolean;
  /** An extra per-token hourly query limit bucket (the audit-log endpoints). */
  queryLimitBucket?: string;
  handle(req: RouteRequest): Reply | Promise<Reply>;
}

export const DOCS = "https://docs.github.com/enterprise-cloud@latest/rest";

/** A `basic-error` body. */
export function error(status: number, message: string, headers?: Record<string, string>): Reply {
  const body = { message, documentation_url: DOCS, status: String(status) };
  return headers ? { status, body, headers } : { status, body };
}

export const notFound = (): Reply => error(404, "Not Found");

/** A `validation-error` body (422). */
export function validationFailed(field: string, message: string): Reply {
  return {
    status: 422,
    body: {
      message: "Validation Failed",
      errors: [{ resource: "Search", field, code: "invalid", message }],
      documentation_url: DOCS,
    },
  };
}

/** `per_page` as GitHub reads it: a missing or non-numeric value gives the default, then clamp. */
export function perPage(query: URLSearchParams, fallback: number, max: number): number {
  const raw = Number.parseInt(query.get("per_page") ?? "", 10);
  return Math.min(max, Math.max(1, Number.isFinite(raw) ? raw : fallback));
}

/**
 * Page-number pagination (`page`, `per_page`) with GitHub's Link header: `prev` after page 1,
 * `next` before the last page, `last` and `first`; no header when everything fits on one page.
 */
export function pageOf<T>(
  items: readonly T[],
  req: Pick<RouteRequest, "query" | "path" | "state">,
  defaultPerPage: number,
): { items: T[]; link: string | undefined } {
  const size = perPage(req.query, defaultPerPage, 100);
  const page = Math.max(1, Number.parseInt(req.query.get("page") ?? "1", 10) || 1);
  const last = Math.max(1, Math.ceil(items.length / size));
  let link: string | undefined;
  if (last > 1) {
    const at = (p: number) => {
      const q = new URLSearchParams(req.query);
      q.set("page", String(p));
      return `<${req.state.baseUrl}${req.path}?${q.toString()}>`;
    };
    const rels: string[] = [];
    if (page > 1) rels.push(`${at(page - 1)}; rel="prev"`);
    if (page < last) rels.push(`${at(page + 1)}; rel="next"`);
    rels.push(`${at(last)}; rel="last"`, `${at(1)}; rel="first"`);
    link = rels.join(", ");
  }
  return { items: items.slice((page - 1) * size, page * size), link };
}

/** A scalar field as text ("" for objects, null and undefined). */
export function str(value: unknown): string {
  return typeof value === "string"
    ? value
    : typeof value === "number" || typeof value === "boolean"
      ? String(value)
      : "";
}
