/**
 * Deterministic organizations for tests and the demo, shaped like the objects in
 * simulators/openai/reference/README.md §2: users (some with an outside email domain), active and
 * archived projects, project API keys of known kinds (stale, orphaned, service-account owned),
 * project users and service accounts, admin keys, and an audit log that cycles through every
 * event type of the reference's enum. `expected` names the objects a correct audit must flag.
 * Same options (seed included), same output. Times are integer Unix seconds, as on the wire.
 */
import { AUDIT_LOG_EVENT_TYPES, isTenantScoped } from "./event-types.ts";
import type {
  OpenaiAuditLog,
  OpenaiAuditLogActor,
  OpenaiKeyOwnerUser,
  OpenaiProject,
  OpenaiProjectApiKey,
  OpenaiUser,
  SimulatedOpenaiOrg,
} from "./state.ts";

export { AUDIT_LOG_EVENT_TYPES } from "./event-types.ts";

const DAY = 86_400;

/**
 * The payload fields of the 55 types that have a payload schema (`AuditLog` properties in the
 * reference), as dot paths; `{a,b}` expands. A leaf's value is chosen by its name (`leaf` below).
 */
const PAYLOAD_SHAPES: Record<string, string> = {
  "api_key.created": "id data.scopes",
  "api_key.updated": "id changes_requested.scopes",
  "api_key.deleted": "id",
  "certificate.created": "id name",
  "certificate.updated": "id name",
  "certificate.deleted": "id name certificate",
  "certificates.activated": "certificates",
  "certificates.deactivated": "certificates",
  "checkpoint.permission.created": "id data.{project_id,fine_tuned_model_checkpoint}",
  "checkpoint.permission.deleted": "id",
  "external_key.registered": "id data",
  "external_key.removed": "id",
  "group.created": "id data.group_name",
  "group.updated": "id changes_requested.group_name",
  "group.deleted": "id",
  "invite.sent": "id data.{email,role}",
  "invite.accepted": "id",
  "invite.deleted": "id",
  "ip_allowlist.created": "id name allowed_ips",
  "ip_allowlist.updated": "id allowed_ips",
  "ip_allowlist.deleted": "id name allowed_ips",
  "ip_allowlist.config.activated": "configs",
  "ip_allowlist.config.deactivated": "configs",
  "login.succeeded": "",
  "login.failed": "error_code error_message",
  "logout.succeeded": "",
  "logout.failed": "error_code error_message",
  "organization.updated":
    "id changes_requested.{title,description,name,threads_ui_visibility,usage_dashboard_visibility,api_call_logging,api_call_logging_project_ids}",
  "project.created": "id data.{name,title}",
  "project.updated": "id changes_requested.title",
  "project.archived": "id",
  "project.deleted": "id",
  "rate_limit.updated":
    "id changes_requested.{max_requests_per_1_minute,max_tokens_per_1_minute,max_images_per_1_minute,max_audio_megabytes_per_1_minute,max_requests_per_1_day,batch_1_day_max_input_tokens}",
  "rate_limit.deleted": "id",
  "workload_identity_provider.created": "id data",
  "workload_identity_provider.updated": "id changes_requested",
  "workload_identity_provider.deleted": "id name",
  "workload_identity_provider_mapping.created": "id identity_provider_id data",
  "workload_identity_provider_mapping.updated": "id identity_provider_id changes_requested",
  "workload_identity_provider_mapping.deleted": "id identity_provider_id project_id service_account_id",
  "role.created": "id role_name permissions resource_type resource_id",
  "role.updated":
    "id changes_requested.{role_name,resource_id,resource_type,permissions_added,permissions_removed,description,metadata}",
  "role.deleted": "id",
  "role.assignment.created": "id principal_id principal_type resource_id resource_type",
  "role.assignment.deleted": "id principal_id principal_type resource_id resource_type",
  "role.bound_to_resource":
    "id role_id resource_id resource_type permissions workspace_id connector_id connector_name enabled source",
  "role.unbound_from_resource":
    "id role_id resource_id resource_type permissions workspace_id connector_id connector_name enabled source",
  "scim.enabled": "id",
  "scim.disabled": "id",
  "service_account.created": "id data.role",
  "service_account.updated": "id changes_requested.role",
  "service_account.deleted": "id",
  "user.added": "id data.role",
  "user.updated": "id changes_requested.role",
  "user.deleted": "id",
};

