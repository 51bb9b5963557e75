/**
 * The simulator's data model: what each organization and enterprise holds. Route modules read
 * these live, so tests may mutate `sim.orgs` / `sim.enterprises` between requests.
 */
import type { GithubSeat } from "./fixtures.ts";

/** A raw event shaped like GitHub's `audit-log-event` (no required fields; extra keys allowed). */
export type AuditEvent = Record<string, unknown>;

/** A record shaped like the items of `GET /enterprises/{enterprise}/copilot/usage-records`. */
export type UsageRecord = Record<string, unknown>;

/**
 * NDJSON report rows by report name and day, e.g. `{ "users-1-day": { "2026-11-20": rows } }`.
 * 28-day reports are keyed by their end day (`"users-28-day": { "2026-11-20": rows }`); the
 * `/latest` endpoint serves the greatest key.
 */
export type MetricsReports = Record<string, Record<string, Record<string, unknown>[]>>;

/** Organization policies reported by `GET /orgs/{org}/copilot/billing` (merged over defaults). */
export interface CopilotOrgSettings {
  seat_management_setting: "assign_all" | "assign_selected" | "disabled" | "unconfigured";
  public_code_suggestions: "allow" | "block" | "unconfigured";
  ide_chat: "enabled" | "disabled" | "unconfigured";
  platform_chat: "enabled" | "disabled" | "unconfigured";
  cli: "enabled" | "disabled" | "unconfigured";
  plan_type: "business" | "enterprise";
  /** `seat_breakdown.pending_invitation` (not derivable from seats). @default 0 */
  pending_invitation: number;
}

/**
 * Event lists that repeat events, as a search index does: the same event id with the same
 * content served again. Both apply to the cursor lists (audit log, usage records) and can be
 * changed between requests.
 */
export interface Repeats {
  /**
   * Each page reached through an `after` cursor starts with the last K items of the page before
   * it (the traversal still advances `per_page` items a page). @default 0
   */
  repeatAcrossPages?: number;
  /**
   * The first page of each new traversal (no `after`/`before`) starts with the last K items an
   * earlier traversal of the same list served (same path, order and phrase but for `created:`),
   * whether or not its `created:` range covers them: events GitHub indexed twice. @default 0
   */
  repeatAcrossPolls?: number;
}

export interface SimulatedOrg extends Repeats {
  id: number;
  seats: GithubSeat[];
  auditEvents?: AuditEvent[];
  copilot?: Partial<CopilotOrgSettings>;
  reports?: MetricsReports;
}

export interface SimulatedEnterprise extends Repeats {
  id: number;
  /** One entry per org or team granting the user a seat; `total_seats` counts users once. */
  seats?: GithubSeat[];
  auditEvents?: AuditEvent[];
  usageRecords?: UsageRecord[];
  reports?: MetricsReports;
  /** Member organizations: their audit events also appear in the enterprise audit log. */
  orgs?: string[];
}

/** What a route handler can see of the simulator. */
export interface SimState {
  readonly orgs: Map<string, SimulatedOrg>;
  readonly enterprises: Map<string, SimulatedEnterprise>;
  readonly baseUrl: string;
  now(): number;
  /** How long a report download link stays valid. */
  readonly downloadLinkTtlMs: number;
  /** Rows per NDJSON file; more rows give more download links. */
  readonly reportRowsPerFile: number;
  /** Usage records older than this (relative to now) are not served. */
  readonly usageRecordsWindowMs: number;
  sign(payload: string): string;
  /** The last items served per list (for `repeatAcrossPolls`), by list identity. */
  readonly served: Map<string, unknown[]>;
}

/** Case-insensitive lookup, as GitHub treats org and enterprise slugs. */
export function lookup<T>(map: Map<string, T>, name: string): T | undefined {
  const exact = map.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  for (const [key, value] of map) if (key.toLowerCase() === lower) return value;
  return undefined;
}
