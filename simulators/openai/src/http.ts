/**
 * The contract between the server pipeline and the route modules: a route declares its path
 * template and returns a `Reply`; the server adds authentication, the rate limit, faults and
 * the request log. Also the `ErrorResponse` envelope and the cursor list shared by every list
 * endpoint (simulators/openai/reference/README.md §1).
 */
import { json, type Reply } from "@aiaudit/sim-kit";
import type { SimState, SimulatedOpenaiOrg } from "./state.ts";

export { json, type Reply };

export interface RouteRequest {
  /** Decoded path parameters, e.g. `{ project_id: "proj_x" }`. */
  params: Record<string, string>;
  query: URLSearchParams;
  path: string;
  /** The organization the admin key belongs to. */
  org: SimulatedOpenaiOrg;
  state: SimState;
}

export interface Route {
  /** Path template including `/v1`, e.g. `/v1/organization/projects/{project_id}`. */
  path: string;
  handle(req: RouteRequest): Reply;
}

/** An `ErrorResponse`: `{error: {type, message, param, code}}`, all four always present. */
export function apiError(
  status: number,
  message: string,
  options: {
    type?: string;
    param?: string | null;
    code?: string | null;
    headers?: Record<string, string>;
  } = {},
): Reply {
  const body = {
    error: {
      type: options.type ?? "invalid_request_error",
      message,
      param: options.param ?? null,
      code: options.code ?? null,
    },
  };
  return options.headers ? { status, body, headers: options.headers } : { status, body };
}

/** What OpenAI answers for a path it does not serve. */
export const invalidUrl = (method: string, path: string): Reply =>
  apiError(404, `Invalid URL (${method} ${path})`);

export const badParam = (param: string, message: string, code: string | null = null): Reply =>
  apiError(400, message, { param, code });

/** `limit`: default 20, an integer in 1..100 (the range is in the descriptions only), else 400. */
export function parseLimit(query: URLSearchParams): number | Reply {
  const raw = query.get("limit");
  if (raw === null) return 20;
  const n = Number(raw);
  if (!/^-?\d+$/.test(raw) || !Number.isSafeInteger(n))
    return badParam(
      "limit",
      `Invalid 'limit': expected an integer, but got '${raw}' instead.`,
      "invalid_type",
    );
  if (n < 1)
    return badParam(
      "limit",
      `Invalid 'limit': integer below minimum value. Expected a value >= 1, but got ${n} instead.`,
      "integer_below_min_value",
    );
  if (n > 100)
    return badParam(
      "limit",
      `Invalid 'limit': integer above maximum value. Expected a value <= 100, but got ${n} instead.`,
      "integer_above_max_value",
    );
  return n;
}

/** Every value of a repeated parameter, under its plain and its bracketed name (`emails`, `emails[]`). */
export function many(query: URLSearchParams, name: string): string[] {
  return [...query.getAll(name), ...query.getAll(`${name}[]`)];
}

/** `{object: "list", data, first_id, last_id, has_more}` for one page. */
export function listBody(page: readonly { id: string }[], hasMore: boolean): Record<string, unknown> {
  return {
    object: "list",
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: hasMore,
  };
}

/**
 * A cursor page over `all` (in its order): items after the one whose id is `after` (looked up
 * in `all`, so a filter does not lose the place), that pass `keep`, at most `limit`. An `after`
 * that names no item gives 400.
 */
export function listPage<T extends { id: string }>(
  all: readonly T[],
  query: URLSearchParams,
  keep: (item: T) => boolean = () => true,
): Reply {
  const limit = parseLimit(query);
  if (typeof limit !== "number") return limit;
  const after = query.get("after");
  let start = 0;
  if (after !== null && after !== "") {
    const at = all.findIndex((item) => item.id === after);
    if (at < 0) return badParam("after", `No object with id '${after}' in this list.`);
    start = at + 1;
  }
  const rest = all.slice(start).filter(keep);
  return json(listBody(rest.slice(0, limit), rest.length > limit));
}
