/** `GET /v1/organization/users` (filter `emails` / `emails[]`) and `/users/{user_id}` (reference §2.1). */
import { apiError, json, listPage, many, type Route } from "../http.ts";

export const userRoutes: Route[] = [
  {
    path: "/v1/organization/users",
    handle({ org, query }) {
      const emails = new Set(many(query, "emails").map((e) => e.toLowerCase()));
      return listPage(
        org.users,
        query,
        (u) => emails.size === 0 || (typeof u.email === "string" && emails.has(u.email.toLowerCase())),
      );
    },
  },
  {
    path: "/v1/organization/users/{user_id}",
    handle({ org, params }) {
      const user = org.users.find((u) => u.id === params.user_id);
      return user ? json(user) : apiError(404, `No such user: ${params.user_id ?? ""}`);
    },
  },
];
