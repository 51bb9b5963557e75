/**
 * Issue 11: `aiaudit destinations add|list|remove` against the real broker. The secret is sealed
 * on the topic (it opens with SECRETS_KEY for that tenant and destination only), a generated
 * webhook secret is printed once, the list never shows a secret, bad input is a usage error (exit 2)
 * that writes nothing, and a removed destination is a tombstone.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { rmSync } from "node:fs";
import { after, describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { codecs, topicNames } from "@aiaudit/contracts";
import { destinationSealContext, openSecret } from "@aiaudit/crypto";
import { captureLogger, testKafka, TEST_BROKERS, uniquePrefix, waitFor } from "@aiaudit/testing";

const prefix = uniquePrefix("destinations");
const topics = topicNames(prefix);
const kafka = testKafka(captureLogger().logger);
const secretsKey = randomBytes(32);
const chdbDir = `.cache/test-chdb/${process.pid}`;
after(() => rmSync(chdbDir, { recursive: true, force: true }));

async function cli(args: string[], stdin = "") {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: {
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      SECRETS_KEY: secretsKey.toString("base64"),
      // aiaudit status also counts rows: an embedded engine of this test's own.
      CLICKHOUSE_DATA_DIR: chdbDir,
    },
    stdin: Readable.from([stdin]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** The newest value per key of the destinations topic, once it has `count` records. */
async function topic(count: number) {
  return waitFor(`${count} destination records`, async () => {
    const records = await kafka.readTopic(topics.destinations, { idleMs: 500 });
    return records.length >= count ? new Map(records.map((r) => [r.key ?? "", r.value])) : undefined;
  });
}

