/**
 * The connection record written by `aiaudit connect openai`: the admin key sealed, never in
 * clear, bound to its tenant and connection id (a sealed key copied to another connection does
 * not open). OpenAI organizations are always kind ORGANIZATION, with the organization id as slug.
 */
import type { ConnectionRecord } from "@aiaudit/contracts";
import { sealContext, sealSecret } from "@aiaudit/crypto";

/** `openai-org-abc123`: one connection per organization and tenant, whatever the id's case. */
export function openaiConnectionId(orgId: string): string {
  return `openai-${orgId.toLowerCase()}`;
}

export interface NewOpenaiConnection {
  tenant: string;
  /** The organization id, `org-…` (Settings → Organization → General). */
  orgId: string;
  /** A name for people to tell connections apart; null: the org id is shown. */
  name?: string | null;
  /** The API base URL with its `/v1`. */
  baseUrl: string;
  adminKey: string;
  /** The 32-byte key the ingest service opens credentials with. */
  secretsKey: Buffer;
  now: number;
}

export function openaiConnection(input: NewOpenaiConnection): ConnectionRecord {
  const connectionId = openaiConnectionId(input.orgId);
  return {
    tenant: input.tenant,
    connection_id: connectionId,
    vendor: "OPENAI",
    kind: "ORGANIZATION",
    slug: input.orgId,
    base_url: input.baseUrl,
    sealed_token: sealSecret(input.secretsKey, input.adminKey, sealContext(input.tenant, connectionId)),
    status: "ACTIVE",
    status_message: null,
    token_expires_at: null,
    scopes: [],
    keep_usage_content: false,
    display_name: input.name ?? null,
    created_at: input.now,
    updated_at: input.now,
  };
}
