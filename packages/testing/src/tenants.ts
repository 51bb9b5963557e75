/**
 * Tenants and tokens for tests of the HTTP APIs: the records `aiaudit tenants create` writes (a
 * tenant and its first token), and a transactional publish of control records to a topic.
 */
import { randomBytes } from "node:crypto";
import { codecs } from "@aiaudit/contracts";
import type { KafkaClient } from "@aiaudit/kafka";
import { createToken, tenantKey, tokenKey } from "@aiaudit/tenants";

export interface ControlRecord {
  key: string;
  value: Buffer | null;
}

/** A tenant and a new token of it: the token, and the records that make both known. */
export function tenantWithToken(tenant: string): { token: string; records: ControlRecord[] } {
  const made = createToken(tenant, "test");
  return {
    token: made.token,
    records: [
      { key: tenantKey(tenant), value: codecs.tenant.encode({ tenant, display_name: null, created_at: 1 }) },
      { key: tokenKey(tenant, made.record.token_id), value: codecs.apiToken.encode(made.record) },
    ],
  };
}

/** The record that revokes the token of `records` (tenantWithToken's). */
export function revocation(records: ControlRecord[]): ControlRecord {
  const token = records[1];
  if (token?.value == null) throw new Error("no token record");
  const record = codecs.apiToken.decode(token.value);
  return { key: token.key, value: codecs.apiToken.encode({ ...record, revoked_at: 2 }) };
}

/** Publishes records to `topic` in one Kafka transaction. */
export async function publishControl(
  kafka: KafkaClient,
  topic: string,
  records: ControlRecord[],
): Promise<void> {
  const producer = await kafka.transactionalProducer(`test.control.${randomBytes(6).toString("hex")}`);
  try {
    await producer.transaction((tx) => tx.send(records.map((r) => ({ topic, ...r }))));
  } finally {
    await producer.disconnect();
  }
}

/** A request to one of our HTTP APIs: a bearer token unless `token` is null, a JSON body by default. */
export function apiCall(
  url: string,
  options: { method?: string; token: string | null; body?: string; contentType?: string },
): Promise<Response> {
  const headers: Record<string, string> = {};
  if (options.token !== null) headers.authorization = `Bearer ${options.token}`;
  if (options.body !== undefined) headers["content-type"] = options.contentType ?? "application/json";
  return fetch(url, {
    method: options.method ?? (options.body === undefined ? "GET" : "POST"),
    headers,
    ...(options.body === undefined ? {} : { body: options.body }),
  });
}
