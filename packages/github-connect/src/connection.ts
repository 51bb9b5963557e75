/** The connection record written by `aiaudit connect copilot`: the token sealed, never in clear. */
import type { ConnectionRecord } from "@aiaudit/contracts";
import { sealContext, sealSecret } from "@aiaudit/crypto";

export function githubConnectionId(kind: "ORGANIZATION" | "ENTERPRISE", slug: string): string {
  return `github-${kind === "ENTERPRISE" ? "enterprise" : "org"}-${slug.toLowerCase()}`;
}

export interface NewConnection {
  tenant: string;
  kind: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  baseUrl: string;
  token: string;
  secretsKey: Buffer;
  scopes: string[];
  expiresAt: number | null;
  keepUsageContent: boolean;
  now: number;
}

export function githubConnection(input: NewConnection): ConnectionRecord {
  const connectionId = githubConnectionId(input.kind, input.slug);
  return {
    tenant: input.tenant,
    connection_id: connectionId,
    vendor: "GITHUB",
    kind: input.kind,
    slug: input.slug,
    base_url: input.baseUrl,
    sealed_token: sealSecret(input.secretsKey, input.token, sealContext(input.tenant, connectionId)),
    status: "ACTIVE",
    status_message: null,
    token_expires_at: input.expiresAt,
    scopes: input.scopes,
    keep_usage_content: input.keepUsageContent,
    display_name: null,
    created_at: input.now,
    updated_at: input.now,
  };
}
