/**
 * The simulator's data model: what each organization holds, shaped like the objects in
 * simulators/openai/reference/README.md §2. Route modules read these live, so tests may mutate
 * `sim.orgs` between requests. Extra fields are allowed everywhere (the spec has no
 * `additionalProperties: false`).
 */

/** §2.1 `User` (required: object, id, added_at). */
export interface OpenaiUser {
  object: "organization.user";
  id: string;
  name?: string | null;
  email?: string | null;
  /** `owner` or `reader` (a string in the spec, not an enum). */
  role?: string | null;
  added_at: number;
  [field: string]: unknown;
}

/** §2.2 `Project` (required: id, object, created_at). */
export interface OpenaiProject {
  object: "organization.project";
  id: string;
  name?: string | null;
  created_at: number;
  archived_at?: number | null;
  /** `active` or `archived`: archived projects are hidden unless `include_archived=true`. */
  status?: string | null;
  [field: string]: unknown;
}

export interface OpenaiKeyOwnerUser {
  id: string;
  email: string;
  name: string;
  created_at: number;
  role: string;
}

export interface OpenaiKeyOwnerServiceAccount {
  id: string;
  name: string;
  created_at: number;
  role: string;
}

/** §2.3 `ProjectApiKey` (all eight top-level fields required). */
export interface OpenaiProjectApiKey {
  object: "organization.project.api_key";
  id: string;
  name: string;
  redacted_value: string;
  created_at: number;
  last_used_at: number | null;
  owner_project_access: "active" | "inactive";
  owner: {
    type?: "user" | "service_account";
    user?: OpenaiKeyOwnerUser;
    service_account?: OpenaiKeyOwnerServiceAccount;
  };
  [field: string]: unknown;
}

/** §2.6 `AuditLogActor`, plus the example-only `session.user_agent`. */
export interface OpenaiAuditLogActor {
  type?: "session" | "api_key";
  session?: { user?: { id?: string; email?: string }; ip_address?: string; user_agent?: string };
  api_key?: {
    id?: string;
    type?: "user" | "service_account";
    user?: { id?: string; email?: string };
    service_account?: { id?: string };
  };
}

/** §2.6 `AuditLog` (required: id, type, effective_at); the payload sits under the key named `type`. */
export interface OpenaiAuditLog {
  id: string;
  type: string;
  effective_at: number;
  project?: { id?: string; name?: string };
  actor?: OpenaiAuditLogActor | null;
  [field: string]: unknown;
}

export interface SimulatedOpenaiOrg {
  /** Bearer values that authenticate as an admin key of this org. */
  adminKeys: string[];
  users: OpenaiUser[];
  projects: OpenaiProject[];
  /** By project id. */
  projectApiKeys: Record<string, OpenaiProjectApiKey[]>;
  /** By project id: §2.4 `ProjectUser` objects. */
  projectUsers: Record<string, Record<string, unknown>[]>;
  /** By project id: §2.4 `ProjectServiceAccount` objects. */
  serviceAccounts: Record<string, Record<string, unknown>[]>;
  /** §2.5 `AdminApiKey` objects. */
  adminApiKeys: Record<string, unknown>[];
  auditLogs: OpenaiAuditLog[];
  /** false: audit logging was never switched on in the org's settings: /audit_logs answers 403. */
  auditLoggingEnabled: boolean;
}

/** What a route handler can see of the simulator. */
export interface SimState {
  readonly orgs: Map<string, SimulatedOpenaiOrg>;
  now(): number;
}
