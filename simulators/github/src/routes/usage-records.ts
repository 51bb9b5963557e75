/**
 * `GET /enterprises/{enterprise}/copilot/usage-records`: Copilot agent session request/response
 * records, newest first by default, in cursor pages (`after` / `before`, `per_page` clamped to
 * [1, 25]), filtered by `phrase` (`type:`, `user_id:`, `created:`). Only records from the last
 * `usageRecordsWindowMs` (48 h) are served.
 */
import { notFound, perPage, str, validationFailed, type Reply, type Route } from "../http.ts";
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
import { lookup, type UsageRecord } from "../state.ts";
import type { Selection } from "./audit-log.ts";

/** (`@timestamp` in ms whatever unit it was sent in; `event_id`, or request id and type). */
export function usageKey(record: UsageRecord): SortKey {
  const id = str(record.event_id) || `${str(record.github_request_id)}:${str(record.type)}`;
  return { ts: epochMs(record["@timestamp"]), id };
}

/** What a phrase selects: `type:`, `user_id:` (integer, else 422) and a `created:` range. */
export function usageFilter(phrase: string): Selection<UsageRecord> | Reply {
  const tests: ((record: UsageRecord) => boolean)[] = [];
  let range: TimeRange = { from: -Infinity, until: Infinity };
  for (const { key, value } of parsePhrase(phrase)) {
    if (key === "type") {
      const wanted = value.toLowerCase();
      tests.push((r) => str(r.type).toLowerCase() === wanted);
    } else if (key === "user_id") {
      const wanted = Number(value);
      if (!Number.isInteger(wanted)) return validationFailed("phrase", `Invalid user_id qualifier: ${value}`);
      tests.push((r) => r.user_id === wanted);
    } else if (key === "created") {
      const created = createdRange(value);
      if (!created) return badCreated(value);
      range = intersect(range, created);
    }
  }
  return { test: (record) => tests.every((t) => t(record)), range };
}

export const usageRecordRoutes: Route[] = [
  {
    path: "/enterprises/{enterprise}/copilot/usage-records",
    scopes: ["read:enterprise"],
    permissions: "enterprise_copilot_metrics=read",
    handle(req) {
      const enterprise = lookup(req.state.enterprises, req.params.enterprise ?? "");
      if (!enterprise) return notFound();
      const selection = usageFilter(req.query.get("phrase") ?? "");
      if ("status" in selection) return selection;
      const kept = { from: req.state.now() - req.state.usageRecordsWindowMs, until: Infinity };
      return cursorPage(enterprise.usageRecords ?? [], {
        test: selection.test,
        range: intersect(selection.range, kept),
        keyOf: usageKey,
        order: readOrder(req.query),
        perPage: perPage(req.query, 25, 25),
        baseUrl: req.state.baseUrl,
        path: req.path,
        query: req.query,
        repeats: enterprise,
        served: req.state.served,
      });
    },
  },
];
