/**
 * Copilot usage metrics reports. The API answers with signed, expiring `download_links` that
 * point back at this simulator (`/_downloads/<payload>.ndjson?expires=<s>&sig=<hmac>`); the
 * download serves the report's rows as NDJSON without a token, and answers 403 to an expired or
 * tampered link. A 1-day report with no rows answers 204 where the description declares it,
 * else 404. Rows come from `org.reports[report][day]` (see `sim.setReport`); 28-day `/latest`
 * reports serve the greatest day key of `reports["<name>-28-day"]`.
 */
import { timingSafeEqual } from "node:crypto";
import { notFound, json, validationFailed, type Reply, type Route, type RouteRequest } from "../http.ts";
import { lookup, type MetricsReports, type SimState } from "../state.ts";

type OwnerKind = "orgs" | "enterprises";

/** 1-day reports per owner kind, and whether the description declares 204 for each. */
const ONE_DAY: Record<OwnerKind, Record<string, boolean>> = {
  orgs: { "organization-1-day": true, "users-1-day": true, "repos-1-day": true, "user-teams-1-day": true },
  enterprises: {
    "enterprise-1-day": false,
    "users-1-day": false,
    "repos-1-day": true,
    "user-teams-1-day": false,
  },
};
const TWENTY_EIGHT_DAY: Record<OwnerKind, string[]> = {
  orgs: ["organization-28-day", "users-28-day"],
  enterprises: ["enterprise-28-day", "users-28-day"],
};

interface LinkPayload {
  k: OwnerKind;
  o: string;
  r: string;
  d: string;
  p: number;
}

function reportsOf(state: SimState, kind: OwnerKind, owner: string): MetricsReports | undefined {
  const found = kind === "orgs" ? lookup(state.orgs, owner) : lookup(state.enterprises, owner);
  return found ? (found.reports ?? {}) : undefined;
}

function links(
  state: SimState,
  kind: OwnerKind,
  owner: string,
  report: string,
  day: string,
  rows: number,
): string[] {
  const files = Math.max(1, Math.ceil(rows / state.reportRowsPerFile));
  const expires = Math.ceil((state.now() + state.downloadLinkTtlMs) / 1000);
  return Array.from({ length: files }, (_, p) => {
    const payload = Buffer.from(
      JSON.stringify({ k: kind, o: owner, r: report, d: day, p } satisfies LinkPayload),
    ).toString("base64url");
    return `${state.baseUrl}/_downloads/${payload}.ndjson?expires=${expires}&sig=${state.sign(`${payload}.${expires}`)}`;
  });
}

function oneDay(kind: OwnerKind) {
  return (req: RouteRequest): Reply => {
    const owner = (kind === "orgs" ? req.params.org : req.params.enterprise) ?? "";
    const report = req.params.report ?? "";
    const declares204 = ONE_DAY[kind][report];
    const reports = reportsOf(req.state, kind, owner);
    if (declares204 === undefined || !reports) return notFound();
    const day = req.query.get("day") ?? "";
    if (!/^\d{4}-\d{2}-\d{2}$/.test(day) || Number.isNaN(Date.parse(day)))
      return validationFailed("day", "day must be YYYY-MM-DD");
    const rows = reports[report]?.[day];
    if (!rows || rows.length === 0) return declares204 ? { status: 204 } : notFound();
    return json({ download_links: links(req.state, kind, owner, report, day, rows.length), report_day: day });
  };
}

function latest(kind: OwnerKind) {
  return (req: RouteRequest): Reply => {
    const owner = (kind === "orgs" ? req.params.org : req.params.enterprise) ?? "";
    const report = req.params.report ?? "";
    const reports = reportsOf(req.state, kind, owner);
    if (!TWENTY_EIGHT_DAY[kind].includes(report) || !reports) return notFound();
    const days = Object.keys(reports[report] ?? {}).sort();
    const end = days.at(-1);
    if (end === undefined) return notFound();
    const start = new Date(Date.parse(end) - 27 * 86_400_000).toISOString().slice(0, 10);
    const rows = reports[report]?.[end]?.length ?? 0;
    return json({
      download_links: links(req.state, kind, owner, report, end, rows),
      report_start_day: start,
      report_end_day: end,
    });
  };
}

function denied(message: string): Reply {
  return {
    status: 403,
    contentType: "application/xml",
    text: `<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code><Message>${message}</Message></Error>`,
  };
}

function download(req: RouteRequest): Reply {
  const m = /^([A-Za-z0-9_-]+)\.ndjson$/.exec(req.params.file ?? "");
  const payload = m?.[1];
  const expires = req.query.get("expires") ?? "";
  const sig = Buffer.from(req.query.get("sig") ?? "");
  if (!payload) return notFound();
  const expected = Buffer.from(req.state.sign(`${payload}.${expires}`));
  if (sig.length !== expected.length || !timingSafeEqual(sig, expected))
    return denied("Signature did not match.");
  if (req.state.now() >= Number(expires) * 1000)
    return denied("Signature not valid in the specified time frame.");
  const link = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as LinkPayload;
  const rows = reportsOf(req.state, link.k, link.o)?.[link.r]?.[link.d];
  if (!rows) return notFound();
  const size = req.state.reportRowsPerFile;
  const part = rows.slice(link.p * size, (link.p + 1) * size);
  return {
    status: 200,
    contentType: "application/x-ndjson",
    text: part.map((row) => `${JSON.stringify(row)}\n`).join(""),
  };
}

export const metricsRoutes: Route[] = [
  {
    path: "/orgs/{org}/copilot/metrics/reports/{report}",
    scopes: ["read:org"],
    permissions: "organization_copilot_metrics=read",
    handle: oneDay("orgs"),
  },
  {
    path: "/orgs/{org}/copilot/metrics/reports/{report}/latest",
    scopes: ["read:org"],
    permissions: "organization_copilot_metrics=read",
    handle: latest("orgs"),
  },
  {
    path: "/enterprises/{enterprise}/copilot/metrics/reports/{report}",
    scopes: ["manage_billing:copilot", "read:enterprise"],
    permissions: "enterprise_copilot_metrics=read",
    handle: oneDay("enterprises"),
  },
  {
    path: "/enterprises/{enterprise}/copilot/metrics/reports/{report}/latest",
    scopes: ["manage_billing:copilot", "read:enterprise"],
    permissions: "enterprise_copilot_metrics=read",
    handle: latest("enterprises"),
  },
  { path: "/_downloads/{file}", public: true, handle: download },
];
