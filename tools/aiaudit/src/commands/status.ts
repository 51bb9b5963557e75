/**
 * aiaudit status: what the pipeline knows of itself, read from where the services keep it — the
 * connections (compacted connections topic: ACTIVE, or BROKEN with the reason; an ACTIVE one may carry a
 * message too, e.g. an OpenAI organization whose audit logging is off), each stream's
 * cursor (compacted cursors topic: `updated_at` is the last successful poll, the cursor's
 * `highWaterMs`, when it has one, the newest record published), the packer's monthly evidence packs
 * (compacted pack-runs topic: SUCCEEDED, or FAILED and due again) and the rows in ClickHouse. It
 * changes nothing, not even the topics: a mistyped KAFKA_TOPIC_PREFIX shows as "no topic".
 */
import {
  codecs,
  dataTopics,
  parseSeenBucketKey,
  topicNames,
  type ConnectionRecord,
  type PackRunRecord,
  type StreamCursor,
} from "@aiaudit/contracts";
import { describeError } from "@aiaudit/errors";
import type { IncomingRecord } from "@aiaudit/kafka";
import { clickhouseFromEnv } from "../clickhouse.ts";
import { kafkaFromEnv, readCompacted } from "../connections.ts";
import { parseOptions, tenantOption, type Command, type Io } from "../io.ts";

export const status: Command = {
  path: ["status"],
  summary:
    "connections and their state, each stream's last poll and lag, the monthly evidence packs, SIEM destinations and how far behind each is, rows per ClickHouse table",
  usage: `usage: aiaudit status [--tenant T] [--json]
  --tenant T   only this tenant's connections, evidence packs and rows
  --json       one JSON document instead of text
reads KAFKA_BROKERS / KAFKA_TOPIC_PREFIX, SNAPSHOTTER_GROUP_ID (its destinations' groups) and CLICKHOUSE_URL
(or the embedded engine), like the services`,
  run,
};

export interface StreamStatus {
  stream: string;
  /** The last successful poll (the cursor's updated_at). */
  last_poll_at: string;
  /** The newest record published (the cursor's highWaterMs), when the stream keeps one. */
  cursor_at: string | null;
  /** now − cursor_at. */
  lag_seconds: number | null;
}

export interface ConnectionStatus {
  tenant: string;
  connection_id: string;
  /** null: cursors without a connection record (GITHUB_ORG of an ingest instance, or disconnected). */
  state: "ACTIVE" | "BROKEN" | null;
  /** What to do about the connection: why it is BROKEN, or a warning on an ACTIVE one. */
  message: string | null;
  vendor: "GITHUB" | "OPENAI" | null;
  kind: "ORGANIZATION" | "ENTERPRISE" | null;
  /** GitHub organization or enterprise slug; OpenAI organization id. */
  slug: string | null;
  display_name: string | null;
  base_url: string | null;
  token_expires_at: string | null;
  streams: StreamStatus[];
}

/** One scheduled evidence pack (a tenant, module and month), as the packer last left it. */
export interface PackRunStatus {
  tenant: string;
  module: PackRunRecord["module"];
  /** The month, YYYY-MM (UTC), of period_start. */
  period: string;
  period_start: string;
  period_end: string;
  /** SUCCEEDED: the pack is in the store; FAILED: the last attempt failed, another is due. */
  state: PackRunRecord["state"];
  attempts: number;
  last_error: string | null;
  next_attempt_at: string | null;
  pack_id: string | null;
  sequence: number | null;
  /** When the last attempt ended. */
  updated_at: string;
}

/** A SIEM destination and its consumer group's backlog. */
export interface DestinationStatus {
  tenant: string;
  id: string;
  kind: "webhook" | "splunk-hec";
  url: string;
  /** Offsets of the data topics its group has yet to commit (records, and transaction markers). */
  behind: number | null;
}