/** The 55 event types with a payload schema, in enum order. */
export const AUDIT_LOG_PAYLOAD_TYPES: readonly string[] = AUDIT_LOG_EVENT_TYPES.filter((t) =>
  Object.hasOwn(PAYLOAD_SHAPES, t),
);

const FIRST = [
  "Ada",
  "Ben",
  "Chloe",
  "Daniel",
  "Elena",
  "Farid",
  "Grace",
  "Hiro",
  "Ines",
  "Jonas",
  "Kavya",
  "Liam",
];
const LAST = [
  "Adams",
  "Baker",
  "Costa",
  "Dubois",
  "Eriksen",
  "Fischer",
  "Garcia",
  "Haddad",
  "Ito",
  "Jensen",
  "Khan",
];
const EXTERNAL_DOMAINS = ["gmail.com", "contractor.example"];
const PROJECT_NAMES = ["Support bot", "Search", "Data science", "Marketing copy", "Code review", "Analytics"];

/** A seeded generator (mulberry32): the same seed gives the same fixture. */
function random(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
  const int = (n: number) => Math.floor(next() * n);
  return {
    int,
    pick: <T>(items: readonly T[]): T => items[int(items.length)] as T,
    id: (length: number) =>
      Array.from({ length }, () => "abcdefghijklmnopqrstuvwxyz0123456789"[int(36)] ?? "x").join(""),
  };
}
type Random = ReturnType<typeof random>;

interface EventContext {
  r: Random;
  family: string;
  user: { id: string; email: string };
  project: { id: string; name: string };
}

/** A payload leaf value, chosen by the field's name. */
function leaf(name: string, c: EventContext): unknown {
  if (name.startsWith("max_") || name.startsWith("batch_")) return 1000 * (1 + c.r.int(100));
  switch (name) {
    case "id":
      if (c.family === "project") return c.project.id;
      if (c.family === "user") return c.user.id;
      if (c.family === "api_key") return `key_${c.r.id(16)}`;
      if (c.family === "service_account") return `svc_acct_${c.r.id(16)}`;
      return `${c.family}_${c.r.id(12)}`;
    case "data":
    case "changes_requested":
    case "metadata":
      return { source: "simulator" };
    case "scopes":
      return ["api.model.read", "api.model.request"];
    case "permissions":
    case "permissions_added":
    case "permissions_removed":
      return ["api.files.read"];
    case "allowed_ips":
      return ["203.0.113.0/24"];
    case "configs":
    case "certificates":
      return [{ id: `${name}_${c.r.id(10)}`, name: "Corporate egress" }];
    case "project_id":
    case "resource_id":
    case "api_call_logging_project_ids":
      return c.project.id;
    case "principal_id":
      return c.user.id;
    case "email":
      return c.user.email;
    case "role":
      return c.r.pick(["owner", "member"]);
    case "enabled":
      return true;
    case "source":
      return "role_toggle";
    case "resource_type":
      return "project";
    case "principal_type":
      return "user";
    case "certificate":
      return "-----BEGIN CERTIFICATE-----\nMIIBsimulated\n-----END CERTIFICATE-----";
    case "error_code":
      return "invalid_credentials";
    case "error_message":
      return "Invalid username or password.";
    case "fine_tuned_model_checkpoint":
      return `ft:gpt-4o-mini-2024-07-18:acme::${c.r.id(8)}:ckpt-step-100`;
    default:
      return name.endsWith("_id") ? `${name.slice(0, -3)}_${c.r.id(10)}` : `${c.project.name} ${name}`;
  }
}

function buildPayload(type: string, c: EventContext): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const paths = (PAYLOAD_SHAPES[type] ?? "").replace(/(\S*)\{([^}]+)\}/g, (_, head: string, list: string) =>
    list
      .split(",")
      .map((name) => head + name)
      .join(" "),
  );
  for (const path of paths.split(/\s+/).filter(Boolean)) {
    const parts = path.split(".");
    let at = out;
    for (const part of parts.slice(0, -1)) at = (at[part] ??= {}) as Record<string, unknown>;
    const name = parts.at(-1) ?? "";
    at[name] = leaf(name, c);
  }
  return out;
}

function actor(i: number, user: { id: string; email: string }, r: Random): OpenaiAuditLogActor {
  if (i % 2 === 0)
    return {
      type: "session",
      session: {
        user: { id: user.id, email: user.email },
        ip_address: `198.51.100.${1 + (i % 254)}`,
        user_agent:
          "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 Chrome/131.0 Safari/537.36",
      },
    };
  const tracking = `key_${r.id(16)}`;
  return i % 4 === 1
    ? { type: "api_key", api_key: { id: tracking, type: "user", user: { id: user.id, email: user.email } } }
    : {
        type: "api_key",
        api_key: { id: tracking, type: "service_account", service_account: { id: `svc_acct_${r.id(16)}` } },
      };
}

