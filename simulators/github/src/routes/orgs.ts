/** `GET /orgs/{org}` (organization-full). */
import { organization } from "../fixtures.ts";
import { json, notFound, type Route } from "../http.ts";
import { lookup } from "../state.ts";

export const orgRoutes: Route[] = [
  {
    path: "/orgs/{org}",
    handle({ params, state }) {
      const org = lookup(state.orgs, params.org ?? "");
      return org ? json(organization(params.org ?? "", org.id)) : notFound();
    },
  },
];
