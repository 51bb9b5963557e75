/**
 * Issue 8, the monthly schedule against the real broker and ClickHouse engine: on the 1st, the
 * previous month's pack for every tenant and module with a connected org; a failed pack is
 * recorded FAILED on the pack-runs topic with its next attempt, retried when due, not before, and
 * recorded SUCCEEDED once built; a restarted schedule resumes from the topic; and the service's
 * `--once` pass builds the real pack into the store.
 */
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { codecs, topicNames, topicSpecs, type PackRunRecord } from "@aiaudit/contracts";
import { generateKeyPair, privateKeyPem, verifyPack } from "@aiaudit/evidence-pack";
import type { KafkaClient } from "@aiaudit/kafka";
import type { BuiltPack, PackRequest } from "@aiaudit/packer";
import { loadConfig } from "@aiaudit/packer/config";
import { createService } from "@aiaudit/packer/service";
import { captureLogger, testClickHouse, testKafka, uniquePrefix } from "@aiaudit/testing";
import { createSchedule, packRunKey } from "../../src/schedule.ts";
import { telemetry } from "../../src/telemetry.ts";

const MAY_1 = Date.parse("2026-05-01T03:00:00Z");
const MINUTE = 60_000;
const cleanups: (() => Promise<void> | void)[] = [];
let kafka: KafkaClient;
const { logger } = captureLogger("packer-schedule");

async function publish(topic: string, records: { key: string; value: Buffer | null }[]): Promise<void> {
  const producer = await kafka.transactionalProducer(`test.${randomBytes(4).toString("hex")}`);
  try {
    await producer.transaction((tx) => tx.send(records.map((r) => ({ topic, ...r }))));
  } finally {
    await producer.disconnect();
  }
}

/** The newest pack run per key, as `aiaudit status` reads them. */
async function packRuns(topic: string): Promise<Map<string, PackRunRecord>> {
  const runs = new Map<string, PackRunRecord>();
  for (const r of await kafka.readTopic(topic, { idleMs: 500 })) {
    if (r.key && r.value) runs.set(r.key, codecs.packRun.decode(r.value));
  }
  return runs;
}

async function connected(prefix: string): Promise<ReturnType<typeof topicNames>> {
  const topics = topicNames(prefix);
  await kafka.ensureTopics(topicSpecs(prefix));
  // Only keys matter to the schedule: a connection of acme (GitHub), a cursor of globex (OpenAI,
  // configured on an ingest instance), and a disconnected one (a tombstone) that still has a cursor.
  await publish(topics.connections, [
    { key: "acme/github-org-acme", value: Buffer.from("connection") },
    { key: "initech/github-org-initech", value: Buffer.from("connection") },
    { key: "initech/github-org-initech", value: null },
  ]);
  await publish(topics.cursors, [
    { key: "globex/openai-org-xyz/openai.users", value: Buffer.from("cursor") },
    { key: "initech/github-org-initech/copilot.seats", value: Buffer.from("cursor") },
  ]);
  return topics;
}

before(() => {
  kafka = testKafka(logger);
});

after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

