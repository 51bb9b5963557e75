/**
 * Topic names, `<prefix>.<module>.<entity>.v<major>` (docs/design.md §3). A major version bump of a
 * value schema means a new topic; BACKWARD-compatible changes stay on the same one.
 */
export interface TopicSpec {
  name: string;
  /** Compacted topics keep the latest value per key (control topics). */
  compacted: boolean;
  /** @default 3 */
  partitions: number;
}

export function topicNames(prefix: string) {
  return {
    copilotSeats: `${prefix}.copilot.seats.v1`,
    copilotAuditEvents: `${prefix}.copilot.audit-events.v1`,
    copilotUsageRecords: `${prefix}.copilot.usage-records.v1`,
    copilotMetrics: `${prefix}.copilot.metrics.v1`,
    openaiUsers: `${prefix}.openai.users.v1`,
    openaiProjects: `${prefix}.openai.projects.v1`,
    openaiServiceAccounts: `${prefix}.openai.service-accounts.v1`,
    /** Project and admin API keys. */
    openaiApiKeys: `${prefix}.openai.api-keys.v1`,
    openaiAuditEvents: `${prefix}.openai.audit-events.v1`,
    cursors: `${prefix}.control.cursors.v1`,
    connections: `${prefix}.control.connections.v1`,
    /** Tenants and their API tokens (hashed). */
    tenants: `${prefix}.control.tenants.v1`,
    /** SIEM destinations of the tenants (secrets sealed). */
    destinations: `${prefix}.control.destinations.v1`,
    /** The packer's scheduled packs: succeeded, or failed and due again. */
    packRuns: `${prefix}.control.pack-runs.v1`,
    /** Every audit event of both modules as JSON (docs/siem.md), written exactly once per event. */
    siemAuditEventsJson: `${prefix}.siem.audit-events.json.v1`,
    dlq: `${prefix}.dlq.v1`,
  } as const;
}

export type TopicNames = ReturnType<typeof topicNames>;

/** The topics of the vendors' data (what the ClickHouse sink and the SIEM forwarders read). */
export function dataTopics(t: TopicNames): string[] {
  return [
    t.copilotAuditEvents,
    t.copilotSeats,
    t.copilotUsageRecords,
    t.copilotMetrics,
    t.openaiUsers,
    t.openaiProjects,
    t.openaiServiceAccounts,
    t.openaiApiKeys,
    t.openaiAuditEvents,
  ];
}

/** Topics whose values are not Avro: the dead letters (payloads as they were) and the SIEM JSON topic. */
export function nonAvroTopics(t: TopicNames): string[] {
  return [t.dlq, t.siemAuditEventsJson];
}

export function topicSpecs(prefix: string): TopicSpec[] {
  const t = topicNames(prefix);
  return [
    { name: t.copilotSeats, compacted: false, partitions: 3 },
    { name: t.copilotAuditEvents, compacted: false, partitions: 3 },
    { name: t.copilotUsageRecords, compacted: false, partitions: 3 },
    { name: t.copilotMetrics, compacted: false, partitions: 3 },
    { name: t.openaiUsers, compacted: false, partitions: 3 },
    { name: t.openaiProjects, compacted: false, partitions: 3 },
    { name: t.openaiServiceAccounts, compacted: false, partitions: 3 },
    { name: t.openaiApiKeys, compacted: false, partitions: 3 },
    { name: t.openaiAuditEvents, compacted: false, partitions: 3 },
    { name: t.cursors, compacted: true, partitions: 1 },
    // Ingest instances share the connections by partition (group protocol): room for 12 instances.
    { name: t.connections, compacted: true, partitions: 12 },
    { name: t.tenants, compacted: true, partitions: 1 },
    { name: t.packRuns, compacted: true, partitions: 1 },
    { name: t.destinations, compacted: true, partitions: 1 },
    { name: t.siemAuditEventsJson, compacted: false, partitions: 3 },
    { name: t.dlq, compacted: false, partitions: 1 },
  ];
}

/** Record keys: `tenant/org/<entity id>`, so one entity always lands on one partition. */
export function recordKey(tenant: string, org: string, entityId: string): string {
  return `${tenant}/${org}/${entityId}`;
}

/** Header names on dead-letter records. */
export const DlqHeaders = {
  reason: "aiaudit-dlq-reason",
  code: "aiaudit-dlq-code",
  sourceTopic: "aiaudit-dlq-source-topic",
  source: "aiaudit-dlq-source",
  at: "aiaudit-dlq-at",
} as const;
