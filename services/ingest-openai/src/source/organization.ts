/**
 * The organization's lists (simulators/openai/reference §2.1–2.5), each read whole through the
 * SDK's admin resources: users, projects (archived included), each project's API keys (every
 * owner: `owner_project_access=any`, since the default hides keys whose owner lost access — the
 * orphan candidates), each active project's service accounts, and the admin API keys.
 */
import type OpenAI from "openai";
import { z } from "zod";
import { isAiauditError } from "@aiaudit/errors";
import { listAll } from "./api.ts";

export interface ListOptions {
  /** Objects per page, 1–100. */
  limit: number;
}

export const listUsers = (client: OpenAI, { limit }: ListOptions) =>
  listAll("GET /organization/users", (page) => client.admin.organization.users.list({ limit, ...page }));

export const listProjects = (client: OpenAI, { limit }: ListOptions) =>
  listAll("GET /organization/projects", (page) =>
    client.admin.organization.projects.list({ limit, ...page, include_archived: true }),
  );

export const listAdminApiKeys = (client: OpenAI, { limit }: ListOptions) =>
  // The admin-keys list pages by the last item's id (the SDK's CursorPage), oldest first.
  listAll(
    "GET /organization/admin_api_keys",
    (page) => client.admin.organization.adminAPIKeys.list({ limit, ...page, order: "asc" }),
    "last_item",
  );

/** What the per-project lists need of a project. */
const projectRef = z.looseObject({
  id: z.string().min(1),
  status: z.string().nullish(),
  archived_at: z.number().nullish(),
});
export type ProjectRef = { id: string; archived: boolean };

/** The projects to read per-project lists of; an unreadable project is the projects stream's dead letter. */
export async function projectRefs(client: OpenAI, options: ListOptions): Promise<ProjectRef[]> {
  const refs: ProjectRef[] = [];
  for (const raw of await listProjects(client, options)) {
    const p = projectRef.safeParse(raw);
    if (p.success) refs.push({ id: p.data.id, archived: isArchived(p.data) });
  }
  return refs;
}

export const isArchived = (p: {
  status?: string | null | undefined;
  archived_at?: number | null | undefined;
}) => p.status === "archived" || (p.archived_at !== null && p.archived_at !== undefined);

/** A 400 for an archived project: the spec declares it for the per-project lists of archived projects. */
const archivedRefusal = (err: unknown) => isAiauditError(err) && err.details.status === 400;

/**
 * Keys of every project, archived ones included: an archived project's keys are orphans an
 * auditor wants listed. The spec declares a 400 only for the users and service accounts of an
 * archived project; should OpenAI answer one here too, that project lists no keys.
 */
export async function listProjectApiKeys(
  client: OpenAI,
  projects: ProjectRef[],
  { limit }: ListOptions,
): Promise<{ projectId: string; keys: unknown[] }[]> {
  const out = [];
  for (const project of projects) {
    const keys = await listAll(`GET /organization/projects/${project.id}/api_keys`, (page) =>
      client.admin.organization.projects.apiKeys.list(project.id, {
        limit,
        ...page,
        owner_project_access: "any",
      }),
    ).catch((err: unknown) => {
      if (project.archived && archivedRefusal(err)) return [];
      throw err;
    });
    out.push({ projectId: project.id, keys });
  }
  return out;
}

/** Service accounts of every active project (an archived one answers 400). */
export async function listServiceAccounts(
  client: OpenAI,
  projects: ProjectRef[],
  { limit }: ListOptions,
): Promise<{ projectId: string; accounts: unknown[] }[]> {
  const out = [];
  for (const project of projects.filter((p) => !p.archived)) {
    const accounts = await listAll(`GET /organization/projects/${project.id}/service_accounts`, (page) =>
      client.admin.organization.projects.serviceAccounts.list(project.id, { limit, ...page }),
    );
    out.push({ projectId: project.id, accounts });
  }
  return out;
}
