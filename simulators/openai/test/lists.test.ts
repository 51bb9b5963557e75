import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { startOpenaiSimulator, type OpenaiSimulator } from "@aiaudit/sim-openai";
import { client, conforms, fixture, ok, traverse, type ErrorBody, type List } from "./helpers.ts";

const { org, expected } = fixture();
let sim: OpenaiSimulator;
const get = client(() => sim);

before(async () => {
  sim = await startOpenaiSimulator({ orgs: { "org-acme": org } });
});
after(() => sim.close());

async function errorOf(res: Response, status: number): Promise<ErrorBody["error"]> {
  assert.equal(res.status, status);
  const body = (await res.json()) as ErrorBody;
  assert.deepEqual(conforms("ErrorResponse", body), []);
  return body.error;
}

describe("lists", () => {
  it("users: limit/after pages with has_more, first_id and last_id, in the org's order", async () => {
    const { pages, ids } = await traverse(get, "/organization/users?limit=10");
    assert.deepEqual(
      pages.map((p) => [p.data.length, p.has_more]),
      [
        [10, true],
        [10, true],
        [5, false],
      ],
    );
    for (const p of pages) {
      assert.equal(p.object, "list");
      assert.equal(p.first_id, p.data[0]?.id);
      assert.equal(p.last_id, p.data.at(-1)?.id);
      assert.deepEqual(conforms("UserListResponse", p), []);
    }
    assert.deepEqual(
      ids,
      org.users.map((u) => u.id),
    );
    assert.equal((await ok(await get("/organization/users"))).data.length, 20, "default limit 20");
  });

  it("users: emails and emails[] filters (case-insensitive), one user, 404 for another", async () => {
    const [a, b] = [org.users[3], org.users[9]];
    const page = await ok(
      await get(`/organization/users?emails=${a?.email?.toUpperCase() ?? ""}&emails[]=${b?.email ?? ""}`),
    );
    assert.deepEqual(
      page.data.map((u) => u.id),
      [a?.id, b?.id],
    );
    assert.equal((await ok<{ id: string }>(await get(`/organization/users/${a?.id ?? ""}`))).id, a?.id);
    const err = await errorOf(await get("/organization/users/user-nobody"), 404);
    assert.equal(err.type, "invalid_request_error");
  });

  it("limit outside 1..100 or not an integer, and an unknown after, give 400", async () => {
    for (const [query, param] of [
      ["limit=0", "limit"],
      ["limit=101", "limit"],
      ["limit=ten", "limit"],
      ["after=user-nobody", "after"],
    ])
      assert.equal((await errorOf(await get(`/organization/users?${query}`), 400)).param, param);
    assert.equal((await ok(await get("/organization/users?limit=100"))).data.length, 25);
  });

  it("projects: archived ones only with include_archived=true; each retrievable", async () => {
    const active = await traverse(get, "/organization/projects?limit=2");
    assert.deepEqual(active.ids, expected.activeProjectIds);
    const all = await traverse(get, "/organization/projects?limit=2&include_archived=true");
    assert.deepEqual(
      all.ids,
      org.projects.map((p) => p.id),
    );
    assert.deepEqual(conforms("ProjectListResponse", all.pages[0]), []);
    const archivedId = expected.archivedProjectIds[0] ?? "";
    assert.equal(
      (await ok<{ status: string }>(await get(`/organization/projects/${archivedId}`))).status,
      "archived",
    );
    await errorOf(await get("/organization/projects/proj_nobody"), 404);
    await errorOf(await get("/organization/projects?include_archived=yes"), 400);
  });

  it("project API keys: owner_project_access active (also when omitted), inactive, any", async () => {
    const keys = Object.entries(org.projectApiKeys).flatMap(([p, ks]) => ks.map((k) => ({ ...k, p })));
    const seen = {
      omitted: [] as string[],
      active: [] as string[],
      inactive: [] as string[],
      any: [] as string[],
    };
    for (const p of org.projects)
      for (const mode of ["omitted", "active", "inactive", "any"] as const) {
        const q = mode === "omitted" ? "" : `&owner_project_access=${mode}`;
        const { ids, pages } = await traverse(get, `/organization/projects/${p.id}/api_keys?limit=3${q}`);
        seen[mode].push(...ids);
        assert.deepEqual(conforms("ProjectApiKeyListResponse", pages[0]), []);
      }
    const ids = (f: (k: (typeof keys)[number]) => boolean) =>
      keys
        .filter(f)
        .map((k) => k.id)
        .sort();
    assert.deepEqual(
      seen.any.sort(),
      ids(() => true),
    );
    assert.deepEqual(
      seen.active.sort(),
      ids((k) => k.owner_project_access === "active"),
    );
    assert.deepEqual(seen.omitted.sort(), seen.active);
    assert.deepEqual(
      seen.inactive.sort(),
      ids((k) => k.owner_project_access === "inactive"),
    );
    assert.ok(seen.inactive.length > 0);
    const archivedKeys = org.projectApiKeys[expected.archivedProjectIds[0] ?? ""] ?? [];
    assert.ok(archivedKeys.length > 0, "archived projects still list their keys");
    const p0 = org.projects[0]?.id ?? "";
    await errorOf(await get(`/organization/projects/${p0}/api_keys?owner_project_access=all`), 400);
  });

  it("project users and service accounts: a list for active projects, 400 for archived ones", async () => {
    const p0 = expected.activeProjectIds[0] ?? "";
    const users = await ok(await get(`/organization/projects/${p0}/users`));
    assert.deepEqual(
      users.data.map((u) => u.id),
      org.projectUsers[p0]?.map((u) => u.id),
    );
    assert.deepEqual(conforms("ProjectUserListResponse", users), []);
    const sas = await ok(await get(`/organization/projects/${p0}/service_accounts`));
    assert.equal(sas.data.length, 1);
    assert.deepEqual(conforms("ProjectServiceAccountListResponse", sas), []);
    const archived = expected.archivedProjectIds[0] ?? "";
    for (const what of ["users", "service_accounts"]) {
      const err = await errorOf(await get(`/organization/projects/${archived}/${what}`), 400);
      assert.match(err.message, /archived/);
      await errorOf(await get(`/organization/projects/proj_nobody/${what}`), 404);
    }
  });

  it("admin API keys: order asc|desc by creation, next page after the last item's id", async () => {
    const asc = await ok(await get("/organization/admin_api_keys"));
    assert.deepEqual(conforms("ApiKeyList", asc), []);
    const created = asc.data.map((k) => k.created_at as number);
    assert.deepEqual(
      created,
      created.toSorted((a, b) => a - b),
    );
    const desc = await ok(await get("/organization/admin_api_keys?order=desc"));
    assert.deepEqual(
      desc.data.map((k) => k.id),
      asc.data.map((k) => k.id).reverse(),
    );
    const ids: string[] = [];
    let page: List = await ok(await get("/organization/admin_api_keys?limit=1&order=desc"));
    ids.push(...page.data.map((k) => k.id));
    while (page.has_more) {
      page = await ok(
        await get(`/organization/admin_api_keys?limit=1&order=desc&after=${page.data.at(-1)?.id ?? ""}`),
      );
      ids.push(...page.data.map((k) => k.id));
    }
    assert.deepEqual(
      ids,
      desc.data.map((k) => k.id),
    );
    await errorOf(await get("/organization/admin_api_keys?order=newest"), 400);
  });

  it("unknown paths and other methods: 404 Invalid URL", async () => {
    assert.equal(
      (await errorOf(await get("/organization/nothing"), 404)).message,
      "Invalid URL (GET /v1/organization/nothing)",
    );
    await errorOf(await get("/organization/users", { method: "DELETE" }), 404);
    const noV1 = await fetch(`${sim.url}/organization/users`, {
      headers: { authorization: "Bearer sk-admin-simulatortest000000000000abcd" },
    });
    assert.equal(noV1.status, 404);
  });
});
