/**
 * `aiaudit status` against the real broker and the real ClickHouse engine: connections with
 * their state, each stream's last poll and lag from the cursors topic, rows per table.
 */
import assert from "node:assert/strict";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, topicNames, topicSpecs, type ConnectionRecord, type StreamCursor } from "@aiaudit/contracts";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { captureLogger, testClickHouse, testKafka, TEST_BROKERS, uniquePrefix } from "@aiaudit/testing";

const prefix = uniquePrefix("status");
const topics = topicNames(prefix);
const now = Date.now();
// At the top level: `after` registered inside a `before` hook would run when the hook ends.
const ch: ClickHouse = await testClickHouse(after);

function connection(tenant: string, id: string, status: "ACTIVE" | "BROKEN", message: string | null = null) {
  const record: ConnectionRecord = {
    tenant,
    connection_id: id,
    vendor: "GITHUB",
    kind: "ORGANIZATION",
    slug: id.replace("github-org-", ""),
    base_url: "https://api.github.com",
    sealed_token: { alg: "A256GCM", kid: "k", nonce: "n", ciphertext: "c", tag: "t" },
    status,
    status_message: message,
    token_expires_at: null,
    scopes: [],
    keep_usage_content: false,
    display_name: null,
    created_at: now - 3_600_000,
    updated_at: now - 3_600_000,
  };
  return { topic: topics.connections, key: `${tenant}/${id}`, value: codecs.connection.encode(record) };
}

function cursor(tenant: string, conn: string, stream: string, updatedAgoMs: number, value: string | null) {
  const record: StreamCursor = {
    tenant,
    connection: conn,
    stream,
    cursor: value,
    last_snapshot_id: null,
    updated_at: now - updatedAgoMs,
  };
  return { topic: topics.cursors, key: `${tenant}/${conn}/${stream}`, value: codecs.cursor.encode(record) };
}

function event(tenant: string, id: string) {
  return {
    tenant,
    org: "acme",
    scope: "ORGANIZATION",
    event_id: id,
    action: "copilot.cfb_seat_added",
    created_at: now,
    actor_is_agent: false,
    raw_json: "{}",
    pseudonym_key_id: "k",
    ingested_at: now,
  };
}

before(async () => {
  const { logger } = captureLogger();
  const kafka = testKafka(logger);
  await kafka.ensureTopics(topicSpecs(prefix));
  const producer = await kafka.transactionalProducer(`${prefix}.status-test`);
  await producer.transaction((tx) =>
    tx.send([
      connection("tenant-a", "github-org-acme", "ACTIVE"),
      connection("tenant-a", "github-org-old", "BROKEN", "GitHub rejected the token (401 Bad credentials)"),
      connection("tenant-a", "github-org-gone", "ACTIVE"),
      { topic: topics.connections, key: "tenant-a/github-org-gone", value: null },
      connection("tenant-b", "github-org-other", "ACTIVE"),
      cursor("tenant-a", "github-org-acme", "copilot.seats", 60_000, null),
      cursor(
        "tenant-a",
        "github-org-acme",
        "copilot.audit-events",
        90_000,
        JSON.stringify({ highWaterMs: 0, seen: {} }),
      ),
      // The newer cursor of the same stream wins.
      cursor(
        "tenant-a",
        "github-org-acme",
        "copilot.audit-events",
        60_000,
        JSON.stringify({ highWaterMs: now - 2 * 3_600_000, seen: { a: 1 } }),
      ),
      cursor("tenant-a", "github-org-static", "copilot.seats", 30_000, "not json"),
      cursor("tenant-b", "github-org-other", "copilot.seats", 10_000, null),
      // A stream's dedup bucket shares the topic; it is no cursor and no problem.
      {
        topic: topics.cursors,
        key: "tenant-a/github-org-acme/copilot.audit-events/seen/60000",
        value: Buffer.from("AAAAAAAAAAAAAAAA", "utf8"),
      },
    ]),
  );
  await producer.disconnect();
  await ch.insert("copilot_audit_events", [
    event("tenant-a", "e1"),
    event("tenant-a", "e2"),
    event("tenant-b", "e3"),
  ]);
});

