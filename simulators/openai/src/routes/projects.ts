/**
 * Projects and what hangs off them (reference §2.2-§2.4): the project list (`include_archived`),
 * one project, its API keys (`owner_project_access`), its users and service accounts (400 when
 * the project is archived, as the spec declares).
 */
import { apiError, badParam, json, listPage, type Reply, type Route, type RouteRequest } from "../http.ts";
import type { OpenaiProject } from "../state.ts";

const isArchived = (p: OpenaiProject) => p.status === "archived" || (p.archived_at ?? null) !== null;

function project(req: RouteRequest): OpenaiProject | Reply {
  const id = req.params.project_id ?? "";
  return req.org.projects.find((p) => p.id === id) ?? apiError(404, `No such project: ${id}`);
}

/** A list under an active project only: the spec's "Error response when project is archived." */
function activeProjectList(pick: "projectUsers" | "serviceAccounts"): Route["handle"] {
  return (req) => {
    const p = project(req);
    if (!("object" in p)) return p;
    if (isArchived(p)) return apiError(400, `Project ${p.id} is archived.`, { param: "project_id" });
    return listPage((req.org[pick][p.id] ?? []) as { id: string }[], req.query);
  };
}

export const projectRoutes: Route[] = [
  {
    path: "/v1/organization/projects",
    handle({ org, query }) {
      const raw = query.get("include_archived");
      if (raw !== null && raw !== "true" && raw !== "false")
        return badParam("include_archived", `Invalid 'include_archived': expected a boolean, got '${raw}'.`);
      return listPage(org.projects, query, (p) => raw === "true" || !isArchived(p));
    },
  },
  {
    path: "/v1/organization/projects/{project_id}",
    handle(req) {
      const p = project(req);
      return "object" in p ? json(p) : p;
    },
  },
  {
    path: "/v1/organization/projects/{project_id}/api_keys",
    handle(req) {
      const p = project(req);
      if (!("object" in p)) return p;
      const access = req.query.get("owner_project_access");
      if (access !== null && !["active", "inactive", "any"].includes(access))
        return badParam(
          "owner_project_access",
          `Invalid 'owner_project_access': expected one of active, inactive, any, got '${access}'.`,
        );
      // Omitted: "membership-based visibility rules, which may exclude some enabled keys";
      // here that means only keys whose owner still has access. Archived projects still list keys.
      const wanted = access ?? "active";
      return listPage(
        req.org.projectApiKeys[p.id] ?? [],
        req.query,
        (k) => wanted === "any" || k.owner_project_access === wanted,
      );
    },
  },
  { path: "/v1/organization/projects/{project_id}/users", handle: activeProjectList("projectUsers") },
  {
    path: "/v1/organization/projects/{project_id}/service_accounts",
    handle: activeProjectList("serviceAccounts"),
  },
];
