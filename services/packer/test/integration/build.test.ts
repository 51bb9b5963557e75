/**
 * buildPack against the real ClickHouse engine (embedded, migrated), tables filled with INSERTs:
 * the period's edges (an event at 23:59:59.500 of the last day is in, the next midnight is not),
 * one row per event id, only complete snapshots, gaps named in coverage.json, the pack valid for
 * verifyPack and for tools/evidence-pack-verify.py, the next month chained to the first, the same
 * period twice reused, a lost pack re-packed byte for byte, and an OpenAI pack with its KPIs.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { keyPairFromSeed, verifyPack } from "@aiaudit/evidence-pack";
import { INDEX_NAME, buildPack, readIndex, type BuildOptions, type PackRequest } from "@aiaudit/packer";
import { testClickHouse } from "@aiaudit/testing";

const REPO = new URL("../../../../", import.meta.url).pathname;
const VERIFIER = join(REPO, "tools", "evidence-pack-verify.py");
const KEY = keyPairFromSeed(Buffer.alloc(32, 7));
const KEY_B64 = Buffer.from(KEY.publicKey).toString("base64");
const TENANT = "acme-corp";
const DAY = 86_400_000;

const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;
const stores: string[] = [];

function newStore(): string {
  const dir = mkdtempSync(join(tmpdir(), "aiaudit-packer-"));
  stores.push(dir);
  return dir;
}

const options = (storeDir: string): BuildOptions => ({
  storeDir,
  privateKey: KEY.privateKey,
  producer: { name: "aiaudit-packer", version: "0.1.0-test" },
});

const APRIL: PackRequest = {
  tenant: TENANT,
  module: "copilot",
  periodStart: "2026-04-01T00:00:00Z",
  periodEnd: "2026-04-30T23:59:59Z",
};
const MAY: PackRequest = { ...APRIL, periodStart: "2026-05-01T00:00:00Z", periodEnd: "2026-05-31T23:59:59Z" };

/** The pack's files, extracted with the system tar. */
function extract(path: string): Map<string, string> {
  const dir = mkdtempSync(join(tmpdir(), "aiaudit-pack-x-"));
  try {
    execFileSync("tar", ["-xzf", path, "-C", dir]);
    return new Map(readdirSync(dir).map((name) => [name, readFileSync(join(dir, name), "utf8")]));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function jsonl(text: string | undefined): Record<string, unknown>[] {
  assert.ok(text !== undefined, "file present");
  return text
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

function python(...args: string[]): { status: number | null; out: string } {
  const result = spawnSync("python3", [VERIFIER, ...args], { encoding: "utf8" });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

const iso = (ms: number): string => new Date(ms).toISOString();

async function seatSnapshot(
  org: string,
  id: string,
  takenAt: number,
  seats: { who: string; lastActivity: number | null }[],
  rowCount = seats.length,
): Promise<void> {
  await ch.insert(
    "copilot_seat_snapshots",
    seats.map((s, i) => ({
      tenant: TENANT,
      org,
      scope: "ORGANIZATION",
      snapshot_id: id,
      taken_at: iso(takenAt),
      seat_id: `seat-${i}`,
      assignee_pseudonym: s.who,
      assignee_type: "User",
      organization: null,
      assigning_team: null,
      plan_type: "business",
      created_at: "2025-01-01T00:00:00.000Z",
      pending_cancellation_date: null,
      last_activity_at: s.lastActivity === null ? null : iso(s.lastActivity),
      last_activity_editor: null,
      last_authenticated_at: null,
      pseudonym_key_id: "pk-1",
      kafka_partition: 0,
      kafka_offset: 0,
    })),
  );
  await ch.insert("copilot_seat_snapshot_markers", [
    {
      tenant: TENANT,
      org,
      scope: "ORGANIZATION",
      snapshot_id: id,
      taken_at: iso(takenAt),
      row_count: rowCount,
      total_seats: rowCount,
      pseudonym_key_id: "pk-1",
    },
  ]);
}

async function copilotEvent(
  id: string,
  createdAt: string,
  ingestedAt: string,
  tenant = TENANT,
): Promise<void> {
  await ch.insert("copilot_audit_events", [
    {
      tenant,
      org: "acme",
      scope: "ORGANIZATION",
      event_id: id,
      action: "copilot.cfb_seat_added",
      created_at: createdAt,
      actor_pseudonym: "p-alice",
      actor_agent: null,
      actor_is_agent: false,
      agent_session_id: null,
      user_pseudonym: "p-bob",
      actor_country_code: null,
      business: null,
      event_org: "acme",
      raw_json: `{"_document_id":"${id}"}`,
      pseudonym_key_id: "pk-1",
      ingested_at: ingestedAt,
    },
  ]);
}

const APRIL_1 = Date.parse("2026-04-01T06:00:00Z");

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  // A complete snapshot every April day but the 15th, whose only snapshot misses a row.
  for (let d = 0; d < 30; d++) {
    const takenAt = APRIL_1 + d * DAY;
    const seats = [
      { who: "p-alice", lastActivity: takenAt - DAY },
      { who: "p-bob", lastActivity: d === 29 ? null : Date.parse("2026-03-01T00:00:00Z") },
    ];
    if (d === 14) await seatSnapshot("acme", `snap-04-${d + 1}`, takenAt, seats, 3);
    else await seatSnapshot("acme", `snap-04-${d + 1}`, takenAt, seats);
  }
  await seatSnapshot("acme", "snap-05-01", Date.parse("2026-05-01T06:00:00Z"), [
    { who: "p-alice", lastActivity: null },
  ]);
  await ch.insert("copilot_daily_seats", [
    {
      tenant: TENANT,
      org: "acme",
      day: "2026-04-01",
      snapshot_id: "snap-04-1",
      taken_at: iso(APRIL_1),
      seats: 2,
    },
    {
      tenant: TENANT,
      org: "acme",
      day: "2026-04-02",
      snapshot_id: "snap-04-2",
      taken_at: iso(APRIL_1 + DAY),
      seats: 3,
    },
  ]);
  await copilotEvent("ev-in", "2026-04-30T23:59:59.500Z", "2026-05-01T00:00:01.000Z");
  await copilotEvent("ev-out", "2026-05-01T00:00:00.000Z", "2026-05-01T00:00:01.000Z");
  await copilotEvent("ev-twice", "2026-04-10T12:00:00.000Z", "2026-04-10T12:00:01.000Z");
  await copilotEvent("ev-twice", "2026-04-10T12:00:00.000Z", "2026-04-10T12:05:00.000Z");
  await copilotEvent("ev-other", "2026-04-10T12:00:00.000Z", "2026-04-10T12:00:01.000Z", "other-tenant");
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
  for (const dir of stores) rmSync(dir, { recursive: true, force: true });
});

describe("a Copilot pack", () => {
  const store = newStore();
  let april: Awaited<ReturnType<typeof buildPack>>;
  let aprilBytes: Buffer;

  it("holds the period's events, edges included, once each, and only this tenant's", async () => {
    april = await buildPack(ch, APRIL, options(store));
    aprilBytes = readFileSync(april.path);
    assert.equal(april.reused, false);
    assert.equal(april.path, join(store, TENANT, "copilot", "pack-1.tar.gz"));
    assert.equal(april.manifest.sequence, 1);
    assert.equal(april.manifest.previous, null);
    assert.equal(april.manifest.period_start, "2026-04-01T00:00:00.000Z");
    assert.equal(april.manifest.period_end, "2026-04-30T23:59:59.999Z");
    assert.deepEqual(april.manifest.orgs, ["acme"]);
    assert.equal(april.manifest.pseudonymization.key_id, "pk-1");

    const files = extract(april.path);
    const events = jsonl(files.get("events.jsonl"));
    assert.deepEqual(
      events.map((e) => [e.event_id, e.created_at]),
      [
        ["ev-twice", "2026-04-10T12:00:00.000Z"],
        ["ev-in", "2026-04-30T23:59:59.500Z"],
      ],
    );
    assert.equal(events[0]?.actor_is_agent, false);
    assert.ok(!("ingested_at" in events[0]), "ingestion bookkeeping stays out");
    // Keys sorted, one canonical object per line.
    const firstLine = files.get("events.jsonl")?.split("\n")[0] ?? "";
    assert.deepEqual(
      Object.keys(JSON.parse(firstLine) as object),
      Object.keys(JSON.parse(firstLine) as object).sort(),
    );
  });

  it("holds the seats of complete snapshots only, in order, times in RFC 3339", () => {
    const files = extract(april.path);
    const seats = jsonl(files.get("seats.jsonl"));
    assert.equal(seats.length, 29 * 2);
    assert.ok(!seats.some((s) => s.snapshot_id === "snap-04-15"), "the incomplete snapshot is left out");
    assert.ok(!seats.some((s) => s.snapshot_id === "snap-05-01"), "May's snapshot is left out");
    assert.equal(seats[0]?.taken_at, "2026-04-01T06:00:00.000Z");
    assert.equal(seats[0].last_activity_at, "2026-03-31T06:00:00.000Z");
    assert.equal(seats.at(-1)?.snapshot_id, "snap-04-30");
    const rows = april.manifest.files.find((f) => f.name === "seats.jsonl")?.rows;
    assert.equal(rows, 58);
    assert.equal(jsonl(files.get("daily_seats.jsonl")).length, 2);
    assert.match(
      files.get("README.txt") ?? "",
      /python3 evidence-pack-verify\.py pack-1\.tar\.gz --expected-pubkey KEY/,
    );
    assert.match(files.get("README.txt") ?? "", /openssl pkeyutl -verify/);
  });

  it("states the day without a complete snapshot in coverage.json, and counts per day", () => {
    const coverage = JSON.parse(extract(april.path).get("coverage.json") ?? "") as {
      days: number;
      orgs: {
        org: string;
        events: { total: number; first_at: string; last_at: string };
        days: { day: string; events: number; seat_snapshots: number }[];
        days_without_complete_snapshot: { seat_snapshots: string[] };
        incomplete_snapshots: { seat_snapshots: number };
      }[];
    };
    assert.equal(coverage.days, 30);
    const [acme] = coverage.orgs;
    assert.equal(acme?.org, "acme");
    assert.deepEqual(acme.days_without_complete_snapshot.seat_snapshots, ["2026-04-15"]);
    assert.equal(acme.incomplete_snapshots.seat_snapshots, 1);
    assert.equal(acme.days.length, 30);
    assert.deepEqual(
      acme.days.find((d) => d.day === "2026-04-10"),
      {
        day: "2026-04-10",
        events: 1,
        seat_snapshots: 1,
        seat_rows: 2,
        usage_records: 0,
      },
    );
    assert.deepEqual(acme.events, {
      total: 2,
      first_at: "2026-04-10T12:00:00.000Z",
      last_at: "2026-04-30T23:59:59.500Z",
    });
  });

  it("reports seats, idle seats and the daily average in kpis.json", () => {
    const kpis = JSON.parse(extract(april.path).get("kpis.json") ?? "") as {
      orgs: {
        last_snapshot: { snapshot_id: string; seats: number; idle_seats: number };
        daily_seats: unknown;
      }[];
      totals: { seats: number; idle_seats: number };
    };
    assert.equal(kpis.orgs[0]?.last_snapshot.snapshot_id, "snap-04-30");
    assert.equal(kpis.orgs[0].last_snapshot.seats, 2);
    assert.equal(kpis.orgs[0].last_snapshot.idle_seats, 1, "bob: never active");
    assert.deepEqual(kpis.orgs[0].daily_seats, { days: 2, seat_days: 5, average: "2.50" });
    assert.deepEqual(kpis.totals, { seats: 2, idle_seats: 1, seat_days: 5 });
  });

  it("carries the month's billing in kpis.json, as `aiaudit billing` computes it", () => {
    const { billing } = JSON.parse(extract(april.path).get("kpis.json") ?? "") as {
      billing: Record<string, unknown>;
    };
    // Two seats every April day; the 15th's only snapshot is incomplete, so the 14th's is carried.
    assert.deepEqual(billing, {
      currency: "EUR",
      from: "2026-04-01",
      to: "2026-04-30",
      days: 30,
      units: ["acme"],
      seats: { total: 60, average: "2.00", billable: 2, unit_price_cents: 100, amount_cents: 200 },
      carried_days: 1,
      days_without_snapshot: 0,
    });
  });

  it("is valid for verifyPack and for the Python verifier", async () => {
    const result = await verifyPack(april.path, { expectedPublicKey: KEY.publicKey });
    assert.equal(result.valid, true, result.valid ? "" : result.reason);
    const py = python(april.path, "--expected-pubkey", KEY_B64);
    assert.equal(py.status, 0, py.out);
    const wrongKey = python(april.path, "--expected-pubkey", Buffer.alloc(32, 1).toString("base64"));
    assert.equal(wrongKey.status, 1, wrongKey.out);
  });

  it("returns the same pack when the same period is asked for again", async () => {
    const again = await buildPack(ch, { ...APRIL, periodEnd: "2026-04-30T23:59:59.999Z" }, options(store));
    assert.equal(again.reused, true);
    assert.equal(again.path, april.path);
    assert.equal(again.manifestSha256, april.manifestSha256);
    assert.deepEqual(readFileSync(again.path), aprilBytes);
    assert.equal((await readIndex(join(store, TENANT, "copilot"))).packs.length, 1);
  });

  it("chains the next month to the first", async () => {
    const may = await buildPack(ch, MAY, options(store));
    assert.equal(may.manifest.sequence, 2);
    assert.deepEqual(may.manifest.previous, {
      pack_id: april.manifest.pack_id,
      manifest_sha256: april.manifestSha256,
    });
    assert.equal(jsonl(extract(may.path).get("events.jsonl"))[0]?.event_id, "ev-out");
    const result = await verifyPack(may.path, { expectedPublicKey: KEY.publicKey, previous: april.path });
    assert.equal(result.valid, true, result.valid ? "" : result.reason);
    const py = python(may.path, "--expected-pubkey", KEY_B64, "--previous", april.path);
    assert.equal(py.status, 0, py.out);
    const index = JSON.parse(readFileSync(join(store, TENANT, "copilot", INDEX_NAME), "utf8")) as {
      packs: { sequence: number }[];
    };
    assert.deepEqual(
      index.packs.map((p) => p.sequence),
      [1, 2],
    );
  });

  it("re-packs a lost pack byte for byte, and packs the same data identically in another store", async () => {
    rmSync(april.path);
    const rebuilt = await buildPack(ch, APRIL, options(store));
    assert.equal(rebuilt.reused, false);
    assert.equal(rebuilt.manifest.sequence, 1);
    assert.deepEqual(readFileSync(rebuilt.path), aprilBytes);

    const elsewhere = await buildPack(ch, APRIL, options(newStore()));
    assert.equal(elsewhere.manifest.pack_id, april.manifest.pack_id);
    assert.deepEqual(readFileSync(elsewhere.path), aprilBytes);
  });

  it("after a build killed midway (partial pack, spool files, a pack the index misses), builds the same bytes and cleans up", async () => {
    const crashed = newStore();
    const dir = join(crashed, TENANT, "copilot");
    mkdirSync(join(dir, "aiaudit-pack-AbC123"), { recursive: true });
    writeFileSync(join(dir, "aiaudit-pack-AbC123", "0.spool"), "half a file");
    writeFileSync(join(dir, "pack-1.tar.gz.partial"), "half a pack");
    writeFileSync(join(dir, "pack-1.tar.gz"), "renamed, but the index was never written");
    const built = await buildPack(ch, APRIL, options(crashed));
    assert.equal(built.manifest.sequence, 1);
    assert.deepEqual(readFileSync(built.path), aprilBytes);
    assert.deepEqual(readdirSync(dir).sort(), [INDEX_NAME, "pack-1.tar.gz"]);
  });

  it("refuses a bad request before touching the store", async () => {
    await assert.rejects(buildPack(ch, { ...APRIL, periodEnd: "2026-03-01T00:00:00Z" }, options(store)), {
      message: /must be before period_end/,
    });
    await assert.rejects(buildPack(ch, { ...APRIL, tenant: "../evil" }, options(store)), {
      message: /invalid pack request/,
    });
  });
});

describe("an OpenAI pack", () => {
  const MARCH_2 = Date.parse("2026-03-02T08:00:00Z");
  const common = {
    tenant: TENANT,
    org: "org-acme",
    pseudonym_key_id: "pk-1",
    kafka_partition: 0,
    kafka_offset: 0,
  };

  async function marker(entity: string, id: string, takenAt: number, rows: number): Promise<void> {
    await ch.insert("openai_snapshot_markers", [
      {
        tenant: TENANT,
        org: "org-acme",
        entity,
        snapshot_id: id,
        taken_at: iso(takenAt),
        row_count: rows,
        pseudonym_key_id: "pk-1",
      },
    ]);
  }

  before(async () => {
    const snap = { snapshot_id: "u-1", taken_at: iso(MARCH_2) };
    await ch.insert("openai_users", [
      {
        ...common,
        ...snap,
        user_id: "user-a",
        email_pseudonym: "p-a",
        email_domain: "acme.com",
        email_display: "a…@acme.com",
        role: "owner",
        added_at: "2025-01-01T00:00:00.000Z",
        is_service_account: false,
        is_scim_managed: null,
        api_key_last_used_at: null,
      },
      {
        ...common,
        ...snap,
        user_id: "user-x",
        email_pseudonym: "p-x",
        email_domain: "gmail.com",
        email_display: "x…@gmail.com",
        role: "reader",
        added_at: "2025-01-01T00:00:00.000Z",
        is_service_account: false,
        is_scim_managed: null,
        api_key_last_used_at: null,
      },
    ]);
    await marker("USERS", "u-1", MARCH_2, 2);
    await ch.insert("tenant_domains", [{ tenant: TENANT, domain: "acme.com" }]);
    await ch.insert("openai_projects", [
      {
        ...common,
        snapshot_id: "p-1",
        taken_at: iso(MARCH_2),
        project_id: "proj_1",
        name: "Main",
        status: "active",
        created_at: "2025-01-01T00:00:00.000Z",
        archived_at: null,
        residency: null,
      },
    ]);
    await marker("PROJECTS", "p-1", MARCH_2, 1);
    const key = {
      ...common,
      entity: "PROJECT_API_KEYS",
      snapshot_id: "k-1",
      taken_at: iso(MARCH_2),
      key_type: "PROJECT",
      project_id: "proj_1",
      name: "ci",
      redacted_value: "sk-abc...def",
      owner_type: "user",
      owner_role: "owner",
      owner_project_access: "active",
      created_at: "2025-01-01T00:00:00.000Z",
      expires_at: null,
    };
    await ch.insert("openai_api_keys", [
      {
        ...key,
        key_id: "key_fresh",
        owner_id: "user-a",
        owner_pseudonym: "p-a",
        last_used_at: "2026-03-20T00:00:00.000Z",
      },
      { ...key, key_id: "key_gone", owner_id: "user-gone", owner_pseudonym: "p-g", last_used_at: null },
    ]);
    await marker("PROJECT_API_KEYS", "k-1", MARCH_2, 2);
    await ch.insert("openai_audit_events", [
      {
        tenant: TENANT,
        org: "org-acme",
        event_id: "audit-1",
        type: "api_key.created",
        effective_at: "2026-03-31T23:59:59.999Z",
        project_id: "proj_1",
        project_name: "Main",
        actor_type: "session",
        actor_pseudonym: "p-a",
        actor_user_id: "user-a",
        actor_api_key_id: null,
        actor_service_account_id: null,
        actor_ip_pseudonym: null,
        resource_id: "key_fresh",
        raw_json: "{}",
        pseudonym_key_id: "pk-1",
        ingested_at: "2026-04-01T00:00:00.000Z",
      },
      {
        tenant: TENANT,
        org: "org-acme",
        event_id: "audit-2",
        type: "api_key.deleted",
        effective_at: "2026-04-01T00:00:00.000Z",
        project_id: null,
        project_name: null,
        actor_type: null,
        actor_pseudonym: null,
        actor_user_id: null,
        actor_api_key_id: null,
        actor_service_account_id: null,
        actor_ip_pseudonym: null,
        resource_id: null,
        raw_json: "{}",
        pseudonym_key_id: "pk-1",
        ingested_at: "2026-04-01T00:00:00.000Z",
      },
    ]);
  });

  it("holds the snapshots and events of the period, with KPIs from its last snapshots", async () => {
    const store = newStore();
    const pack = await buildPack(
      ch,
      {
        tenant: TENANT,
        module: "openai_admin",
        periodStart: "2026-03-01T00:00:00Z",
        periodEnd: "2026-03-31T23:59:59Z",
      },
      options(store),
    );
    assert.equal(pack.path, join(store, TENANT, "openai_admin", "pack-1.tar.gz"));
    assert.deepEqual(pack.manifest.orgs, ["org-acme"]);
    assert.deepEqual(
      pack.manifest.files.map((f) => f.name),
      [
        "README.txt",
        "SHA256SUMS",
        "api_keys.jsonl",
        "coverage.json",
        "events.jsonl",
        "kpis.json",
        "projects.jsonl",
        "service_accounts.jsonl",
        "users.jsonl",
      ],
    );
    const files = extract(pack.path);
    assert.deepEqual(
      jsonl(files.get("users.jsonl")).map((u) => u.user_id),
      ["user-a", "user-x"],
    );
    assert.deepEqual(
      jsonl(files.get("api_keys.jsonl")).map((k) => [k.key_id, k.last_used_at]),
      [
        ["key_fresh", "2026-03-20T00:00:00.000Z"],
        ["key_gone", null],
      ],
    );
    assert.deepEqual(
      jsonl(files.get("events.jsonl")).map((e) => e.event_id),
      ["audit-1"],
    );
    const kpis = JSON.parse(files.get("kpis.json") ?? "") as { orgs: Record<string, unknown>[] };
    assert.deepEqual(
      { ...kpis.orgs[0], last_snapshots: undefined },
      {
        org: "org-acme",
        last_snapshots: undefined,
        users: 2,
        external_users: 1,
        stale_keys: 1,
        orphan_keys: 1,
      },
    );
    const coverage = JSON.parse(files.get("coverage.json") ?? "") as {
      orgs: { days_without_complete_snapshot: Record<string, string[]> }[];
    };
    const gaps = coverage.orgs[0]?.days_without_complete_snapshot;
    assert.equal(gaps?.users_snapshots?.length, 30, "one complete USERS snapshot, on March 2");
    assert.ok(!gaps.users_snapshots.includes("2026-03-02"));
    assert.equal(gaps.service_accounts_snapshots?.length, 31, "never collected: every day a gap");

    const result = await verifyPack(pack.path, { expectedPublicKey: KEY.publicKey });
    assert.equal(result.valid, true, result.valid ? "" : result.reason);
    const py = python(pack.path, "--expected-pubkey", KEY_B64);
    assert.equal(py.status, 0, py.out);
  });
});