/**
 * `count` events spread evenly over [fromMs, toMs] (the newest at `toMs`), oldest first. Types
 * cycle through the enum; the payload sits under the type's key for the 55 types that have
 * one; actors alternate session and api_key (user, then service account).
 */
export function auditLogs(options: {
  count: number;
  fromMs: number;
  toMs: number;
  users: OpenaiUser[];
  projects: OpenaiProject[];
  seed?: number;
  idPrefix?: string;
}): OpenaiAuditLog[] {
  const r = random(options.seed ?? 1);
  const prefix = options.idPrefix ?? "audit_log-";
  const span = options.toMs - options.fromMs;
  return Array.from({ length: options.count }, (_, i) => {
    const type = AUDIT_LOG_EVENT_TYPES[i % AUDIT_LOG_EVENT_TYPES.length] ?? "login.succeeded";
    const u = options.users.length > 0 ? options.users[i % options.users.length] : undefined;
    const p = options.projects.length > 0 ? options.projects[i % options.projects.length] : undefined;
    const user = { id: u?.id ?? "user-simulated", email: u?.email ?? "someone@acme.example" };
    const project = { id: p?.id ?? "proj_simulated", name: p?.name ?? "Default project" };
    const ms =
      options.count > 1 ? options.fromMs + Math.floor((span * i) / (options.count - 1)) : options.toMs;
    const day = new Date(ms).toISOString().slice(0, 10).replace(/-/g, "");
    const event: OpenaiAuditLog = {
      id: `${prefix}${r.id(10)}${i.toString(36).padStart(5, "0")}_${day}`,
      type,
      effective_at: Math.floor(ms / 1000),
    };
    // "Absent for actions not scoped to projects."
    if (!isTenantScoped(type) && !/^log(in|out)\./.test(type)) event.project = project;
    event.actor = actor(i, user, r);
    if (Object.hasOwn(PAYLOAD_SHAPES, type))
      event[type] = buildPayload(type, { r, family: type.split(".")[0] ?? "", user, project });
    return event;
  });
}

export interface OrgFixtureOptions {
  orgId: string;
  /** The bearer value that authenticates as this org's admin key. */
  adminKey: string;
  /** Epoch ms the fixture is built around. */
  now: number;
  users: number;
  /** Including `archivedProjects`; the first project is the default one (never archived). */
  projects: number;
  archivedProjects: number;
  /** Project API keys, spread over all projects (archived ones hold the archived-project orphans). */
  keys: number;
  /** Of `keys`: `last_used_at` older than 90 days (half of them) or null (never used). */
  staleKeys: number;
  /** Of `keys`, not stale: owner removed from `users`, owner access `inactive`, or in an archived project (a third each). */
  orphanKeys: number;
  /** Of the other keys: owned by a service account of the project. @default 0 */
  serviceAccountKeys?: number;
  /** Spread over the last `auditDays` up to `now - 1 min`. */
  auditEvents: number;
  /** @default 7 */
  auditDays?: number;
  /** @default "acme.example" */
  ownDomain?: string;
  /** Every this-many-th user has an outside domain (gmail.com, contractor.example). @default 10 */
  externalEvery?: number;
  /** Admin keys: the first is `adminKey`, one is never used, one expires in a week. @default 3 */
  adminApiKeys?: number;
  /** @default 1 */
  seed?: number;
}

export interface OrgFixture {
  org: SimulatedOpenaiOrg;
  expected: {
    staleKeyIds: string[];
    orphanKeyIds: string[];
    externalUserIds: string[];
    activeProjectIds: string[];
    archivedProjectIds: string[];
  };
}

type KeyKind =
  "stale-old" | "stale-never" | "orphan-removed" | "orphan-inactive" | "orphan-archived" | "sa" | "normal";

