import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  codecs,
  DESTINATION_KINDS,
  topicNames,
  type DestinationRecord,
  type OpenaiSnapshotRecord,
} from "@aiaudit/contracts";
import { destinationTakes, forwardedEvent } from "../../src/transforms/siem-events.ts";
import type { ForwardedEvent } from "../../src/sinks/siem/types.ts";
import { auditEvent, usageRecord } from "../fixtures.ts";

const topics = topicNames("t");
const T0 = Date.UTC(2026, 10, 5, 12);

const openaiBase: OpenaiSnapshotRecord = {
  kind: "ROW",
  entity: "USERS",
  tenant: "tenant-a",
  org: "org-1",
  snapshot_id: "snap-9",
  taken_at: T0,
  row_count: null,
  pseudonym_key_id: "k1",
  user: null,
  project: null,
  service_account: null,
  api_key: null,
};

function destination(overrides: Partial<DestinationRecord> = {}): DestinationRecord {
  return {
    tenant: "tenant-a",
    destination_id: "d",
    kind: "WEBHOOK",
    url: "https://siem.example/hook",
    sealed_secret: { alg: "A256GCM", kid: "k", nonce: "", ciphertext: "", tag: "" },
    modules: [],
    kinds: [],
    event_types: [],
    allow_private: false,
    splunk_index: null,
    created_at: T0,
    ...overrides,
  };
}

describe("forwardedEvent", () => {
  it("maps a Copilot audit event with its id, time, action and org", () => {
    const e = forwardedEvent(
      topics,
      topics.copilotAuditEvents,
      codecs.copilotAuditEvent.encode(
        auditEvent("doc-1", { created_at: T0, action: "copilot.cfb_seat_cancelled" }),
      ),
    );
    assert.deepEqual(e && [e.id, e.time, e.module, e.kind, e.eventType, e.tenant, e.org], [
      "doc-1",
      T0,
      "copilot",
      "audit_event",
      "copilot.cfb_seat_cancelled",
      "tenant-a",
      "acme",
    ]);
    assert.equal(e?.data.event_id, "doc-1");
  });

  it("maps a usage record to its enterprise, and an OpenAI audit event to its type", () => {
    const u = forwardedEvent(
      topics,
      topics.copilotUsageRecords,
      codecs.copilotUsageRecord.encode(usageRecord("r-1")),
    );
    assert.deepEqual(u && [u.id, u.kind, u.org, u.eventType], ["r-1", "usage_record", "acme-ent", null]);
    const o = forwardedEvent(
      topics,
      topics.openaiAuditEvents,
      codecs.openaiAuditEvent.encode({
        event_id: "audit_1",
        tenant: "tenant-a",
        org: "org-1",
        type: "api_key.created",
        effective_at: T0,
        project_id: null,
        project_name: null,
        actor_type: "session",
        actor_pseudonym: null,
        actor_user_id: null,
        actor_api_key_id: null,
        actor_service_account_id: null,
        actor_ip_pseudonym: null,
        resource_id: "key_1",
        raw_json: "{}",
        pseudonym_key_id: "k1",
        ingested_at: T0,
      }),
    );
    assert.deepEqual(o && [o.id, o.module, o.kind, o.eventType, o.time], [
      "audit_1",
      "openai",
      "audit_event",
      "api_key.created",
      T0,
    ]);
  });

  it("forwards snapshot rows with a snapshot-scoped id and leaves the markers out", () => {
    const user = {
      user_id: "user-1",
      email_pseudonym: "e".repeat(64),
      email_domain: "acme.example",
      email_display: null,
      role: "owner",
      added_at: T0,
      is_service_account: false,
      is_scim_managed: null,
      api_key_last_used_at: null,
    };
    const row = forwardedEvent(
      topics,
      topics.openaiUsers,
      codecs.openaiSnapshot.encode({ ...openaiBase, user }),
    );
    assert.deepEqual(row && [row.id, row.kind, row.time, row.data.role], [
      "snap-9/user-1",
      "user",
      T0,
      "owner",
    ]);
    const marker = codecs.openaiSnapshot.encode({ ...openaiBase, kind: "END", row_count: 1 });
    assert.equal(forwardedEvent(topics, topics.openaiUsers, marker), null);
    const begin = codecs.copilotSeatSnapshot.encode({
      kind: "BEGIN",
      tenant: "tenant-a",
      org: "acme",
      scope: "ORGANIZATION",
      snapshot_id: "s",
      taken_at: T0,
      row_count: null,
      total_seats: null,
      pseudonym_key_id: "k1",
      seat: null,
    });
    assert.equal(forwardedEvent(topics, topics.copilotSeats, begin), null);
  });

  it("throws on a value that does not decode, and ignores topics it does not forward", () => {
    assert.throws(() => forwardedEvent(topics, topics.copilotAuditEvents, Buffer.from("not avro")));
    assert.equal(forwardedEvent(topics, topics.cursors, Buffer.from("x")), null);
  });
});

describe("destinationTakes", () => {
  const event = (overrides: Partial<ForwardedEvent> = {}): ForwardedEvent => ({
    id: "1",
    time: T0,
    module: "copilot",
    kind: "audit_event",
    eventType: "copilot.cfb_seat_added",
    tenant: "tenant-a",
    org: "acme",
    data: {},
    ...overrides,
  });

  it("takes only its own tenant's records", () => {
    assert.equal(destinationTakes(destination(), event()), true);
    assert.equal(destinationTakes(destination(), event({ tenant: "tenant-b" })), false);
  });

  it("filters by module, kind and event type (exact, 'prefix.' or 'prefix*')", () => {
    assert.equal(destinationTakes(destination({ modules: ["openai"] }), event()), false);
    assert.equal(destinationTakes(destination({ kinds: ["seat"] }), event()), false);
    assert.equal(destinationTakes(destination({ kinds: [...DESTINATION_KINDS] }), event()), true);
    assert.equal(destinationTakes(destination({ event_types: ["copilot."] }), event()), true);
    assert.equal(destinationTakes(destination({ event_types: ["copilot.cfb*"] }), event()), true);
    assert.equal(destinationTakes(destination({ event_types: ["copilot.cfb_seat_added"] }), event()), true);
    assert.equal(destinationTakes(destination({ event_types: ["copilot.cfb"] }), event()), false);
    assert.equal(destinationTakes(destination({ event_types: ["api_key."] }), event()), false);
    // A record that is not an audit event passes the event-type filter.
    assert.equal(
      destinationTakes(destination({ event_types: ["api_key."] }), event({ kind: "seat", eventType: null })),
      true,
    );
  });
});