export interface Status {
  at: string;
  kafka: { brokers: string[]; prefix: string; error: string | null };
  connections: ConnectionStatus[];
  /** The packer's monthly schedule; empty before its first run (or without a packer). */
  packs: PackRunStatus[];
  /** SIEM destinations (`aiaudit destinations`). */
  destinations: DestinationStatus[];
  clickhouse: { database: string | null; where: string | null; error: string | null };
  tables: { table: string; rows: number | null }[];
  /** Records that could not be read, and the like: shown, never fatal. */
  problems: string[];
}

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const tenant = values.tenant === undefined ? undefined : tenantOption(values.tenant);
  const now = Date.now();
  const state: Status = {
    at: new Date(now).toISOString(),
    kafka: { brokers: [], prefix: "", error: null },
    connections: [],
    packs: [],
    destinations: [],
    clickhouse: { database: null, where: null, error: null },
    tables: [],
    problems: [],
  };

  const { kafka, brokers, prefix } = kafkaFromEnv(io.env);
  Object.assign(state.kafka, { brokers, prefix });
  try {
    const topics = topicNames(prefix);
    const [connections, cursors, packRuns, destinations] = await Promise.all([
      readCompacted(kafka, topics.connections),
      readCompacted(kafka, topics.cursors),
      // A missing pack-runs topic is no problem: no packer has finished a scheduled pack yet.
      readCompacted(kafka, topics.packRuns),
      readCompacted(kafka, topics.destinations),
    ]);
    for (const missing of [connections, cursors].filter((t) => t.missing))
      state.problems.push(
        `no topic ${missing.topic}: nothing connected or polled yet with this KAFKA_TOPIC_PREFIX`,
      );
    state.connections = summarize(connections.latest, cursors.latest, now, tenant, state.problems);
    state.packs = summarizePackRuns(packRuns.latest, tenant, state.problems);
    const group = io.env.SNAPSHOTTER_GROUP_ID ?? "aiaudit-snapshotter-clickhouse";
    for (const [key, record] of destinations.latest) {
      if (tenant !== undefined && !key.startsWith(`${tenant}/`)) continue;
      const d = decode(record, (value) => codecs.destination.decode(value), state.problems);
      if (!d) continue;
      const groupId = `${group}.siem.${d.tenant}.${d.destination_id}`;
      const behind = await kafka.groupLag(groupId, dataTopics(topics)).then(Number, () => null);
      const kind = d.kind === "WEBHOOK" ? "webhook" : "splunk-hec";
      state.destinations.push({ tenant: d.tenant, id: d.destination_id, kind, url: d.url, behind });
    }
  } catch (err) {
    state.kafka.error = describeError(err);
  }

  try {
    const { ch, where } = await clickhouseFromEnv(io.env);
    Object.assign(state.clickhouse, { database: ch.database, where });
    try {
      state.tables = await countRows(ch, tenant);
    } finally {
      await ch.close();
    }
  } catch (err) {
    state.clickhouse.error = describeError(err);
  }

  if (values.json) io.out(JSON.stringify(state, null, 2));
  else for (const line of render(state)) io.out(line);
  return state.kafka.error !== null || state.clickhouse.error !== null ? 1 : 0;
}

/** Connections with their streams, from the records of both topics; pure, for tests. */
export function summarize(
  connectionRecords: Map<string, IncomingRecord>,
  cursorRecords: Map<string, IncomingRecord>,
  now: number,
  tenant: string | undefined,
  problems: string[],
): ConnectionStatus[] {
  const wanted = (key: string) => tenant === undefined || key.startsWith(`${tenant}/`);
  const byKey = new Map<string, ConnectionStatus>();
  for (const [key, record] of connectionRecords) {
    if (!wanted(key)) continue;
    const connection = decode(record, (value) => codecs.connection.decode(value), problems);
    if (connection) byKey.set(key, fromRecord(connection));
  }
  for (const [key, record] of cursorRecords) {
    // The cursors topic also holds the time-ordered streams' seen-id buckets: not cursors.
    if (!wanted(key) || parseSeenBucketKey(key)) continue;
    const cursor = decode(record, (value) => codecs.cursor.decode(value), problems);
    if (!cursor) continue;
    const connectionKey = `${cursor.tenant}/${cursor.connection}`;
    let connection = byKey.get(connectionKey);
    if (!connection) {
      connection = unlisted(cursor.tenant, cursor.connection);
      byKey.set(connectionKey, connection);
    }
    connection.streams.push(streamStatus(cursor, now));
  }
  const connections = [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, c]) => c);
  for (const c of connections) c.streams.sort((a, b) => a.stream.localeCompare(b.stream));
  return connections;
}

