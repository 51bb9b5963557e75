/**
 * SIEM forwarding end to end (issue 11): destinations written to the destinations topic as
 * `aiaudit destinations add` writes them, the snapshotter against the real broker and embedded
 * ClickHouse, and real HTTP receivers on loopback:
 * - a webhook receiver checks every delivery with the official `standardwebhooks` verifier and
 *   gets the tenant's audit events (its filter), each once;
 * - a Splunk HEC receiver checks the path, the `Splunk` token and each event's fields;
 * - a destination down for the whole ingest does not hold back ClickHouse; its records arrive
 *   once it is up, each once;
 * - a destination that refuses (400) sends the records to the dead-letter topic with the reason;
 * - another tenant's destination gets that tenant's records only.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { after, before, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { DlqHeaders, codecs, topicNames, topicSpecs, type DestinationRecord } from "@aiaudit/contracts";
import { destinationSealContext, sealSecret } from "@aiaudit/crypto";
import type { OutgoingRecord } from "@aiaudit/kafka";
import { createService, type SnapshotterService } from "@aiaudit/snapshotter";
import { loadConfig } from "@aiaudit/snapshotter/config";
import {
  captureLogger,
  testClickHouse,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
} from "@aiaudit/testing";
import { auditEvent, HOUR } from "../fixtures.ts";

const prefix = uniquePrefix("siem");
const topics = topicNames(prefix);
const { logger, lines } = captureLogger("siem");
const kafka = testKafka(logger);
const secretsKey = randomBytes(32);
const webhookSecret = `whsec_${randomBytes(24).toString("base64")}`;
const hecToken = "11111111-2222-3333-4444-555555555555";
const cleanups: (() => Promise<void> | void)[] = [];
let ch: ClickHouse;
let service: SnapshotterService;

interface Received {
  headers: IncomingMessage["headers"];
  path: string;
  body: string;
}

/** An HTTP receiver on 127.0.0.1 that records every request and answers with `answer`. */
async function receiver(answer: (r: Received) => { status: number; body: string }, port = 0) {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { headers: req.headers, path: req.url ?? "", body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      const { status, body } = answer(r);
      res.writeHead(status, { "content-type": "application/json" }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { received, url, server };
}

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Webhook deliveries, each verified by the standardwebhooks library: the events they carried. */
function verifiedWebhookEvents(received: Received[]): { id: string; kind: string; tenant: string }[] {
  const verifier = new Webhook(webhookSecret);
  return received.flatMap((r) => {
    const headers = {
      "webhook-id": String(r.headers["webhook-id"]),
      "webhook-timestamp": String(r.headers["webhook-timestamp"]),
      "webhook-signature": String(r.headers["webhook-signature"]),
    };
    const payload = verifier.verify(r.body, headers) as {
      data: { events: { id: string; kind: string; tenant: string }[] };
    };
    return payload.data.events;
  });
}

function destination(
  tenant: string,
  id: string,
  kind: DestinationRecord["kind"],
  url: string,
  filters: Partial<Pick<DestinationRecord, "modules" | "kinds" | "event_types">> = {},
): OutgoingRecord {
  const secret = kind === "WEBHOOK" ? webhookSecret : hecToken;
  const record: DestinationRecord = {
    tenant,
    destination_id: id,
    kind,
    url,
    sealed_secret: sealSecret(secretsKey, secret, destinationSealContext(tenant, id)),
    modules: [],
    kinds: [],
    event_types: [],
    allow_private: true,
    splunk_index: null,
    created_at: Date.now(),
    ...filters,
  };
  return { topic: topics.destinations, key: `${tenant}/${id}`, value: codecs.destination.encode(record) };
}

async function publish(records: OutgoingRecord[]): Promise<void> {
  const producer = await kafka.transactionalProducer(`${prefix}.test`);
  try {
    await producer.transaction((tx) => tx.send(records));
  } finally {
    await producer.disconnect();
  }
}

const eventIds = Array.from({ length: 30 }, (_, i) => `doc-${i}`);
const seatIds = ["s1", "s2", "s3"];

function dataRecords(): OutgoingRecord[] {
  const takenAt = Date.now() - HOUR;
  const snapshot = {
    tenant: "tenant-a",
    org: "acme",
    scope: "ORGANIZATION",
    snapshot_id: "snap-1",
    taken_at: takenAt,
    pseudonym_key_id: "k1",
  } as const;
  const seats = seatIds.map((seatId) =>
    codecs.copilotSeatSnapshot.encode({
      ...snapshot,
      kind: "ROW",
      row_count: null,
      total_seats: null,
      seat: {
        seat_id: seatId,
        assignee_pseudonym: `p-${seatId}`,
        assignee_type: "User",
        organization: null,
        assigning_team: null,
        plan_type: "business",
        created_at: takenAt - HOUR,
        pending_cancellation_date: null,
        last_activity_at: null,
        last_activity_editor: null,
        last_authenticated_at: null,
        updated_at: null,
      },
    }),
  );
  const end = codecs.copilotSeatSnapshot.encode({
    ...snapshot,
    kind: "END",
    row_count: 3,
    total_seats: 3,
    seat: null,
  });
  return [
    ...eventIds.map((id) => ({
      topic: topics.copilotAuditEvents,
      key: `tenant-a/acme/${id}`,
      value: codecs.copilotAuditEvent.encode(auditEvent(id)),
    })),
    ...["b-1", "b-2"].map((id) => ({
      topic: topics.copilotAuditEvents,
      key: `tenant-b/beta/${id}`,
      value: codecs.copilotAuditEvent.encode(auditEvent(id, { tenant: "tenant-b", org: "beta" })),
    })),
    ...[...seats, end].map((value) => ({ topic: topics.copilotSeats, key: "tenant-a/acme/snap-1", value })),
  ];
}

/** waitFor with a probe that needs no await. */
const waitUntil = <T>(what: string, probe: () => T | undefined, timeoutMs?: number): Promise<T> =>
  waitFor(what, () => Promise.resolve(probe()), timeoutMs);

const hecOk = () => ({ status: 200, body: JSON.stringify({ text: "Success", code: 0 }) });

describe("SIEM forwarding", () => {
  let webhook: Awaited<ReturnType<typeof receiver>>;
  let hec: Awaited<ReturnType<typeof receiver>>;
  let refusing: Awaited<ReturnType<typeof receiver>>;
  let otherTenant: Awaited<ReturnType<typeof receiver>>;
  let downPort: number;

  before(async () => {
    ch = await testClickHouse((fn) => cleanups.push(fn));
    webhook = await receiver(() => ({ status: 204, body: "" }));
    hec = await receiver(hecOk);
    refusing = await receiver(() => ({ status: 400, body: JSON.stringify({ error: "schema mismatch" }) }));
    otherTenant = await receiver(() => ({ status: 200, body: "" }));
    downPort = await freePort();
    await kafka.ensureTopics(topicSpecs(prefix));
    await publish([
      destination("tenant-a", "hooks", "WEBHOOK", `${webhook.url}/aiaudit`, { kinds: ["audit_event"] }),
      destination("tenant-a", "splunk", "SPLUNK_HEC", hec.url, { modules: ["copilot"] }),
      destination("tenant-a", "refusing", "WEBHOOK", `${refusing.url}/hook`, { kinds: ["seat"] }),
      destination("tenant-a", "down", "WEBHOOK", `http://127.0.0.1:${downPort}/hook`),
      destination("tenant-b", "hooks", "WEBHOOK", `${otherTenant.url}/b`),
    ]);
    await publish(dataRecords());
    const config = loadConfig({
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      SNAPSHOTTER_GROUP_ID: `${prefix}-snapshotter`,
      SECRETS_KEY: secretsKey.toString("hex"),
      SIEM_RETRY_FIRST_MS: "50",
    });
    service = createService(config, { logger, kafka, clickhouse: ch });
  });

  after(async () => {
    await service.stop();
    for (const fn of cleanups.reverse()) await fn();
  });

  it("sinks into ClickHouse while one destination is down", async () => {
    assert.equal(await service.runOnce(), true);
    const [count] = await ch.rows<{ n: string }>(
      `SELECT count() AS n FROM ${ch.table("copilot_audit_events")} FINAL WHERE tenant = 'tenant-a'`,
    );
    assert.equal(Number(count?.n), eventIds.length);
  });

  it("the webhook gets the tenant's audit events, signed, each once", async () => {
    const events = await waitUntil("the webhook's events", () => {
      const got = verifiedWebhookEvents(webhook.received);
      return got.length >= eventIds.length ? got : undefined;
    });
    assert.deepEqual(events.map((e) => e.id).sort(), [...eventIds].sort());
    assert.ok(events.every((e) => e.kind === "audit_event" && e.tenant === "tenant-a"));
    assert.ok(webhook.received.every((r) => r.path === "/aiaudit"));
  });

  it("a tampered body or an old timestamp fails the receiver's check", () => {
    const [first] = webhook.received;
    assert.ok(first);
    const verifier = new Webhook(webhookSecret);
    const headers = {
      "webhook-id": String(first.headers["webhook-id"]),
      "webhook-timestamp": String(first.headers["webhook-timestamp"]),
      "webhook-signature": String(first.headers["webhook-signature"]),
    };
    assert.throws(() => verifier.verify(first.body.replace("doc-", "dox-"), headers));
    const old = String(Number(headers["webhook-timestamp"]) - 10 * 60);
    assert.throws(() => verifier.verify(first.body, { ...headers, "webhook-timestamp": old }));
  });

  it("Splunk HEC gets every copilot record of the tenant, with its token, sourcetype and time", async () => {
    const events = await waitUntil("the HEC events", () => {
      const got = hec.received.flatMap((r) =>
        r.body
          .split("\n")
          .filter((line) => line.trim() !== "")
          .map(
            (line) =>
              JSON.parse(line) as {
                time: number;
                sourcetype: string;
                source: string;
                event: { id: string; time: string; data: Record<string, unknown> };
              },
          ),
      );
      return got.length >= eventIds.length + seatIds.length ? got : undefined;
    });
    assert.ok(hec.received.every((r) => r.path === "/services/collector/event"));
    assert.ok(hec.received.every((r) => r.headers.authorization === `Splunk ${hecToken}`));
    assert.equal(events.length, eventIds.length + seatIds.length);
    const audit = events.filter((e) => e.sourcetype === "aiaudit:copilot:audit_event");
    const seats = events.filter((e) => e.sourcetype === "aiaudit:copilot:seat");
    assert.deepEqual(audit.map((e) => e.event.id).sort(), [...eventIds].sort());
    assert.deepEqual(seats.map((e) => e.event.id).sort(), seatIds.map((s) => `snap-1/${s}`).sort());
    for (const e of audit) {
      assert.equal(e.source, "aiaudit:copilot");
      assert.equal(Math.round(e.time * 1000), Date.parse(e.event.time));
      assert.equal(e.event.data.event_id, e.event.id);
    }
  });

  it("a refusing destination's records go to the dead-letter topic with the reason", async () => {
    const letters = await waitFor("the dead letters", async () => {
      const records = await kafka.readTopic(topics.dlq, { idleMs: 500 });
      const refused = records.filter((r) => r.headers[DlqHeaders.code] === "DESTINATION_REFUSED");
      return refused.length >= seatIds.length ? refused : undefined;
    });
    assert.equal(letters.length, seatIds.length);
    for (const letter of letters) {
      const reason = letter.headers[DlqHeaders.reason] ?? "";
      assert.match(reason, /tenant-a\/refusing/);
      assert.match(reason, /400/);
      assert.equal(letter.headers[DlqHeaders.sourceTopic], topics.copilotSeats);
    }
    assert.ok(!lines.some((line) => line.includes(webhookSecret) || line.includes(hecToken)));
  });

  it("another tenant's destination gets that tenant's records only", async () => {
    const ids = await waitUntil("tenant-b's events", () => {
      const got = otherTenant.received.flatMap(
        (r) => (JSON.parse(r.body) as { data: { events: { id: string; tenant: string }[] } }).data.events,
      );
      return got.length >= 2 ? got : undefined;
    });
    assert.deepEqual(ids.map((e) => [e.id, e.tenant]).sort(), [
      ["b-1", "tenant-b"],
      ["b-2", "tenant-b"],
    ]);
  });

  it("the JSON topic holds every audit event once, as the webhook's event JSON", async () => {
    const records = await waitFor("the JSON topic", async () => {
      const read = await kafka.readTopic(topics.siemAuditEventsJson, { idleMs: 500 });
      return read.length >= eventIds.length + 2 ? read : undefined;
    });
    const events = records.map(
      (r) =>
        JSON.parse(r.value?.toString("utf8") ?? "null") as {
          id: string;
          tenant: string;
          kind: string;
          event_type: string;
          data: { event_id: string };
        },
    );
    assert.deepEqual(events.map((e) => e.id).sort(), [...eventIds, "b-1", "b-2"].sort());
    for (const [i, e] of events.entries()) {
      assert.equal(records[i]?.key, `${e.tenant}/${e.tenant === "tenant-a" ? "acme" : "beta"}/${e.id}`);
      assert.deepEqual(
        [e.kind, e.event_type, e.data.event_id],
        ["audit_event", "copilot.cfb_seat_added", e.id],
      );
    }
  });

  it("the destination that was down gets every record once it is up, each once", async () => {
    await waitUntil("the down destination's attempts in the log", () =>
      lines.find((line) => line.includes("tenant-a/down") && line.includes("unreachable")),
    );
    const down = await receiver(() => ({ status: 200, body: "" }), downPort);
    const ids = await waitUntil(
      "the recovered destination's events",
      () => {
        const got = verifiedWebhookEvents(down.received).map((e) => e.id);
        return got.length >= eventIds.length + seatIds.length ? got : undefined;
      },
      60_000,
    );
    assert.deepEqual(ids.sort(), [...eventIds, ...seatIds.map((s) => `snap-1/${s}`)].sort());
  });
});