describe("aiaudit destinations", () => {
  const hecToken = "abcdef01-2345-6789-abcd-ef0123456789";

  it("adds a webhook with a generated secret, printed once and sealed on the topic", async () => {
    const added = await cli([
      "destinations",
      "add",
      "--tenant",
      "acme",
      "--id",
      "soc",
      "--kind",
      "webhook",
      "--url",
      "https://siem.acme.example/hooks/aiaudit",
      "--kinds",
      "audit_event,seat",
      "--event-types",
      "copilot.,api_key.*",
    ]);
    assert.equal(added.code, 0, added.err);
    const secret = /whsec_[A-Za-z0-9+/]+=*/.exec(added.out)?.[0];
    assert.ok(secret, added.out);
    const value = (await topic(1)).get("acme/soc");
    assert.ok(value);
    assert.ok(!value.toString("latin1").includes(secret.slice(6)), "the secret is not in clear on the topic");
    const record = codecs.destination.decode(value);
    assert.equal(openSecret(secretsKey, record.sealed_secret, destinationSealContext("acme", "soc")), secret);
    assert.throws(() =>
      openSecret(secretsKey, record.sealed_secret, destinationSealContext("globex", "soc")),
    );
    assert.deepEqual(
      [record.kind, record.url, record.kinds, record.event_types, record.modules, record.allow_private],
      [
        "WEBHOOK",
        "https://siem.acme.example/hooks/aiaudit",
        ["audit_event", "seat"],
        ["copilot.", "api_key.*"],
        [],
        false,
      ],
    );
  });

  it("adds a Splunk HEC destination with its token from standard input and an index", async () => {
    const added = await cli(
      [
        "destinations",
        "add",
        "--tenant",
        "acme",
        "--id",
        "splunk",
        "--kind",
        "splunk-hec",
        "--url",
        "https://splunk.acme.example:8088",
        "--index",
        "aiaudit",
      ],
      `${hecToken}\n`,
    );
    assert.equal(added.code, 0, added.err);
    assert.ok(!added.out.includes(hecToken));
    const record = codecs.destination.decode((await topic(2)).get("acme/splunk") ?? Buffer.alloc(0));
    assert.equal(record.splunk_index, "aiaudit");
    assert.equal(
      openSecret(secretsKey, record.sealed_secret, destinationSealContext("acme", "splunk")),
      hecToken,
    );
  });

  it("refuses bad input with a usage error, writing nothing", async () => {
    const base = ["destinations", "add", "--tenant", "acme", "--id", "bad"];
    const cases: [string[], RegExp][] = [
      [[...base, "--kind", "syslog", "--url", "https://x.example"], /--kind must be webhook or splunk-hec/],
      [
        [...base, "--kind", "webhook", "--url", "http://siem.example/hook"],
        /https:\/\/ \(http:\/\/ only with --allow-private\)/,
      ],
      [[...base, "--kind", "webhook", "--url", "https://user:pw@siem.example/"], /credentials/],
      [
        [...base, "--kind", "webhook", "--url", "https://siem.example", "--kinds", "seat,alerts"],
        /alerts is not one of/,
      ],
      [[...base, "--kind", "splunk-hec", "--url", "https://splunk.example"], /no HEC token/],
      [
        [
          "destinations",
          "add",
          "--tenant",
          "acme",
          "--id",
          "no/slash",
          "--kind",
          "webhook",
          "--url",
          "https://x.example",
        ],
        /--id/,
      ],
    ];
    for (const [args, message] of cases) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.err}`);
      assert.match(result.err, message);
      assert.ok(!result.err.includes("pw@"));
    }
    const listed = await cli(["destinations", "list", "--tenant", "acme", "--json"]);
    const ids = (JSON.parse(listed.out) as { destinations: { id: string }[] }).destinations.map((d) => d.id);
    assert.deepEqual(ids, ["soc", "splunk"]);
  });

  it("aiaudit status shows each destination and how far behind its group is", async () => {
    const events = Array.from({ length: 4 }, (_, i) => ({
      topic: topics.openaiAuditEvents,
      key: "acme/org-1/one-partition", // one partition: one commit marker
      value: codecs.openaiAuditEvent.encode({
        event_id: `audit_${i}`,
        tenant: "acme",
        org: "org-1",
        type: "api_key.created",
        effective_at: Date.now(),
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
        pseudonym_key_id: "k1",
        ingested_at: Date.now(),
      }),
    }));
    const producer = await kafka.transactionalProducer(`${prefix}.test`);
    await producer.transaction((tx) => tx.send(events));
    await producer.disconnect();
    const status = await cli(["status", "--tenant", "acme", "--json"]);
    const destinations = (
      JSON.parse(status.out) as { destinations: { id: string; kind: string; behind: number }[] }
    ).destinations;
    // Nothing has forwarded yet: 4 events and their partition's commit marker.
    assert.deepEqual(destinations.map((d) => [d.id, d.kind, d.behind]).sort(), [
      ["soc", "webhook", 5],
      ["splunk", "splunk-hec", 5],
    ]);
    const text = await cli(["status", "--tenant", "acme"]);
    assert.match(
      text.out,
      /acme\/splunk  splunk-hec  https:\/\/splunk\.acme\.example:8088  5 offsets behind/,
    );
  });

  it("lists without secrets, and a removed destination is gone", async () => {
    const listed = await cli(["destinations", "list", "--tenant", "acme"]);
    assert.equal(listed.code, 0, listed.err);
    assert.match(
      listed.out,
      /soc\s+webhook\s+https:\/\/siem\.acme\.example\/hooks\/aiaudit\s+all\s+audit_event,seat/,
    );
    assert.match(listed.out, /splunk\s+splunk-hec/);
    assert.ok(!listed.out.includes(hecToken) && !listed.out.includes("whsec_"));
    const removed = await cli(["destinations", "remove", "--tenant", "acme", "--id", "soc"]);
    assert.equal(removed.code, 0, removed.err);
    const latest = await topic(3);
    assert.equal(latest.get("acme/soc"), null);
    const after = await waitFor("the list without soc", async () => {
      const result = await cli(["destinations", "list", "--tenant", "acme", "--json"]);
      const ids = (JSON.parse(result.out) as { destinations: { id: string }[] }).destinations.map(
        (d) => d.id,
      );
      return ids.includes("soc") ? undefined : ids;
    });
    assert.deepEqual(after, ["splunk"]);
    const other = await cli(["destinations", "list", "--tenant", "globex"]);
    assert.match(other.out, /no SIEM destinations/);
  });
});