/**
 * The scheduled packs from the pack-runs topic's records (key `<tenant>/<module>/<period_start>`),
 * by tenant, module and period, newest period first; pure, for tests.
 */
export function summarizePackRuns(
  records: Map<string, IncomingRecord>,
  tenant: string | undefined,
  problems: string[],
): PackRunStatus[] {
  const runs: PackRunStatus[] = [];
  for (const [key, record] of records) {
    if (tenant !== undefined && !key.startsWith(`${tenant}/`)) continue;
    const packRun = decode(record, (value) => codecs.packRun.decode(value), problems);
    if (packRun) runs.push(packRunStatus(packRun));
  }
  return runs.sort(
    (a, b) =>
      a.tenant.localeCompare(b.tenant) ||
      a.module.localeCompare(b.module) ||
      b.period_start.localeCompare(a.period_start),
  );
}

const isoOrNull = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

function packRunStatus(r: PackRunRecord): PackRunStatus {
  const start = new Date(r.period_start).toISOString();
  return {
    tenant: r.tenant,
    module: r.module,
    period: start.slice(0, 7),
    period_start: start,
    period_end: new Date(r.period_end).toISOString(),
    state: r.state,
    attempts: r.attempts,
    last_error: r.last_error,
    next_attempt_at: isoOrNull(r.next_attempt_at),
    pack_id: r.pack_id,
    sequence: r.sequence,
    updated_at: new Date(r.updated_at).toISOString(),
  };
}

function decode<T>(record: IncomingRecord, decoder: (value: Buffer) => T, problems: string[]): T | undefined {
  try {
    return record.value ? decoder(record.value) : undefined;
  } catch (err) {
    problems.push(
      `${record.topic} offset ${record.offset} (key ${record.key ?? ""}) cannot be read: ${describeError(err)}`,
    );
    return undefined;
  }
}

function fromRecord(r: ConnectionRecord): ConnectionStatus {
  return {
    tenant: r.tenant,
    connection_id: r.connection_id,
    state: r.status,
    message: r.status_message,
    vendor: r.vendor,
    kind: r.kind,
    slug: r.slug,
    display_name: r.display_name,
    base_url: r.base_url,
    token_expires_at: r.token_expires_at === null ? null : new Date(r.token_expires_at).toISOString(),
    streams: [],
  };
}

function unlisted(tenant: string, connectionId: string): ConnectionStatus {
  return {
    tenant,
    connection_id: connectionId,
    state: null,
    message: null,
    vendor: null,
    kind: null,
    slug: null,
    display_name: null,
    base_url: null,
    token_expires_at: null,
    streams: [],
  };
}

function streamStatus(cursor: StreamCursor, now: number): StreamStatus {
  const highWaterMs = highWater(cursor.cursor);
  return {
    stream: cursor.stream,
    last_poll_at: new Date(cursor.updated_at).toISOString(),
    cursor_at: highWaterMs === null ? null : new Date(highWaterMs).toISOString(),
    lag_seconds: highWaterMs === null ? null : Math.max(0, Math.round((now - highWaterMs) / 1000)),
  };
}