async function status(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(["status", ...args], {
    env: {
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      CLICKHOUSE_DATA_DIR: `.cache/test-chdb/${process.pid}`,
      CLICKHOUSE_DATABASE: ch.database,
      ...(process.env.CLICKHOUSE_URL ? { CLICKHOUSE_URL: process.env.CLICKHOUSE_URL } : {}),
    },
    stdin: Readable.from([]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

interface JsonStatus {
  connections: {
    tenant: string;
    connection_id: string;
    state: string | null;
    message: string | null;
    streams: { stream: string; last_poll_at: string; cursor_at: string | null; lag_seconds: number | null }[];
  }[];
  tables: { table: string; rows: number | null }[];
  problems: string[];
}

describe("aiaudit status", () => {
  it("--json: one tenant's connections, their state, each stream's last poll and lag, and its rows", async () => {
    const r = await status("--tenant", "tenant-a", "--json");
    assert.equal(r.code, 0, r.err);
    const s = JSON.parse(r.out) as JsonStatus;
    assert.deepEqual(s.problems, []);
    assert.deepEqual(
      s.connections.map((c) => [c.connection_id, c.state]),
      [
        ["github-org-acme", "ACTIVE"],
        ["github-org-old", "BROKEN"],
        ["github-org-static", null],
      ],
      "tenant-b's connection and the disconnected one are left out",
    );
    const [acme, old, unlisted] = s.connections;
    assert.ok(acme && old && unlisted);
    assert.equal(old.message, "GitHub rejected the token (401 Bad credentials)");
    assert.deepEqual(
      acme.streams.map((st) => st.stream),
      ["copilot.audit-events", "copilot.seats"],
    );
    const [audit, seats] = acme.streams;
    assert.ok(audit && seats);
    assert.equal(audit.last_poll_at, new Date(now - 60_000).toISOString());
    assert.equal(audit.cursor_at, new Date(now - 2 * 3_600_000).toISOString());
    assert.ok(
      audit.lag_seconds !== null && Math.abs(audit.lag_seconds - 7200) < 120,
      `lag ${audit.lag_seconds}`,
    );
    assert.equal(seats.cursor_at, null, "a cursor without highWaterMs has no lag");
    assert.equal(seats.lag_seconds, null);
    assert.equal(unlisted.streams[0]?.cursor_at, null, "a cursor that is not JSON is tolerated");
    assert.deepEqual(
      s.tables.find((t) => t.table === "copilot_audit_events"),
      { table: "copilot_audit_events", rows: 2 },
    );
    assert.deepEqual(
      s.tables.find((t) => t.table === "copilot_seat_snapshots"),
      { table: "copilot_seat_snapshots", rows: 0 },
    );
  });

  it("text: what a person reads, every tenant", async () => {
    const r = await status();
    assert.equal(r.code, 0, r.err);
    assert.match(
      r.out,
      /^ {2}tenant-a\/github-org-acme {2}ACTIVE {2}organization acme at https:\/\/api\.github\.com$/m,
    );
    assert.match(
      r.out,
      /^ {2}tenant-a\/github-org-old {2}BROKEN .*\n {6}GitHub rejected the token \(401 Bad credentials\)$/m,
    );
    assert.match(
      r.out,
      /^ {4}copilot\.audit-events {2}last poll .* \(\d+ s ago\) {2}newest record .*, lag 2 h 0 min$/m,
    );
    assert.match(r.out, /^ {2}tenant-a\/github-org-static {2}no connection record/m);
    assert.match(r.out, /^ {2}tenant-b\/github-org-other {2}ACTIVE/m);
    assert.doesNotMatch(r.out, /github-org-gone/);
    assert.match(r.out, /^ {2}copilot_audit_events +3 rows$/m);
  });

  it("refuses a tenant id the services would refuse, before reading anything", async () => {
    const r = await status("--tenant", "North_Wind");
    assert.equal(r.code, 2);
    assert.match(r.err, /--tenant "North_Wind" is not a tenant id: 1-63 lower-case letters/);
  });
});