function keyKinds(o: OrgFixtureOptions, r: Random): KeyKind[] {
  const sa = o.serviceAccountKeys ?? 0;
  const archived = o.archivedProjects > 0 ? Math.floor(o.orphanKeys / 3) : 0;
  const removed = Math.ceil((o.orphanKeys - archived) / 2);
  const counts: [KeyKind, number][] = [
    ["stale-old", Math.ceil(o.staleKeys / 2)],
    ["stale-never", Math.floor(o.staleKeys / 2)],
    ["orphan-removed", removed],
    ["orphan-inactive", o.orphanKeys - archived - removed],
    ["orphan-archived", archived],
    ["sa", sa],
    ["normal", o.keys - o.staleKeys - o.orphanKeys - sa],
  ];
  const kinds = counts.flatMap(([kind, n]) => Array<KeyKind>(n).fill(kind));
  for (let i = kinds.length - 1; i > 0; i--) {
    const j = r.int(i + 1);
    [kinds[i], kinds[j]] = [kinds[j] as KeyKind, kinds[i] as KeyKind];
  }
  return kinds;
}

function checkCounts(o: OrgFixtureOptions): void {
  const problems = [
    o.staleKeys + o.orphanKeys + (o.serviceAccountKeys ?? 0) > o.keys &&
      "staleKeys + orphanKeys + serviceAccountKeys exceed keys",
    o.archivedProjects > o.projects - 1 && "archivedProjects must leave the default project active",
    o.keys > 0 && o.users < 1 && "keys need at least one user",
    o.keys > 0 && o.projects < 1 && "keys need at least one project",
  ].filter(Boolean);
  if (problems.length > 0) throw new Error(`openaiOrg: ${problems.join("; ")}`);
}

