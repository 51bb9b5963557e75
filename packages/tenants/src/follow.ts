/**
 * A service's live view of the tenants topic: a consumer group of its own (a random id, so every
 * instance reads every record, unlike the ingest services that share the connections), read from
 * the beginning into a TenantDirectory and kept current. A new or revoked token reaches it within
 * a fetch (a second or so); a record that cannot be read is reported and skipped, never fatal.
 */
import { randomUUID } from "node:crypto";
import type { KafkaClient } from "@aiaudit/kafka";
import { TenantDirectory } from "./directory.ts";

export interface FollowedTenants {
  readonly directory: TenantDirectory;
  /** True once the group gave this member the topic (its records are then being read). */
  assigned(): boolean;
  stop(): Promise<void>;
}

export async function followTenants(options: {
  kafka: KafkaClient;
  /** The tenants topic, `<prefix>.control.tenants.v1`. */
  topic: string;
  /** A prefix of the group id, e.g. `aiaudit.packer`; a random suffix is added. */
  groupPrefix: string;
  /** A record that cannot be read. */
  onUnreadable(fields: { key: string | null; offset: string; err: unknown }): void;
}): Promise<FollowedTenants> {
  const directory = new TenantDirectory();
  let assigned = false;
  const follower = await options.kafka.followTopic({
    groupId: `${options.groupPrefix}.tenants.${randomUUID()}`,
    topic: options.topic,
    onAssignment(partitions) {
      assigned = partitions.length > 0;
    },
    handleBatch(batch) {
      for (const record of batch.records) {
        try {
          if (record.key === null) throw new Error("a record without a key");
          directory.apply(record.key, record.value);
        } catch (err) {
          options.onUnreadable({ key: record.key, offset: record.offset, err });
        }
      }
    },
  });
  return { directory, assigned: () => assigned, stop: () => follower.stop() };
}
