/** TypeScript shapes of the Avro records, mirroring `schemas/avro/*.avsc` field by field. */
import { createCodec, loadSchema } from "./avro.ts";

export type SnapshotRecordKind = "BEGIN" | "ROW" | "END" | "UNCHANGED";

export interface CopilotSeat {
  seat_id: string;
  assignee_pseudonym: string;
  assignee_type: string | null;
  organization: string | null;
  assigning_team: string | null;
  plan_type: string;
  created_at: number;
  pending_cancellation_date: string | null;
  last_activity_at: number | null;
  last_activity_editor: string | null;
  last_authenticated_at: number | null;
  updated_at: number | null;
}

export interface CopilotSeatSnapshotRecord {
  kind: SnapshotRecordKind;
  tenant: string;
  org: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  snapshot_id: string;
  taken_at: number;
  row_count: number | null;
  total_seats: number | null;
  pseudonym_key_id: string;
  seat: CopilotSeat | null;
}

export interface StreamCursor {
  tenant: string;
  connection: string;
  stream: string;
  cursor: string | null;
  last_snapshot_id: string | null;
  updated_at: number;
}

export interface CopilotAuditEvent {
  event_id: string;
  tenant: string;
  org: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  action: string;
  created_at: number;
  actor_pseudonym: string | null;
  actor_agent: string | null;
  actor_is_agent: boolean;
  agent_session_id: string | null;
  user_pseudonym: string | null;
  actor_country_code: string | null;
  business: string | null;
  event_org: string | null;
  raw_json: string;
  pseudonym_key_id: string;
  ingested_at: number;
}

export interface ConnectionRecord {
  tenant: string;
  connection_id: string;
  vendor: "GITHUB" | "OPENAI";
  kind: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  base_url: string;
  sealed_token: { alg: string; kid: string; nonce: string; ciphertext: string; tag: string };
  status: "ACTIVE" | "BROKEN";
  status_message: string | null;
  token_expires_at: number | null;
  scopes: string[];
  keep_usage_content: boolean;
  display_name: string | null;
  created_at: number;
  updated_at: number;
}

/** Modules a destination can be limited to (its `modules`). */
export const DESTINATION_MODULES = ["copilot", "openai"] as const;
/** Record kinds a destination can be limited to (its `kinds`). */
export const DESTINATION_KINDS = [
  "audit_event",
  "seat",
  "usage_record",
  "metrics_row",
  "user",
  "project",
  "service_account",
  "api_key",
] as const;

export interface DestinationRecord {
  tenant: string;
  destination_id: string;
  kind: "WEBHOOK" | "SPLUNK_HEC";
  url: string;
  sealed_secret: { alg: string; kid: string; nonce: string; ciphertext: string; tag: string };
  modules: string[];
  kinds: string[];
  event_types: string[];
  allow_private: boolean;
  splunk_index: string | null;
  created_at: number;
}

export interface CopilotUsageRecord {
  record_id: string;
  tenant: string;
  enterprise: string;
  type: string;
  user_pseudonym: string | null;
  enterprise_id: number | null;
  github_request_id: string | null;
  endpoint: string | null;
  created_at: number;
  truncated: boolean;
  model: string | null;
  tool_names: string[];
  body_hmac: string;
  body_length: number;
  body_digest_json: string;
  body: string | null;
  pseudonym_key_id: string;
  ingested_at: number;
}

export interface CopilotMetricsRow {
  row_id: string;
  tenant: string;
  org: string;
  scope: "ORGANIZATION" | "ENTERPRISE";
  report: string;
  day: string;
  user_pseudonym: string | null;
  row_json: string;
  pseudonym_key_id: string;
  ingested_at: number;
}

export type OpenaiEntity = "USERS" | "PROJECTS" | "SERVICE_ACCOUNTS" | "PROJECT_API_KEYS" | "ADMIN_API_KEYS";

