/** Client helpers, a standard fixture and a tiny JSON-Schema checker for the simulator tests. */
import { readFileSync } from "node:fs";
import { openaiOrg, type OpenaiSimulator, type OrgFixtureOptions } from "@aiaudit/sim-openai";

export const ADMIN_KEY = "sk-admin-simulatortest000000000000abcd";
export const NOW = Date.parse("2026-11-21T12:00:00Z");
export const NOW_S = Math.floor(NOW / 1000);

export function fixture(overrides: Partial<OrgFixtureOptions> = {}) {
  return openaiOrg({
    orgId: "org-acme",
    adminKey: ADMIN_KEY,
    now: NOW,
    users: 25,
    projects: 5,
    archivedProjects: 1,
    keys: 30,
    staleKeys: 6,
    orphanKeys: 6,
    serviceAccountKeys: 4,
    auditEvents: 320,
    seed: 7,
    ...overrides,
  });
}

/** GET `${sim.url}/v1${path}` with a bearer key. */
export function client(sim: () => OpenaiSimulator, key = ADMIN_KEY) {
  return (path: string, init: RequestInit = {}) =>
    fetch(`${sim().url}/v1${path}`, { ...init, headers: { authorization: `Bearer ${key}` } });
}

export interface List<T = Record<string, unknown> & { id: string }> {
  object: string;
  data: T[];
  first_id: string | null;
  last_id: string | null;
  has_more: boolean;
}

export interface ErrorBody {
  error: { type: string; message: string; param: string | null; code: string | null };
}

export async function ok<T = List>(res: Response): Promise<T> {
  if (res.status !== 200) throw new Error(`${res.url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Follows `after=<last_id>` from `path` (which has a `?`) until `has_more` is false. */
export async function traverse(get: (path: string) => Promise<Response>, path: string) {
  const pages: List[] = [];
  let after = "";
  for (;;) {
    const page = await ok(await get(`${path}${after ? `&after=${encodeURIComponent(after)}` : ""}`));
    pages.push(page);
    if (!page.has_more || page.last_id === null) break;
    after = page.last_id;
    if (pages.length > 500) throw new Error("pagination does not end");
  }
  return { pages, ids: pages.flatMap((p) => p.data.map((d) => d.id)) };
}

// The tiny checker: `required`, primitive `type`, `enum`, `anyOf`, nested `properties` and `items`.
export interface Schema {
  type?: string;
  enum?: unknown[];
  required?: string[];
  properties?: Record<string, Schema>;
  items?: Schema;
  anyOf?: Schema[];
}

const reference = JSON.parse(
  readFileSync(new URL("../reference/admin-schemas-dereferenced.json", import.meta.url), "utf8"),
) as { schemas: Record<string, Schema & { properties: Record<string, Schema> }> };

export const schemas = reference.schemas;

function typeOk(type: string, v: unknown): boolean {
  if (type === "integer") return Number.isInteger(v);
  if (type === "null") return v === null;
  if (type === "array") return Array.isArray(v);
  if (type === "object") return typeof v === "object" && v !== null && !Array.isArray(v);
  return typeof v === type;
}

/** Where `value` breaks `schema` (empty when it conforms). */
export function violations(schema: Schema, value: unknown, at = "$"): string[] {
  if (schema.anyOf)
    return schema.anyOf.some((s) => violations(s, value, at).length === 0)
      ? []
      : [`${at}: matches no anyOf branch`];
  if (schema.type && !typeOk(schema.type, value)) return [`${at}: not ${schema.type}`];
  if (schema.enum && !schema.enum.includes(value)) return [`${at}: ${JSON.stringify(value)} not in enum`];
  const out: string[] = [];
  if (typeOk("object", value)) {
    const obj = value as Record<string, unknown>;
    for (const name of schema.required ?? []) if (!(name in obj)) out.push(`${at}.${name}: missing`);
    for (const [name, sub] of Object.entries(schema.properties ?? {}))
      if (name in obj) out.push(...violations(sub, obj[name], `${at}.${name}`));
  }
  if (Array.isArray(value) && schema.items)
    value.forEach((v, i) => out.push(...violations(schema.items as Schema, v, `${at}[${i}]`)));
  return out;
}

export function conforms(name: string, value: unknown): string[] {
  const schema = schemas[name];
  if (!schema) throw new Error(`no schema ${name}`);
  return violations(schema, value);
}
