/**
 * The tenants topic for `aiaudit tenants` and `aiaudit tokens`: read whole into a TenantDirectory
 * (@aiaudit/tenants, the view the services follow), and tenant and token records written in one
 * transaction. A token is written as its record only (the SHA-256, never the token); revoking
 * writes the same record with revoked_at, never a tombstone, so the list keeps who had access.
 */
import type { Env } from "@aiaudit/config";
import { codecs, topicNames, type ApiTokenRecord, type TenantRecord } from "@aiaudit/contracts";
import { describeError } from "@aiaudit/errors";
import { TenantDirectory, tenantKey, tokenKey } from "@aiaudit/tenants";
import { kafkaFromEnv, publishRecords, readCompacted } from "./connections.ts";

export interface TenantsRead {
  directory: TenantDirectory;
  /** Records that could not be read: shown as notes, never fatal. */
  problems: string[];
}

/** Every tenant and token on the topic; a topic not created yet holds none. */
export async function readTenants(env: Env): Promise<TenantsRead> {
  const { kafka, prefix } = kafkaFromEnv(env);
  const { latest } = await readCompacted(kafka, topicNames(prefix).tenants);
  const directory = new TenantDirectory();
  const problems: string[] = [];
  for (const [key, record] of latest) {
    try {
      directory.apply(key, record.value);
    } catch (err) {
      problems.push(
        `${record.topic} offset ${record.offset} (key ${key}) cannot be read: ${describeError(err)}`,
      );
    }
  }
  return { directory, problems };
}

/** A tenant's record and/or token records, published together (one transaction). */
export async function publishTenantRecords(
  env: Env,
  tenant: string,
  records: { tenant?: TenantRecord; tokens?: ApiTokenRecord[] },
): Promise<void> {
  await publishRecords(env, `tenants.${tenant}`, (topics) => [
    ...(records.tenant
      ? [{ topic: topics.tenants, key: tenantKey(tenant), value: codecs.tenant.encode(records.tenant) }]
      : []),
    ...(records.tokens ?? []).map((token) => ({
      topic: topics.tenants,
      key: tokenKey(token.tenant, token.token_id),
      value: codecs.apiToken.encode(token),
    })),
  ]);
}