/** One organization with known findings; see `OrgFixtureOptions` for what each count means. */
export function openaiOrg(o: OrgFixtureOptions): OrgFixture {
  checkCounts(o);
  const r = random(o.seed ?? 1);
  const nowS = Math.floor(o.now / 1000);
  const every = o.externalEvery ?? 10;
  const person = (n: number, domain: string) => {
    const first = r.pick(FIRST);
    const last = r.pick(LAST);
    return { name: `${first} ${last}`, email: `${first}.${last}${n}@${domain}`.toLowerCase() };
  };

  const users: OpenaiUser[] = Array.from({ length: o.users }, (_, i) => {
    const external = every > 0 && (i + 1) % every === 0;
    const domain = external
      ? (EXTERNAL_DOMAINS[((i + 1) / every - 1) % 2] ?? "gmail.com")
      : (o.ownDomain ?? "acme.example");
    const role = i === 0 || i % 7 === 0 ? "owner" : "reader";
    return {
      object: "organization.user",
      id: `user-${r.id(24)}`,
      ...person(i + 1, domain),
      role,
      added_at: nowS - (60 + r.int(300)) * DAY,
    };
  });
  const externalUserIds = users.filter((_, i) => every > 0 && (i + 1) % every === 0).map((u) => u.id);

  const projects: OpenaiProject[] = Array.from({ length: o.projects }, (_, i) => {
    const archived = i >= o.projects - o.archivedProjects;
    return {
      object: "organization.project",
      id: `proj_${r.id(24)}`,
      name:
        i === 0 ? "Default project" : `${PROJECT_NAMES[(i - 1) % PROJECT_NAMES.length] ?? "Project"} ${i}`,
      created_at: nowS - (400 - i) * DAY,
      archived_at: archived ? nowS - (10 + r.int(60)) * DAY : null,
      status: archived ? "archived" : "active",
    };
  });
  const active = projects.filter((p) => p.status === "active");
  const archived = projects.filter((p) => p.status === "archived");

  const projectUsers: Record<string, Record<string, unknown>[]> = {};
  const serviceAccounts: Record<string, Record<string, unknown>[]> = {};
  const projectApiKeys: Record<string, OpenaiProjectApiKey[]> = {};
  for (const p of projects) {
    projectApiKeys[p.id] = [];
    projectUsers[p.id] = [];
    serviceAccounts[p.id] = [
      {
        object: "organization.project.service_account",
        id: `svc_acct_${r.id(16)}`,
        name: `${p.name ?? ""} bot`,
        role: "member",
        created_at: p.created_at + DAY,
      },
    ];
  }
  const member = (p: OpenaiProject, u: OpenaiUser) => {
    const list = projectUsers[p.id] ?? [];
    if (!list.some((m) => m.id === u.id))
      list.push({
        object: "organization.project.user",
        id: u.id,
        name: u.name,
        email: u.email,
        role: u.role === "owner" ? "owner" : "member",
        added_at: Math.max(u.added_at, p.created_at),
      });
  };
  const owner0 = users[0];
  if (owner0) for (const p of projects) member(p, owner0);
  const ownerOf = (u: OpenaiUser): OpenaiKeyOwnerUser => ({
    id: u.id,
    email: u.email ?? "",
    name: u.name ?? "",
    created_at: u.added_at,
    role: u.role === "owner" ? "owner" : "member",
  });

  const kinds = keyKinds(o, r);
  const staleKeyIds: string[] = [];
  const orphanKeyIds: string[] = [];
  const inactive: [OpenaiProjectApiKey, OpenaiProject][] = [];
  kinds.forEach((kind, i) => {
    const pool = kind === "orphan-archived" ? archived : active;
    const p = pool[i % pool.length] as OpenaiProject;
    const lastUsed =
      kind === "stale-never"
        ? null
        : kind === "stale-old"
          ? nowS - (91 + r.int(200)) * DAY
          : nowS - 60 - r.int(29 * DAY);
    const key: OpenaiProjectApiKey = {
      object: "organization.project.api_key",
      id: `key_${r.id(16)}`,
      name: `${r.pick(["ci-deploy", "notebook", "backend", "eval-runner", "prototype"])}-${i + 1}`,
      redacted_value: `sk-${r.id(3)}...${r.id(3)}`,
      created_at: (lastUsed ?? nowS - 100 * DAY) - (1 + r.int(200)) * DAY,
      last_used_at: lastUsed,
      owner_project_access: kind === "orphan-inactive" ? "inactive" : "active",
      owner: {},
    };
    if (kind === "sa") {
      const sa = serviceAccounts[p.id]?.[0] as { id: string; name: string; created_at: number };
      key.owner = {
        type: "service_account",
        service_account: { id: sa.id, name: sa.name, created_at: sa.created_at, role: "member" },
      };
    } else if (kind === "orphan-removed") {
      const gone = person(o.users + i + 1, o.ownDomain ?? "acme.example");
      key.owner = {
        type: "user",
        user: { id: `user-${r.id(24)}`, ...gone, created_at: key.created_at - DAY, role: "member" },
      };
    } else if (kind === "orphan-inactive") {
      inactive.push([key, p]); // owner chosen below, among users outside the project
    } else {
      const u = users[r.int(users.length)] as OpenaiUser;
      key.owner = { type: "user", user: ownerOf(u) };
      member(p, u);
    }
    if (kind.startsWith("stale")) staleKeyIds.push(key.id);
    if (kind.startsWith("orphan")) orphanKeyIds.push(key.id);
    projectApiKeys[p.id]?.push(key);
  });
  for (const [key, p] of inactive) {
    const outside = users.filter((u) => !(projectUsers[p.id] ?? []).some((m) => m.id === u.id));
    const u = (outside.length > 0 ? r.pick(outside) : users[r.int(users.length)]) as OpenaiUser;
    key.owner = { type: "user", user: ownerOf(u) };
  }
  for (const list of Object.values(projectApiKeys)) list.sort((a, b) => a.created_at - b.created_at);

  const adminOwner = {
    type: "user",
    object: "organization.user",
    id: owner0?.id ?? "user-owner",
    name: owner0?.name ?? "Owner",
    created_at: owner0?.added_at ?? nowS - 400 * DAY,
    role: "owner",
  };
  const adminApiKeys = Array.from({ length: o.adminApiKeys ?? 3 }, (_, i) => ({
    object: "organization.admin_api_key",
    id: `key_${r.id(16)}`,
    name: ["Audit ingest", "Break-glass", "Temporary migration"][i % 3] ?? "Admin key",
    redacted_value: i === 0 ? `sk-admin...${o.adminKey.slice(-3)}` : `sk-admin...${r.id(3)}`,
    created_at: nowS - (200 - i) * DAY,
    expires_at: i % 3 === 2 ? nowS + 7 * DAY : null,
    last_used_at: i % 3 === 1 ? null : nowS - (i + 1) * 3600,
    owner: adminOwner,
  }));

  const days = o.auditDays ?? 7;
  return {
    org: {
      adminKeys: [o.adminKey],
      users,
      projects,
      projectApiKeys,
      projectUsers,
      serviceAccounts,
      adminApiKeys,
      auditLogs: auditLogs({
        count: o.auditEvents,
        fromMs: o.now - days * DAY * 1000,
        toMs: o.now - 60_000,
        users,
        projects,
        seed: (o.seed ?? 1) + 1,
      }),
      auditLoggingEnabled: true,
    },
    expected: {
      staleKeyIds,
      orphanKeyIds,
      externalUserIds,
      activeProjectIds: active.map((p) => p.id),
      archivedProjectIds: archived.map((p) => p.id),
    },
  };
}
