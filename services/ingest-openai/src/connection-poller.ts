/**
 * Everything ingest-openai does for one connected organization: its SDK client (the admin key)
 * and its streams, run by `@aiaudit/ingest`'s stream runner (a producer and a queue per stream,
 * retries with backoff, POLL_INTERVAL_SECONDS schedule). A rejected admin key (401) breaks the
 * connection; an organization whose audit logging is off is said so on the connection, and its
 * users, projects and keys go on being collected.
 */
import type { TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { isAiauditError } from "@aiaudit/errors";
import { createStreamRunner, type CursorStore, type StreamHealth } from "@aiaudit/ingest";
import type { KafkaClient } from "@aiaudit/kafka";
import { AUDIT_LOGGING_OFF, createOpenaiClient, REJECTED_ADMIN_KEY } from "@aiaudit/openai-connect";
import type { IngestOpenaiConfig } from "./config.ts";
import {
  listAdminApiKeys,
  listProjectApiKeys,
  listProjects,
  listServiceAccounts,
  listUsers,
  projectRefs,
} from "./source/organization.ts";
import { createAuditStream, type AuditPollResult } from "./streams/audit-events.ts";
import {
  createSnapshotStream,
  type SnapshotPollResult,
  type SnapshotStreamSettings,
} from "./streams/snapshot.ts";
import { toApiKeyRow, toProjectRow, toServiceAccountRow, toUserRow } from "./transforms/organization.ts";
import type { Telemetry } from "./telemetry.ts";

export type { StreamHealth };

export interface ConnectionSpec {
  tenant: string;
  connectionId: string;
  /** The OpenAI organization id (org-…). */
  orgId: string;
  baseUrl: string;
  adminKey: string;
}

export interface PollerDeps {
  config: IngestOpenaiConfig;
  kafka: KafkaClient;
  topics: TopicNames;
  pseudonymizer: Pseudonymizer;
  cursorStore: CursorStore;
  ready: () => Promise<void>;
  telemetry: Telemetry;
  onBroken: (message: string) => void;
  /** Sets or clears the connection's status message (audit logging switched off). */
  onNote: (message: string | null) => void;
}

export type StreamName =
  | "openai.users"
  | "openai.projects"
  | "openai.service-accounts"
  | "openai.project-api-keys"
  | "openai.admin-api-keys"
  | "openai.audit-events";

export interface ConnectionPoller {
  readonly spec: ConnectionSpec;
  start(): void;
  pollUsers(): Promise<SnapshotPollResult>;
  pollProjects(): Promise<SnapshotPollResult>;
  pollServiceAccounts(): Promise<SnapshotPollResult>;
  pollProjectApiKeys(): Promise<SnapshotPollResult>;
  pollAdminApiKeys(): Promise<SnapshotPollResult>;
  pollAuditEvents(): Promise<AuditPollResult>;
  pollAll(): Promise<boolean>;
  health(): ReadonlyMap<StreamName, StreamHealth>;
  stop(): Promise<void>;
}

export function createConnectionPoller(spec: ConnectionSpec, deps: PollerDeps): ConnectionPoller {
  const { config, telemetry: events } = deps;
  const client = createOpenaiClient({
    baseUrl: spec.baseUrl,
    adminKey: spec.adminKey,
    timeoutMs: config.OPENAI_REQUEST_TIMEOUT_SECONDS * 1000,
    maxRetries: config.OPENAI_MAX_RETRIES,
  });
  const list = { limit: config.OPENAI_PAGE_LIMIT };
  const runner = createStreamRunner<StreamName>({
    connectionId: spec.connectionId,
    transactionalIdPrefix: `${config.KAFKA_TOPIC_PREFIX}.ingest-openai.${spec.tenant}.${spec.connectionId}`,
    kafka: deps.kafka,
    topics: deps.topics,
    pseudonymizer: deps.pseudonymizer,
    cursorStore: deps.cursorStore,
    ready: deps.ready,
    telemetry: events,
    pollIntervalMs: config.POLL_INTERVAL_SECONDS * 1000,
    retryFirstMs: config.POLL_RETRY_FIRST_SECONDS * 1000,
    onUnauthorized: () => deps.onBroken(REJECTED_ADMIN_KEY),
    // The connection's status message says whether the audit log can be read; the connections
    // write it only when it changes.
    onFailure(stream, err) {
      if (!isAiauditError(err, "AUDIT_LOG_DISABLED")) return;
      events.auditLogDisabled({ connection: spec.connectionId });
      deps.onNote(AUDIT_LOGGING_OFF);
    },
    onSuccess(stream) {
      if (stream === "openai.audit-events") deps.onNote(null);
    },
  });

  const p = deps.pseudonymizer;
  /** A snapshot stream of this connection, registered with the runner; returns its poll. */
  const snapshot = (
    settings: Omit<SnapshotStreamSettings, "tenant" | "connectionId" | "org"> & { stream: StreamName },
  ) => {
    const poll = createSnapshotStream(
      { ...settings, tenant: spec.tenant, connectionId: spec.connectionId, org: spec.orgId },
      runner.base(settings.stream),
    );
    runner.add(settings.stream, poll);
    return () => runner.run(settings.stream, poll);
  };
  const t = deps.topics;
  const pollUsers = snapshot({
    stream: "openai.users",
    entity: "USERS",
    topic: t.openaiUsers,
    source: "openai:GET /organization/users",
    kind: "openai-user",
    read: async (now) =>
      (await listUsers(client, list)).map((raw) => ({ raw, result: toUserRow(raw, p, now) })),
  });
  const pollProjects = snapshot({
    stream: "openai.projects",
    entity: "PROJECTS",
    topic: t.openaiProjects,
    source: "openai:GET /organization/projects",
    kind: "openai-project",
    read: async (now) =>
      (await listProjects(client, list)).map((raw) => ({ raw, result: toProjectRow(raw, now) })),
  });
  const pollServiceAccounts = snapshot({
    stream: "openai.service-accounts",
    entity: "SERVICE_ACCOUNTS",
    topic: t.openaiServiceAccounts,
    source: "openai:GET /organization/projects/{project_id}/service_accounts",
    kind: "openai-service-account",
    read: async (now) =>
      (await listServiceAccounts(client, await projectRefs(client, list), list)).flatMap(
        ({ projectId, accounts }) =>
          accounts.map((raw) => ({ raw, result: toServiceAccountRow(raw, projectId, now) })),
      ),
  });
  const pollProjectApiKeys = snapshot({
    stream: "openai.project-api-keys",
    entity: "PROJECT_API_KEYS",
    topic: t.openaiApiKeys,
    source: "openai:GET /organization/projects/{project_id}/api_keys",
    kind: "openai-api-key",
    read: async (now) =>
      (await listProjectApiKeys(client, await projectRefs(client, list), list)).flatMap(
        ({ projectId, keys }) => keys.map((raw) => ({ raw, result: toApiKeyRow(raw, projectId, p, now) })),
      ),
  });
  const pollAdminApiKeys = snapshot({
    stream: "openai.admin-api-keys",
    entity: "ADMIN_API_KEYS",
    topic: t.openaiApiKeys,
    source: "openai:GET /organization/admin_api_keys",
    kind: "openai-api-key",
    read: async (now) =>
      (await listAdminApiKeys(client, list)).map((raw) => ({ raw, result: toApiKeyRow(raw, null, p, now) })),
  });
  const auditEvents = createAuditStream(
    client,
    {
      tenant: spec.tenant,
      connectionId: spec.connectionId,
      org: spec.orgId,
      stream: "openai.audit-events",
      limit: config.OPENAI_PAGE_LIMIT,
      maxEvents: config.AUDIT_SLICE_MAX_EVENTS,
      overlapMs: config.AUDIT_OVERLAP_MINUTES * 60_000,
      initialLookbackMs: config.AUDIT_INITIAL_LOOKBACK_DAYS * 86_400_000,
      onSplit: (fromMs, toMs, read) =>
        events.auditSliceSplit({
          org: spec.orgId,
          from: new Date(fromMs).toISOString(),
          to: new Date(toMs).toISOString(),
          events: read,
        }),
    },
    runner.base("openai.audit-events"),
  );
  runner.add("openai.audit-events", auditEvents);

  return {
    spec,
    start: runner.start,
    pollUsers,
    pollProjects,
    pollServiceAccounts,
    pollProjectApiKeys,
    pollAdminApiKeys,
    pollAuditEvents: () => runner.run("openai.audit-events", auditEvents),
    pollAll: runner.pollAll,
    health: runner.health,
    stop: runner.stop,
  };
}
