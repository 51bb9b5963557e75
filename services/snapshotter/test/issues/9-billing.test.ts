/**
 * Issue 9, billing from daily snapshots published through Kafka, sunk by the snapshotter into the
 * real ClickHouse engine, billed by @aiaudit/billing from the views of 007_billing.sql:
 * - 30 seats from Jan 1 and 35 from Jan 15 → 1,015 seat-days / 31 = 32.74 → 33 seats → €33;
 * - 25 users (and 2 service accounts, not billed) and 3 active projects (and 1 archived) all
 *   January → €25 + €15 = €40;
 * - the days between snapshots carry the last count forward and are marked carried;
 * - GitHub's rules: a person with seats from two organizations of one enterprise counts once, and
 *   as Enterprise when one of the seats is; a seat pending cancellation counts until its date;
 *   an organization connected on its own besides its enterprise is the same billing unit.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { bill, monthDays } from "@aiaudit/billing";
import type { ClickHouse } from "@aiaudit/clickhouse";
import {
  codecs,
  recordKey,
  topicNames,
  topicSpecs,
  type CopilotSeat,
  type CopilotSeatSnapshotRecord,
  type OpenaiSnapshotRecord,
  type OpenaiSnapshotRow,
} from "@aiaudit/contracts";
import type { OutgoingRecord } from "@aiaudit/kafka";
import { createService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import { captureLogger, testClickHouse, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";
import { auditEvent } from "../fixtures.ts";

const prefix = uniquePrefix("billing");
const topics = topicNames(prefix);
const { logger } = captureLogger("billing");
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;

interface SeatSpec {
  who: string;
  organization?: string;
  plan?: "business" | "enterprise";
  pendingCancellation?: string;
}

function seatSnapshot(
  tenant: string,
  org: string,
  scope: "ORGANIZATION" | "ENTERPRISE",
  id: string,
  takenAt: string,
  seats: SeatSpec[],
): OutgoingRecord[] {
  const base: CopilotSeatSnapshotRecord = {
    kind: "BEGIN",
    tenant,
    org,
    scope,
    snapshot_id: id,
    taken_at: Date.parse(takenAt),
    row_count: null,
    total_seats: null,
    pseudonym_key_id: "k1",
    seat: null,
  };
  const rows = seats.map((s, i): CopilotSeatSnapshotRecord => ({
    ...base,
    kind: "ROW",
    seat: {
      seat_id: `${s.organization ?? org}-${i}`,
      assignee_pseudonym: s.who,
      assignee_type: "User",
      organization: s.organization ?? null,
      assigning_team: null,
      plan_type: s.plan ?? "business",
      created_at: Date.parse("2025-06-01T00:00:00Z"),
      pending_cancellation_date: s.pendingCancellation ?? null,
      last_activity_at: null,
      last_activity_editor: null,
      last_authenticated_at: null,
      updated_at: null,
    } satisfies CopilotSeat,
  }));
  const end = { ...base, kind: "END" as const, row_count: seats.length, total_seats: seats.length };
  return [base, ...rows, end].map((r) => ({
    topic: topics.copilotSeats,
    key: recordKey(tenant, org, `snapshot/${id}`),
    value: codecs.copilotSeatSnapshot.encode(r),
  }));
}

const people = (n: number, prefixName = "p"): SeatSpec[] =>
  Array.from({ length: n }, (_, i) => ({ who: `${prefixName}${i}` }));

function openaiSnapshot(
  entity: "USERS" | "PROJECTS",
  id: string,
  takenAt: string,
  rows: Partial<OpenaiSnapshotRow>[],
): OutgoingRecord[] {
  const base: OpenaiSnapshotRecord = {
    user: null,
    project: null,
    service_account: null,
    api_key: null,
    kind: "BEGIN",
    entity,
    tenant: "acme",
    org: "org-acme",
    snapshot_id: id,
    taken_at: Date.parse(takenAt),
    row_count: null,
    pseudonym_key_id: "k1",
  };
  const records = [
    base,
    ...rows.map((row): OpenaiSnapshotRecord => ({ ...base, kind: "ROW", ...row })),
    { ...base, kind: "END" as const, row_count: rows.length },
  ];
  return records.map((r) => ({
    topic: entity === "USERS" ? topics.openaiUsers : topics.openaiProjects,
    key: recordKey("acme", "org-acme", `snapshot/${id}`),
    value: codecs.openaiSnapshot.encode(r),
  }));
}

const user = (id: string, serviceAccount = false): Partial<OpenaiSnapshotRow> => ({
  user: {
    user_id: id,
    email_pseudonym: `${id}-pseudonym`,
    email_domain: "acme.example",
    email_display: "us…@acme.example",
    role: "reader",
    added_at: Date.parse("2025-06-01T00:00:00Z"),
    is_service_account: serviceAccount,
    is_scim_managed: null,
    api_key_last_used_at: null,
  },
});

const project = (id: string, status: "active" | "archived"): Partial<OpenaiSnapshotRow> => ({
  project: {
    project_id: id,
    name: id,
    status,
    created_at: Date.parse("2025-06-01T00:00:00Z"),
    archived_at: status === "archived" ? Date.parse("2025-12-01T00:00:00Z") : null,
    residency: null,
  },
});

async function publish(records: OutgoingRecord[]): Promise<void> {
  const producer = await kafka.transactionalProducer(`${prefix}.ingest`);
  try {
    await producer.transaction((tx) => tx.send(records));
  } finally {
    await producer.disconnect();
  }
}

before(async () => {
  ch = await testClickHouse((fn) => cleanups.push(fn));
  await kafka.ensureTopics(topicSpecs(prefix));
  // Tenant acme: a stand-alone organization, 30 seats on Jan 1 and 35 on Jan 15 (the days between
  // carry the count forward), and one OpenAI organization all January.
  await publish(seatSnapshot("acme", "acme", "ORGANIZATION", "a-0101", "2026-01-01T06:00:00Z", people(30)));
  await publish(seatSnapshot("acme", "acme", "ORGANIZATION", "a-0115", "2026-01-15T06:00:00Z", people(35)));
  await publish(
    openaiSnapshot("USERS", "u-0101", "2026-01-01T06:00:00Z", [
      ...Array.from({ length: 25 }, (_, i) => user(`user-${i}`)),
      user("user-svc-1", true),
      user("user-svc-2", true),
    ]),
  );
  await publish(
    openaiSnapshot("PROJECTS", "pr-0101", "2026-01-01T06:00:00Z", [
      project("proj_1", "active"),
      project("proj_2", "active"),
      project("proj_3", "active"),
      project("proj_old", "archived"),
    ]),
  );
  // Tenant globex: the enterprise globex-ent (organizations o1 and o2) and o1 connected on its own.
  // p1 has a Business seat in o1 and an Enterprise seat in o2: one seat, an Enterprise one. p3's
  // seat is cancelled from Feb 10.
  await publish(
    seatSnapshot("globex", "globex-ent", "ENTERPRISE", "g-0201", "2026-02-01T06:00:00Z", [
      { who: "p1", organization: "o1", plan: "business" },
      { who: "p1", organization: "o2", plan: "enterprise" },
      { who: "p2", organization: "o1" },
      { who: "p3", organization: "o2", pendingCancellation: "2026-02-10" },
    ]),
  );
  await publish(
    seatSnapshot("globex", "o1", "ORGANIZATION", "o1-0201", "2026-02-01T07:00:00Z", [
      { who: "p1" },
      { who: "p2" },
    ]),
  );
  // Tenant hooli: two organizations connected one by one; their audit events name their enterprise
  // (`business`), so a person with a seat in both counts once.
  await publish(
    seatSnapshot("hooli", "h1", "ORGANIZATION", "h1-0301", "2026-03-01T06:00:00Z", [{ who: "gavin" }]),
  );
  await publish(
    seatSnapshot("hooli", "h2", "ORGANIZATION", "h2-0301", "2026-03-01T06:00:00Z", [
      { who: "gavin" },
      { who: "denpok" },
    ]),
  );
  await publish(
    ["h1", "h2"].map((org) => ({
      topic: topics.copilotAuditEvents,
      key: recordKey("hooli", org, `ev-${org}`),
      value: codecs.copilotAuditEvent.encode(
        auditEvent(`ev-${org}`, { tenant: "hooli", org, business: "hooli-ent", event_org: org }),
      ),
    })),
  );
  // A snapshot whose END promises a row that never came is not complete: never billed.
  const incomplete = seatSnapshot(
    "acme",
    "acme",
    "ORGANIZATION",
    "a-0120",
    "2026-01-20T06:00:00Z",
    people(50),
  );
  await publish(incomplete.filter((_, i) => i !== 3));

  const snapshotter = createService(
    loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      SNAPSHOTTER_GROUP_ID: `${prefix}-sink`,
    }),
    { logger, kafka, clickhouse: ch },
  );
  try {
    assert.equal(await snapshotter.runOnce(), true);
  } finally {
    await snapshotter.stop();
  }
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("the monthly bill", () => {
  it("30 seats from Jan 1 and 35 from Jan 15: 32.74 on average, 33 seats, €33", async () => {
    const january = await bill(ch, "acme", monthDays("2026-01"));
    assert.equal(january.days, 31);
    assert.deepEqual(january.copilot.units, ["acme"]);
    assert.deepEqual(january.copilot.seats, {
      total: 30 * 14 + 35 * 17,
      average: "32.74",
      billable: 33,
      unit_price_cents: 100,
      amount_cents: 3300,
    });
    assert.equal(january.copilot.carried_days, 29, "every day but Jan 1 and Jan 15 is carried forward");
    assert.equal(january.copilot.days_without_snapshot, 0);
  });

  it("25 users and 3 active projects all month: €25 + €15 = €40", async () => {
    const january = await bill(ch, "acme", monthDays("2026-01"));
    assert.deepEqual(january.openai.orgs, ["org-acme"]);
    assert.equal(january.openai.users.billable, 25);
    assert.equal(january.openai.users.amount_cents, 2500);
    assert.equal(january.openai.active_projects.billable, 3);
    assert.equal(january.openai.active_projects.amount_cents, 1500);
    assert.equal(january.openai.users.amount_cents + january.openai.active_projects.amount_cents, 4000);
    assert.equal(january.total_cents, 3300 + 4000);
  });

  it("a day before the first snapshot counts 0 and is stated, not carried", async () => {
    const december = await bill(ch, "acme", { from: "2025-12-31", to: "2026-01-01" });
    assert.equal(december.copilot.seats.total, 30);
    assert.equal(december.copilot.days_without_snapshot, 1);
    assert.equal(december.copilot.carried_days, 0);
  });

  it("a tenant with no connected organization pays nothing", async () => {
    const nothing = await bill(ch, "initech", monthDays("2026-01"));
    assert.deepEqual(nothing.copilot.units, []);
    assert.deepEqual(nothing.openai.orgs, []);
    assert.equal(nothing.total_cents, 0);
  });
});

describe("GitHub's seat rules", () => {
  it("one seat per person per enterprise, Enterprise over Business, cancelled from its date", async () => {
    const rows = await ch.rows<{
      day: string;
      unit: string;
      seats: number;
      business_seats: number;
      enterprise_seats: number;
      carried: number;
    }>(
      `SELECT toString(day) AS day, unit, seats, business_seats, enterprise_seats, carried
       FROM ${ch.table("copilot_billing_days")}(tenant = {t:String}, from = {f:Date}, to = {to:Date})`,
      { t: "globex", f: "2026-02-01", to: "2026-02-28" },
    );
    assert.equal(rows.length, 28, "one billing unit: the enterprise and its organization o1 together");
    const byDay = new Map(rows.map((r) => [r.day, r]));
    assert.deepEqual(
      { ...byDay.get("2026-02-01") },
      { day: "2026-02-01", unit: "globex-ent", seats: 3, business_seats: 2, enterprise_seats: 1, carried: 0 },
    );
    assert.equal(byDay.get("2026-02-09")?.seats, 3, "p3 counts until the day before its cancellation");
    assert.equal(byDay.get("2026-02-10")?.seats, 2, "and not from its cancellation date");
    assert.equal(byDay.get("2026-02-10")?.carried, 1);
    const march = await bill(ch, "hooli", { from: "2026-03-01", to: "2026-03-01" });
    assert.deepEqual(
      march.copilot.units,
      ["hooli-ent"],
      "the enterprise named by the organizations' audit events",
    );
    assert.equal(march.copilot.seats.total, 2, "gavin once, denpok once");
    const february = await bill(ch, "globex", monthDays("2026-02"));
    assert.equal(february.copilot.seats.total, 9 * 3 + 19 * 2);
    assert.equal(february.copilot.seats.billable, 3);
  });
});