/** The cursor's `highWaterMs`, when it is JSON that has one (not every stream's cursor does). */
function highWater(cursor: string | null): number | null {
  if (!cursor) return null;
  try {
    const parsed = JSON.parse(cursor) as unknown;
    const value =
      typeof parsed === "object" && parsed !== null ? (parsed as Record<string, unknown>).highWaterMs : null;
    return typeof value === "number" && Number.isFinite(value) ? value : null;
  } catch {
    return null;
  }
}

/** Rows per table (views and the migrations table left out); per tenant where the table has one. */
async function countRows(
  ch: Awaited<ReturnType<typeof clickhouseFromEnv>>["ch"],
  tenant: string | undefined,
): Promise<{ table: string; rows: number | null }[]> {
  const tables = await ch.rows<{ name: string; has_tenant: number }>(
    `SELECT t.name AS name, toUInt8(countIf(c.name = 'tenant') > 0) AS has_tenant
     FROM system.tables AS t LEFT JOIN system.columns AS c ON c.database = t.database AND c.table = t.name
     WHERE t.database = {db:String} AND t.engine LIKE '%MergeTree%' AND t.name != 'schema_migrations'
     GROUP BY t.name ORDER BY t.name`,
    { db: ch.database },
  );
  const counts = [];
  for (const { name, has_tenant } of tables) {
    if (tenant !== undefined && !has_tenant) {
      counts.push({ table: name, rows: null });
      continue;
    }
    const where = tenant === undefined ? "" : " WHERE tenant = {tenant:String}";
    const [row] = await ch.rows<{ rows: string | number }>(
      `SELECT count() AS rows FROM ${ch.table(name)}${where}`,
      tenant === undefined ? undefined : { tenant },
    );
    counts.push({ table: name, rows: Number(row?.rows ?? 0) });
  }
  return counts;
}

function ago(seconds: number): string {
  if (seconds < 90) return `${seconds} s`;
  if (seconds < 90 * 60) return `${Math.round(seconds / 60)} min`;
  if (seconds < 48 * 3600) return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  return `${Math.round(seconds / 86_400)} days`;
}

/** The text a person reads. */
export function render(s: Status): string[] {
  const lines: string[] = [];
  const now = Date.parse(s.at);
  lines.push(`connections (${s.kafka.prefix}.control.connections.v1 at ${s.kafka.brokers.join(",")}):`);
  if (s.kafka.error !== null) lines.push(`  cannot read Kafka: ${s.kafka.error}`);
  else if (s.connections.length === 0)
    lines.push("  none: connect one with `aiaudit connect copilot` or `aiaudit connect openai`");
  for (const c of s.connections) {
    const named = c.display_name ? ` "${c.display_name}"` : "";
    const what =
      c.vendor === "OPENAI"
        ? `OpenAI organization ${c.slug ?? ""}${named} at ${c.base_url ?? ""}`
        : c.kind
          ? `${c.kind === "ENTERPRISE" ? "enterprise" : "organization"} ${c.slug ?? ""}${named} at ${c.base_url ?? ""}`
          : "";
    const head = `  ${c.tenant}/${c.connection_id}`;
    if (c.state === null)
      lines.push(`${head}  no connection record (GITHUB_ORG of an ingest instance, or disconnected)`);
    else if (c.state === "BROKEN")
      lines.push(`${head}  BROKEN  ${what}\n      ${c.message ?? "(no reason recorded)"}`);
    else
      lines.push(
        `${head}  ACTIVE  ${what}${c.token_expires_at ? `; token expires ${c.token_expires_at}` : ""}` +
          (c.message ? `\n      ${c.message}` : ""),
      );
    const width = Math.max(0, ...c.streams.map((st) => st.stream.length));
    for (const st of c.streams) {
      const polled = `last poll ${st.last_poll_at} (${ago(Math.round((now - Date.parse(st.last_poll_at)) / 1000))} ago)`;
      const cursor =
        st.cursor_at === null ? "" : `  newest record ${st.cursor_at}, lag ${ago(st.lag_seconds ?? 0)}`;
      lines.push(`    ${st.stream.padEnd(width)}  ${polled}${cursor}`);
    }
    if (c.streams.length === 0) lines.push("    not polled yet");
  }
  lines.push(...renderPacks(s));
  lines.push(`SIEM destinations (${s.kafka.prefix}.control.destinations.v1):`);
  if (s.kafka.error === null && s.destinations.length === 0) lines.push("  none (aiaudit destinations add)");
  for (const d of s.destinations) {
    const behind =
      d.behind === null ? "backlog unknown" : d.behind === 0 ? "up to date" : `${d.behind} offsets behind`;
    lines.push(`  ${d.tenant}/${d.id}  ${d.kind}  ${d.url}  ${behind}`);
  }
  lines.push(`ClickHouse (database ${s.clickhouse.database ?? "?"}, ${s.clickhouse.where ?? "?"}):`);
  if (s.clickhouse.error !== null) lines.push(`  cannot read ClickHouse: ${s.clickhouse.error}`);
  else if (s.tables.length === 0) lines.push("  no tables: run `aiaudit migrate`");
  const width = Math.max(0, ...s.tables.map((t) => t.table.length));
  for (const t of s.tables)
    lines.push(`  ${t.table.padEnd(width)}  ${t.rows === null ? "(not per tenant)" : `${t.rows} rows`}`);
  for (const problem of s.problems) lines.push(`note: ${problem}`);
  return lines;
}