export interface OpenaiUser {
  user_id: string;
  email_pseudonym: string | null;
  email_domain: string | null;
  email_display: string | null;
  role: string | null;
  added_at: number;
  is_service_account: boolean;
  is_scim_managed: boolean | null;
  api_key_last_used_at: number | null;
}

export interface OpenaiProject {
  project_id: string;
  name: string | null;
  status: string;
  created_at: number;
  archived_at: number | null;
  residency: string | null;
}

export interface OpenaiServiceAccount {
  service_account_id: string;
  project_id: string;
  name: string | null;
  role: string | null;
  created_at: number;
}

export interface OpenaiApiKey {
  key_id: string;
  key_type: "PROJECT" | "ADMIN";
  project_id: string | null;
  name: string | null;
  redacted_value: string;
  owner_type: string | null;
  owner_id: string | null;
  owner_pseudonym: string | null;
  owner_role: string | null;
  owner_project_access: string | null;
  created_at: number;
  last_used_at: number | null;
  expires_at: number | null;
}

/** One entity of an OpenAI snapshot: exactly one of these fields is set on a ROW. */
export interface OpenaiSnapshotRow {
  user: OpenaiUser | null;
  project: OpenaiProject | null;
  service_account: OpenaiServiceAccount | null;
  api_key: OpenaiApiKey | null;
}

export interface OpenaiSnapshotRecord extends OpenaiSnapshotRow {
  kind: "BEGIN" | "ROW" | "END";
  entity: OpenaiEntity;
  tenant: string;
  org: string;
  snapshot_id: string;
  taken_at: number;
  row_count: number | null;
  pseudonym_key_id: string;
}

export interface OpenaiAuditEvent {
  event_id: string;
  tenant: string;
  org: string;
  type: string;
  effective_at: number;
  project_id: string | null;
  project_name: string | null;
  actor_type: string | null;
  actor_pseudonym: string | null;
  actor_user_id: string | null;
  actor_api_key_id: string | null;
  actor_service_account_id: string | null;
  actor_ip_pseudonym: string | null;
  resource_id: string | null;
  raw_json: string;
  pseudonym_key_id: string;
  ingested_at: number;
}

export interface TenantRecord {
  tenant: string;
  display_name: string | null;
  created_at: number;
}

export interface ApiTokenRecord {
  tenant: string;
  token_id: string;
  name: string | null;
  token_sha256: string;
  created_at: number;
  revoked_at: number | null;
}

export interface PackRunRecord {
  tenant: string;
  module: "copilot" | "openai_admin";
  period_start: number;
  period_end: number;
  state: "SUCCEEDED" | "FAILED";
  attempts: number;
  last_error: string | null;
  next_attempt_at: number | null;
  pack_id: string | null;
  sequence: number | null;
  updated_at: number;
}

export const codecs = {
  openaiSnapshot: createCodec<OpenaiSnapshotRecord>(loadSchema("openai-snapshot.avsc")),
  openaiAuditEvent: createCodec<OpenaiAuditEvent>(loadSchema("openai-audit-event.avsc")),
  copilotMetricsRow: createCodec<CopilotMetricsRow>(loadSchema("copilot-metrics-row.avsc")),
  copilotUsageRecord: createCodec<CopilotUsageRecord>(loadSchema("copilot-usage-record.avsc")),
  connection: createCodec<ConnectionRecord>(loadSchema("connection.avsc")),
  destination: createCodec<DestinationRecord>(loadSchema("destination.avsc")),
  copilotAuditEvent: createCodec<CopilotAuditEvent>(loadSchema("copilot-audit-event.avsc")),
  copilotSeatSnapshot: createCodec<CopilotSeatSnapshotRecord>(loadSchema("copilot-seat-snapshot.avsc")),
  cursor: createCodec<StreamCursor>(loadSchema("cursor.avsc")),
  tenant: createCodec<TenantRecord>(loadSchema("tenant.avsc")),
  apiToken: createCodec<ApiTokenRecord>(loadSchema("api-token.avsc")),
  packRun: createCodec<PackRunRecord>(loadSchema("pack-run.avsc")),
};
