/**
 * Connections as the console sees and changes them: the compacted connections and cursors topics
 * followed live (a consumer group of this instance's own, read from the beginning, like the
 * tenants), and connect / disconnect written as `aiaudit connect` and `aiaudit disconnect` write
 * them — the same probe and the same words, the secret sealed with SECRETS_KEY, then published in
 * one Kafka transaction. A secret is never kept, logged or returned: the view of a connection
 * holds its state, never its sealed token.
 */
import { randomUUID } from "node:crypto";
import { z } from "zod";
import { codecs, parseSeenBucketKey, type ConnectionRecord, type StreamCursor } from "@aiaudit/contracts";
import { githubConnection, probeGithub } from "@aiaudit/github-connect";
import type { IncomingRecord, KafkaClient, RunningConsumer } from "@aiaudit/kafka";
import { checkAdminKeyShape, OPENAI_API_URL, openaiConnection, probeOpenai } from "@aiaudit/openai-connect";
import type { Module } from "./tables.ts";

/** GitHub organization and enterprise names: letters, digits and single dashes (as the CLI). */
const SLUG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$/;
/** OpenAI organization ids (as the CLI). */
const ORG_ID = /^org-[A-Za-z0-9_-]{1,96}$/;

const baseUrl = (example: string) =>
  z
    .url({ protocol: /^https?$/, error: `base_url must be an http(s) URL, e.g. ${example}` })
    .refine((u) => !/^[a-z]+:\/\/[^/]*@/i.test(u), "base_url must not hold credentials")
    .refine((u) => !/[?#]/.test(u), "base_url must not have a query or fragment")
    .transform((u) => u.replace(/\/+$/, ""));

export const connectCopilotBody = z.strictObject({
  kind: z.enum(["organization", "enterprise"], { error: "kind must be organization or enterprise" }),
  slug: z
    .string({ error: "slug is required: the GitHub organization or enterprise name" })
    .regex(SLUG, "slug is not a GitHub name: letters, digits and dashes"),
  token: z
    .string({ error: "token is required: a PAT or app token with the permissions listed" })
    .trim()
    .min(1, "token is empty")
    .max(512, "token is longer than any GitHub token"),
  base_url: baseUrl("https://api.github.com or https://HOST/api/v3 for GHES").default(
    "https://api.github.com",
  ),
  keep_usage_content: z.boolean().default(false),
});

export const connectOpenaiBody = z.strictObject({
  org_id: z
    .string({ error: "org_id is required: the organization id, org-… (Settings → Organization → General)" })
    .regex(ORG_ID, "org_id is not an OpenAI organization id: org- and letters and digits"),
  name: z
    .string()
    .trim()
    .min(1, "name is empty: leave it out to show the organization id")
    .max(200)
    .optional(),
  admin_key: z
    .string({ error: "admin_key is required: an Organization Admin Key, sk-admin-…" })
    .trim()
    .min(1, "admin_key is empty")
    .max(512, "admin_key is longer than any OpenAI key"),
  base_url: baseUrl("https://api.openai.com/v1").default(OPENAI_API_URL),
});

export type ConnectCopilot = z.infer<typeof connectCopilotBody>;
export type ConnectOpenai = z.infer<typeof connectOpenaiBody>;

/** What the console says of a connection. */
export interface ConnectionView {
  connection_id: string;
  module: Module;
  kind: "organization" | "enterprise";
  slug: string;
  display_name: string | null;
  base_url: string;
  state: "ACTIVE" | "BROKEN";
  /** Why it is BROKEN, or a warning on an ACTIVE one (e.g. OpenAI audit logging off). */
  message: string | null;
  connected_at: string;
  token_expires_at: string | null;
  /** The newest successful poll of any of its streams; null before the first. */
  last_pull_at: string | null;
  /** When ingest polls it next (last pull + POLL_INTERVAL_SECONDS); null before the first pull. */
  next_pull_at: string | null;
  streams: { stream: string; last_pull_at: string }[];
}

export type ConnectResult =
  { ok: true; connection: ConnectionView } | { ok: false; status: number; message: string };

export interface Connections {
  list(tenant: string): ConnectionView[];
  get(tenant: string, connectionId: string): ConnectionView | undefined;
  connectCopilot(tenant: string, body: ConnectCopilot): Promise<ConnectResult>;
  connectOpenai(tenant: string, body: ConnectOpenai): Promise<ConnectResult>;
  /** False when the tenant has no such connection. */
  disconnect(tenant: string, connectionId: string): Promise<boolean>;
  stop(): Promise<void>;
}

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

export async function followConnections(options: {
  kafka: KafkaClient;
  topics: { connections: string; cursors: string };
  /** The transactional id of this instance's writes. */
  producerId: string;
  groupPrefix: string;
  secretsKey: Buffer | undefined;
  pollIntervalSeconds: number;
  onUnreadable(fields: { topic: string; key: string | null; offset: string; err: unknown }): void;
  /** @default Date.now */
  now?: () => number;
}): Promise<Connections> {
  const now = options.now ?? Date.now;
  const connections = new Map<string, ConnectionRecord>();
  /** Per connection key (`tenant/connection`): stream → last successful poll. */
  const polls = new Map<string, Map<string, number>>();

  const apply = (record: IncomingRecord, read: (key: string, value: Buffer | null) => void) => {
    try {
      if (record.key === null) throw new Error("a record without a key");
      read(record.key, record.value);
    } catch (err) {
      options.onUnreadable({ topic: record.topic, key: record.key, offset: record.offset, err });
    }
  };
  const follow = (
    topic: string,
    read: (key: string, value: Buffer | null) => void,
  ): Promise<RunningConsumer> =>
    options.kafka.followTopic({
      groupId: `${options.groupPrefix}.${topic}.${randomUUID()}`,
      topic,
      handleBatch(batch) {
        for (const record of batch.records) apply(record, read);
      },
    });

  const followers = [
    await follow(options.topics.connections, (key, value) => {
      if (value === null) connections.delete(key);
      else connections.set(key, codecs.connection.decode(value));
    }),
    await follow(options.topics.cursors, (key, value) => {
      if (parseSeenBucketKey(key) !== undefined || value === null) return;
      const cursor: StreamCursor = codecs.cursor.decode(value);
      const owner = `${cursor.tenant}/${cursor.connection}`;
      const streams = polls.get(owner) ?? new Map<string, number>();
      streams.set(cursor.stream, cursor.updated_at);
      polls.set(owner, streams);
    }),
  ];

  function view(record: ConnectionRecord): ConnectionView {
    const streams = [...(polls.get(`${record.tenant}/${record.connection_id}`) ?? new Map<string, number>())]
      .map(([stream, at]) => ({ stream, at }))
      .sort((a, b) => a.stream.localeCompare(b.stream));
    const last = streams.length === 0 ? null : Math.max(...streams.map((s) => s.at));
    return {
      connection_id: record.connection_id,
      module: record.vendor === "GITHUB" ? "copilot" : "openai",
      kind: record.kind === "ENTERPRISE" ? "enterprise" : "organization",
      slug: record.slug,
      display_name: record.display_name,
      base_url: record.base_url,
      state: record.status,
      message: record.status_message,
      connected_at: new Date(record.created_at).toISOString(),
      token_expires_at: iso(record.token_expires_at),
      last_pull_at: iso(last),
      next_pull_at: iso(last === null ? null : last + options.pollIntervalSeconds * 1000),
      streams: streams.map((s) => ({ stream: s.stream, last_pull_at: new Date(s.at).toISOString() })),
    };
  }

  async function publish(tenant: string, connectionId: string, value: Buffer | null): Promise<void> {
    const producer = await options.kafka.transactionalProducer(options.producerId);
    try {
      await producer.transaction((tx) =>
        tx.send([{ topic: options.topics.connections, key: `${tenant}/${connectionId}`, value }]),
      );
    } finally {
      await producer.disconnect();
    }
  }

  const NO_KEY: ConnectResult = {
    ok: false,
    status: 503,
    message: "not connected: SECRETS_KEY is not set on the console, so it cannot seal the secret",
  };

  /** Published, then shown at once (the follower sees it within a fetch). */
  async function connected(record: ConnectionRecord): Promise<ConnectResult> {
    await publish(record.tenant, record.connection_id, codecs.connection.encode(record));
    connections.set(`${record.tenant}/${record.connection_id}`, record);
    return { ok: true, connection: view(record) };
  }

  return {
    list: (tenant) =>
      [...connections.values()]
        .filter((c) => c.tenant === tenant)
        .sort((a, b) => a.connection_id.localeCompare(b.connection_id))
        .map(view),
    get(tenant, connectionId) {
      const record = connections.get(`${tenant}/${connectionId}`);
      return record && view(record);
    },
    async connectCopilot(tenant, body) {
      const secretsKey = options.secretsKey;
      if (secretsKey === undefined) return NO_KEY;
      const kind = body.kind === "enterprise" ? "ENTERPRISE" : "ORGANIZATION";
      const probe = await probeGithub({ baseUrl: body.base_url, token: body.token, kind, slug: body.slug });
      if (!probe.ok) return { ok: false, status: 422, message: `not connected: ${probe.message}` };
      return connected(
        githubConnection({
          tenant,
          kind,
          slug: body.slug,
          baseUrl: body.base_url,
          token: body.token,
          secretsKey,
          scopes: probe.scopes,
          expiresAt: probe.expiresAt,
          keepUsageContent: body.keep_usage_content,
          now: now(),
        }),
      );
    },
    async connectOpenai(tenant, body) {
      const secretsKey = options.secretsKey;
      if (secretsKey === undefined) return NO_KEY;
      const shape = checkAdminKeyShape(body.admin_key);
      if (!shape.ok) return { ok: false, status: 422, message: `not connected: ${shape.message}` };
      const probe = await probeOpenai({ baseUrl: body.base_url, adminKey: body.admin_key });
      if (!probe.ok) return { ok: false, status: 422, message: `not connected: ${probe.message}` };
      return connected(
        openaiConnection({
          tenant,
          orgId: body.org_id,
          name: body.name ?? null,
          baseUrl: body.base_url,
          adminKey: body.admin_key,
          secretsKey,
          now: now(),
        }),
      );
    },
    async disconnect(tenant, connectionId) {
      const key = `${tenant}/${connectionId}`;
      if (!connections.has(key)) return false;
      await publish(tenant, connectionId, null);
      connections.delete(key);
      return true;
    },
    async stop() {
      await Promise.all(followers.map((f) => f.stop()));
    },
  };
}
