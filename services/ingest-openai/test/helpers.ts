/** Settings every ingest-openai test starts from: the test broker, a topic prefix, one organization. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { codecs, topicNames, type OpenaiAuditEvent, type OpenaiSnapshotRecord } from "@aiaudit/contracts";
import type { KafkaClient } from "@aiaudit/kafka";
import { TEST_BROKERS, waitFor } from "@aiaudit/testing";

export const ORG_ID = "org-acme";
export const ADMIN_KEY = "sk-admin-testkey0000000000000000000000000000";

/** A file holding `key`, as OPENAI_ADMIN_KEY_FILE wants it. */
export function keyFile(key = ADMIN_KEY): string {
  const file = join(mkdtempSync(join(tmpdir(), "aiaudit-openai-")), "admin-key");
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return file;
}

export function ingestEnv(
  simUrl: string,
  prefix: string,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    KAFKA_BROKERS: TEST_BROKERS.join(","),
    KAFKA_TOPIC_PREFIX: prefix,
    TENANT_ID: "tenant-a",
    OPENAI_ORG_ID: ORG_ID,
    OPENAI_ADMIN_KEY_FILE: keyFile(),
    OPENAI_API_URL: `${simUrl}/v1`,
    PSEUDONYM_KEY: "44".repeat(32),
    OPENAI_MAX_RETRIES: "0",
    ...extra,
  };
}

/** The committed snapshot records of a topic, decoded. */
export async function snapshotRecords(kafka: KafkaClient, topic: string): Promise<OpenaiSnapshotRecord[]> {
  const records = await kafka.readTopic(topic);
  return records.map((r) => codecs.openaiSnapshot.decode(r.value ?? Buffer.alloc(0)));
}

/**
 * The rows of snapshot `snapshotId` on `topic`, read once it is complete: a read_committed reader
 * right after a commit may not see all of it yet (the commit markers reach each partition after
 * the producer's commit returned).
 */
export async function snapshotOf(kafka: KafkaClient, topic: string, snapshotId: string) {
  const records = await waitFor(
    `snapshot ${snapshotId} on ${topic}`,
    async () => {
      const all = (await snapshotRecords(kafka, topic)).filter((r) => r.snapshot_id === snapshotId);
      const end = all.find((r) => r.kind === "END");
      // Complete, as a consumer decides it: the END marker and as many rows as it counts.
      return end && all.filter((r) => r.kind === "ROW").length === end.row_count ? all : undefined;
    },
    20_000,
  );
  return {
    rows: records.filter((r) => r.kind === "ROW"),
    rowCount: records.find((r) => r.kind === "END")?.row_count,
  };
}

export async function auditEventsOf(kafka: KafkaClient, prefix: string): Promise<OpenaiAuditEvent[]> {
  const records = await kafka.readTopic(topicNames(prefix).openaiAuditEvents);
  return records.map((r) => codecs.openaiAuditEvent.decode(r.value ?? Buffer.alloc(0)));
}