describe("the monthly schedule", () => {
  it("packs last month per tenant and module, retries a failure when due, and resumes after a restart", async () => {
    const prefix = uniquePrefix("packer-schedule");
    const topics = await connected(prefix);
    let now = MAY_1;
    const calls: PackRequest[] = [];
    let failGlobex = 2;
    const build = (request: PackRequest): Promise<BuiltPack> => {
      calls.push(request);
      if (request.tenant === "globex" && failGlobex-- > 0) {
        return Promise.reject(new Error("ClickHouse is not reachable at http://ch:8123"));
      }
      const sequence = calls.length;
      return Promise.resolve({
        path: "/unused",
        manifestSha256: "0".repeat(64),
        reused: false,
        manifest: {
          pack_id: `pack-${request.tenant}-${sequence}`,
          sequence,
          period_start: "2026-04-01T00:00:00.000Z",
          period_end: "2026-04-30T23:59:59.999Z",
        } as BuiltPack["manifest"],
      });
    };
    const scheduleAt = () =>
      createSchedule({
        kafka,
        topics,
        producerId: `${prefix}.packer.pack-runs`,
        build,
        telemetry: telemetry(logger),
        pattern: "0 3 1 * *",
        retryMinutes: 30,
        now: () => now,
      });
    const first = scheduleAt();
    const runs = await first.runDue();
    assert.deepEqual(
      calls.map((c) => [c.tenant, c.module, c.periodStart, c.periodEnd]),
      [
        ["acme", "copilot", "2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z"],
        ["globex", "openai_admin", "2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z"],
        ["initech", "copilot", "2026-04-01T00:00:00Z", "2026-04-30T23:59:59Z"],
      ],
    );
    assert.deepEqual(
      runs.map((r) => [r.tenant, r.state]),
      [
        ["acme", "SUCCEEDED"],
        ["globex", "FAILED"],
        ["initech", "SUCCEEDED"],
      ],
    );
    const aprilStart = Date.parse("2026-04-01T00:00:00Z");
    const failedKey = packRunKey("globex", "openai_admin", aprilStart);
    let stored = await packRuns(topics.packRuns);
    assert.deepEqual(
      { ...stored.get(failedKey), updated_at: 0 },
      {
        tenant: "globex",
        module: "openai_admin",
        period_start: aprilStart,
        period_end: Date.parse("2026-04-30T23:59:59.999Z"),
        state: "FAILED",
        attempts: 1,
        last_error: "ClickHouse is not reachable at http://ch:8123",
        next_attempt_at: MAY_1 + 30 * MINUTE,
        pack_id: null,
        sequence: null,
        updated_at: 0,
      },
    );
    assert.equal(stored.get(packRunKey("acme", "copilot", aprilStart))?.pack_id, "pack-acme-1");

    // Before the retry is due: nothing runs again.
    now = MAY_1 + 29 * MINUTE;
    assert.deepEqual(await first.runDue(), []);
    await first.stop();

    // A restarted packer reads the runs back: the retry fails again (attempt 2, an hour later), then succeeds.
    const second = scheduleAt();
    now = MAY_1 + 31 * MINUTE;
    const retried = await second.runDue();
    assert.deepEqual(
      retried.map((r) => [r.tenant, r.state, r.attempts, r.next_attempt_at]),
      [["globex", "FAILED", 2, now + 60 * MINUTE]],
    );
    now += 61 * MINUTE;
    const third = await second.runDue();
    assert.deepEqual(
      third.map((r) => [r.tenant, r.state, r.attempts, r.pack_id]),
      [["globex", "SUCCEEDED", 3, `pack-globex-${calls.length}`]],
    );
    assert.deepEqual(await second.runDue(), [], "nothing is due once every pack is built");
    await second.stop();
    stored = await packRuns(topics.packRuns);
    assert.deepEqual([...stored.values()].map((r) => [r.tenant, r.state]).sort(), [
      ["acme", "SUCCEEDED"],
      ["globex", "SUCCEEDED"],
      ["initech", "SUCCEEDED"],
    ]);
    assert.equal(calls.length, 5, "3 packs, one of them tried 3 times");
  });
});

describe("the service's --once pass", () => {
  it("builds last month's pack of a connected tenant into the store, signed", async () => {
    const prefix = uniquePrefix("packer-once");
    const topics = await connected(prefix);
    const ch = await testClickHouse((fn) => cleanups.push(fn));
    const dir = mkdtempSync(join(tmpdir(), "aiaudit-packer-once-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const key = generateKeyPair();
    writeFileSync(join(dir, "key.pem"), privateKeyPem(key.privateKey), { mode: 0o600 });
    const config = loadConfig({
      KAFKA_TOPIC_PREFIX: prefix,
      KAFKA_BROKERS: process.env.KAFKA_BROKERS,
      PACKER_STORE_DIR: join(dir, "store"),
      PACKER_SIGNING_KEY_FILE: join(dir, "key.pem"),
    });
    const packer = createService(config, { logger, kafka, clickhouse: ch, now: () => MAY_1 });
    try {
      assert.equal(await packer.runOnce(), true);
    } finally {
      await packer.stop();
    }
    for (const [tenant, module] of [
      ["acme", "copilot"],
      ["globex", "openai_admin"],
      ["initech", "copilot"],
    ]) {
      const file = join(dir, "store", tenant as string, module as string, "pack-1.tar.gz");
      assert.ok(existsSync(file), file);
      const result = await verifyPack(file, { expectedPublicKey: key.publicKey });
      assert.ok(result.valid);
      assert.equal(result.manifest.period_start, "2026-04-01T00:00:00.000Z");
    }
    const runs = await packRuns(topics.packRuns);
    assert.equal([...runs.values()].filter((r) => r.state === "SUCCEEDED").length, 3);
  });
});
