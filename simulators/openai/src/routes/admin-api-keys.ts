/**
 * `GET /v1/organization/admin_api_keys` (reference §2.5): `order=asc|desc` by creation time
 * (default asc), `after` = the id of the last item of the previous page (the SDK's `CursorPage`).
 */
import { badParam, listPage, type Route } from "../http.ts";

type Keyed = Record<string, unknown> & { id: string };

const createdAt = (k: Keyed) => (typeof k.created_at === "number" ? k.created_at : 0);

export const adminApiKeyRoutes: Route[] = [
  {
    path: "/v1/organization/admin_api_keys",
    handle({ org, query }) {
      const order = query.get("order") ?? "asc";
      if (order !== "asc" && order !== "desc")
        return badParam("order", `Invalid 'order': expected one of asc, desc, got '${order}'.`);
      const keys = (org.adminApiKeys as Keyed[]).toSorted(
        (a, b) => createdAt(a) - createdAt(b) || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0),
      );
      return listPage(order === "asc" ? keys : keys.reverse(), query);
    },
  },
];
