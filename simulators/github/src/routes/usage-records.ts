/**
 * `GET /enterprises/{enterprise}/copilot/usage-records`: Copilot agent session request/response
 * records, newest first by default, in cursor pages (`after` / `before`, `per_page` clamped to
 * [1, 25]), filtered by `phrase` (`type:`, `user_id:`, `created:`). Only records from the last
 * `usageRecordsWindowMs` (48 h) are served.
 */
import { notFound, perPage, str, validationFailed, type Reply, type Route } from "../http.ts";
import { badCreated, createdRange, cursorPage, parsePhrase, readOrder, type SortKey } from "../query.ts";
import { lookup, type UsageRecord } from "../state.ts";

export function usageKey(record: UsageRecord): SortKey {
  const ts = record["@timestamp"];
  const id = str(record.event_id) || `${str(record.github_request_id)}:${str(record.type)}`;
  return { ts: typeof ts === "number" ? ts : 0, id };
}

export function usageFilter(phrase: string): ((record: UsageRecord) => boolean) | Reply {
  const tests: ((record: UsageRecord) => boolean)[] = [];
  for (const { key, value } of parsePhrase(phrase)) {
    if (key === "type") {
      const wanted = value.toLowerCase();
      tests.push((r) => str(r.type).toLowerCase() === wanted);
    } else if (key === "user_id") {
      const wanted = Number(value);
      if (!Number.isInteger(wanted)) return validationFailed("phrase", `Invalid user_id qualifier: ${value}`);
      tests.push((r) => r.user_id === wanted);
    } else if (key === "created") {
      const range = createdRange(value);
      if (!range) return badCreated(value);
      tests.push((r) => {
        const { ts } = usageKey(r);
        return ts >= range.from && ts < range.until;
      });
    }
  }
  return (record) => tests.every((t) => t(record));
}

export const usageRecordRoutes: Route[] = [
  {
    path: "/enterprises/{enterprise}/copilot/usage-records",
    scopes: ["read:enterprise"],
    permissions: "enterprise_copilot_metrics=read",
    handle(req) {
      const enterprise = lookup(req.state.enterprises, req.params.enterprise ?? "");
      if (!enterprise) return notFound();
      const filter = usageFilter(req.query.get("phrase") ?? "");
      if (typeof filter !== "function") return filter;
      const oldest = req.state.now() - req.state.usageRecordsWindowMs;
      const records = (enterprise.usageRecords ?? []).filter((r) => usageKey(r).ts >= oldest && filter(r));
      return cursorPage(records, {
        keyOf: usageKey,
        order: readOrder(req.query),
        perPage: perPage(req.query, 25, 25),
        baseUrl: req.state.baseUrl,
        path: req.path,
        query: req.query,
      });
    },
  },
];
