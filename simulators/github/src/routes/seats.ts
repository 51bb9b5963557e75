/**
 * Copilot seats and billing: `GET /orgs/{org}/copilot/billing`, `.../billing/seats`, the
 * enterprise seat listing, and the per-user seat endpoints (copilot-seat-details).
 */
import type { GithubSeat } from "../fixtures.ts";
import { error, json, notFound, pageOf, str, type Route } from "../http.ts";
import { lookup, type CopilotOrgSettings } from "../state.ts";

const ORG_SCOPES = ["manage_billing:copilot", "read:org"];
const ORG_PERMISSIONS = "organization_copilot_seat_management=read; organization_administration=read";
const ENTERPRISE_SCOPES = ["manage_billing:copilot", "read:enterprise"];
const ENTERPRISE_PERMISSIONS = "enterprise_copilot_license_management=read";

const DEFAULT_SETTINGS: CopilotOrgSettings = {
  seat_management_setting: "assign_selected",
  public_code_suggestions: "block",
  ide_chat: "enabled",
  platform_chat: "enabled",
  cli: "enabled",
  plan_type: "business",
  pending_invitation: 0,
};

const login = (seat: GithubSeat) => str((seat.assignee as { login?: unknown } | null)?.login);
const userKey = (seat: GithubSeat) => {
  const a = seat.assignee as { id?: unknown; login?: unknown } | null;
  return str(a?.id) || str(a?.login) || JSON.stringify(seat);
};

export const seatRoutes: Route[] = [
  {
    path: "/orgs/{org}/copilot/billing",
    scopes: ORG_SCOPES,
    permissions: ORG_PERMISSIONS,
    handle({ params, state }) {
      const org = lookup(state.orgs, params.org ?? "");
      if (!org) return notFound();
      const { pending_invitation, ...policies } = { ...DEFAULT_SETTINGS, ...org.copilot };
      const now = new Date(state.now());
      const cycleStart = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1);
      const since = (value: unknown) => typeof value === "string" && Date.parse(value) >= cycleStart;
      const active = org.seats.filter((s) => since(s.last_activity_at)).length;
      return json({
        seat_breakdown: {
          total: org.seats.length,
          added_this_cycle: org.seats.filter((s) => since(s.created_at)).length,
          pending_invitation,
          pending_cancellation: org.seats.filter((s) => s.pending_cancellation_date != null).length,
          active_this_cycle: active,
          inactive_this_cycle: org.seats.length - active,
        },
        ...policies,
      });
    },
  },
  {
    path: "/orgs/{org}/copilot/billing/seats",
    scopes: ORG_SCOPES,
    permissions: ORG_PERMISSIONS,
    handle(req) {
      const org = lookup(req.state.orgs, req.params.org ?? "");
      if (!org) return notFound();
      const page = pageOf(org.seats, req, 50);
      return json(
        { total_seats: org.seats.length, seats: page.items },
        page.link ? { link: page.link } : undefined,
      );
    },
  },
  {
    path: "/enterprises/{enterprise}/copilot/billing/seats",
    scopes: ENTERPRISE_SCOPES,
    permissions: ENTERPRISE_PERMISSIONS,
    handle(req) {
      const enterprise = lookup(req.state.enterprises, req.params.enterprise ?? "");
      if (!enterprise) return notFound();
      const seats = enterprise.seats ?? [];
      const page = pageOf(seats, req, 50);
      const total = new Set(seats.map(userKey)).size;
      return json({ total_seats: total, seats: page.items }, page.link ? { link: page.link } : undefined);
    },
  },
  {
    path: "/orgs/{org}/members/{username}/copilot",
    scopes: ORG_SCOPES,
    permissions: ORG_PERMISSIONS,
    handle({ params, state }) {
      const org = lookup(state.orgs, params.org ?? "");
      if (!org) return notFound();
      const wanted = (params.username ?? "").toLowerCase();
      const seat = org.seats.find((s) => login(s).toLowerCase() === wanted);
      return seat ? json(seat) : notFound();
    },
  },
  {
    path: "/enterprises/{enterprise}/members/{username}/copilot",
    scopes: ORG_SCOPES, // as written in the description
    handle({ params, state }) {
      const enterprise = lookup(state.enterprises, params.enterprise ?? "");
      if (!enterprise) return notFound();
      if (!enterprise.seats)
        return error(422, "Copilot Business or Enterprise is not enabled for this enterprise.");
      const wanted = (params.username ?? "").toLowerCase();
      const seats = enterprise.seats.filter((s) => login(s).toLowerCase() === wanted);
      return seats.length > 0 ? json({ total_seats: 1, seats }) : notFound();
    },
  },
];