/** Pack ids are 32 hex digits: this many say which one. */
const PACK_ID_SHOWN = 12;

/**
 * The monthly schedule's section: per tenant and module every FAILED month (each is retried) and
 * the newest SUCCEEDED one; older succeeded months are counted (`--json` lists them), so the
 * section stays short after years of months.
 */
function renderPacks(s: Status): string[] {
  const lines = [`evidence packs (monthly schedule, ${s.kafka.prefix}.control.pack-runs.v1):`];
  if (s.kafka.error !== null) return [...lines, "  cannot read Kafka (see above)"];
  if (s.packs.length === 0) return [...lines, "  no scheduled pack yet"];
  const tenantWidth = Math.max(...s.packs.map((p) => p.tenant.length));
  const moduleWidth = Math.max(...s.packs.map((p) => p.module.length));
  const groups = new Map<string, PackRunStatus[]>();
  for (const p of s.packs) {
    const key = `${p.tenant}/${p.module}`;
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  for (const runs of groups.values()) {
    // Newest period first (summarizePackRuns's order).
    const newestSucceeded = runs.find((p) => p.state === "SUCCEEDED");
    const shown = runs.filter((p) => p.state === "FAILED" || p === newestSucceeded);
    for (const p of shown) {
      const head = `  ${p.tenant.padEnd(tenantWidth)}  ${p.module.padEnd(moduleWidth)}  ${p.period}`;
      if (p.state === "SUCCEEDED") {
        const id = p.pack_id === null ? "?" : `${p.pack_id.slice(0, PACK_ID_SHOWN)}…`;
        lines.push(`${head}  SUCCEEDED  pack ${id} sequence ${p.sequence ?? "?"}, at ${p.updated_at}`);
      } else {
        const next =
          p.next_attempt_at === null ? "no next attempt scheduled" : `next attempt ${p.next_attempt_at}`;
        lines.push(
          `${head}  FAILED     ${p.attempts} attempt${p.attempts === 1 ? "" : "s"}, ${next}\n      ${p.last_error ?? "(no error recorded)"}`,
        );
      }
    }
    const older = runs.length - shown.length;
    if (older > 0) {
      const [first] = runs;
      lines.push(
        `  ${(first?.tenant ?? "").padEnd(tenantWidth)}  ${(first?.module ?? "").padEnd(moduleWidth)}  and ${older} earlier month${older === 1 ? "" : "s"} SUCCEEDED (--json lists them)`,
      );
    }
  }
  return lines;
}
