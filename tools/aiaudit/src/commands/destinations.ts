/**
 * aiaudit destinations add / list / remove: a tenant's SIEM destinations (docs/siem.md), on the
 * compacted destinations topic. The snapshotter serves each with a consumer group of its own
 * within seconds of the record. The secret (the webhook signing secret, the HEC token) is stored
 * only sealed with SECRETS_KEY; a webhook secret is generated when none is given and printed once.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { csv, key32, parseEnv } from "@aiaudit/config";
import { codecs, DESTINATION_KINDS, DESTINATION_MODULES, type DestinationRecord } from "@aiaudit/contracts";
import { destinationSealContext, sealSecret } from "@aiaudit/crypto";
import { kafkaFromEnv, publishRecords, readCompacted } from "../connections.ts";
import {
  parseOptions,
  readAll,
  readInputFile,
  tenantOption,
  UsageError,
  type Command,
  type Io,
} from "../io.ts";
import { table } from "./tenants.ts";

const envSchema = z.object({
  SECRETS_KEY: key32.describe(
    "32-byte key that seals secrets (hex or base64); the snapshotter needs the same",
  ),
});

const KINDS = { webhook: "WEBHOOK", "splunk-hec": "SPLUNK_HEC" } as const;
/** Destination ids go into consumer group names: letters, digits, dashes and underscores. */
const ID = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export const destinationsAdd: Command = {
  path: ["destinations", "add"],
  summary: "forward a tenant's records to a SIEM: a signed webhook or Splunk HEC (secret sealed)",
  usage: `usage: aiaudit destinations add --tenant T --id ID --kind webhook|splunk-hec --url URL [options]
  --tenant T            the tenant whose records are forwarded (only that tenant's)
  --id ID               a name for the destination, e.g. splunk-prod (adding it again replaces it)
  --kind K              webhook: JSON batches signed the Standard Webhooks way;
                        splunk-hec: Splunk's HTTP Event Collector (/services/collector/event)
  --url URL             the webhook URL, or the HEC base URL (https://splunk.example.com:8088)
  --secret-file F       webhook: its signing secret (whsec_…), generated and printed once when absent;
                        splunk-hec: the HEC token (required: in F, or on standard input)
  --modules LIST        copilot,openai (default: all)
  --kinds LIST          ${DESTINATION_KINDS.join(",")} (default: all)
  --event-types LIST    audit event actions or types, exactly or by prefix (copilot.,api_key.*) (default: all)
  --index NAME          splunk-hec: the index (default: the token's)
  --allow-private       allow http:// and loopback or private addresses (a lab SIEM): refused otherwise
needs SECRETS_KEY (the key the snapshotter opens secrets with) and KAFKA_BROKERS`,
  run: add,
};

export const destinationsList: Command = {
  path: ["destinations", "list"],
  summary: "a tenant's SIEM destinations: id, kind, URL, filters (never the secret)",
  usage: `usage: aiaudit destinations list --tenant T [--json]
  --tenant T   the tenant
  --json       one JSON document instead of a table
needs KAFKA_BROKERS`,
  run: list,
};

export const destinationsRemove: Command = {
  path: ["destinations", "remove"],
  summary: "stop forwarding to a SIEM destination",
  usage: `usage: aiaudit destinations remove --tenant T --id ID
needs KAFKA_BROKERS`,
  run: remove,
};

async function add(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    id: { type: "string" },
    kind: { type: "string" },
    url: { type: "string" },
    "secret-file": { type: "string" },
    modules: { type: "string" },
    kinds: { type: "string" },
    "event-types": { type: "string" },
    index: { type: "string" },
    "allow-private": { type: "boolean", default: false },
  });
  const tenant = tenantOption(values.tenant);
  const id = idOption(values.id);
  const kind = KINDS[values.kind as keyof typeof KINDS] as DestinationRecord["kind"] | undefined;
  if (kind === undefined)
    throw new UsageError(`--kind must be webhook or splunk-hec, not ${JSON.stringify(values.kind ?? "")}`);
  const allowPrivate = values["allow-private"];
  const url = urlOption(values.url, allowPrivate);
  if (values.index !== undefined && kind !== "SPLUNK_HEC")
    throw new UsageError("--index is for --kind splunk-hec");
  const env = parseEnv(envSchema, io.env);

  let secret = values["secret-file"] ? readInputFile(values["secret-file"], "secret") : undefined;
  let generated = false;
  if (kind === "SPLUNK_HEC") {
    secret ??= (await readAll(io.stdin)).trim();
    if (!secret)
      throw new UsageError("no HEC token: pass --secret-file or write the token to standard input");
  } else if (secret === undefined) {
    secret = `whsec_${randomBytes(32).toString("base64")}`;
    generated = true;
  } else if (!/^whsec_[A-Za-z0-9+/]+={0,2}$/.test(secret)) {
    throw new UsageError("the webhook secret must be whsec_ followed by base64 (Standard Webhooks)");
  }

  const record: DestinationRecord = {
    tenant,
    destination_id: id,
    kind,
    url,
    sealed_secret: sealSecret(env.SECRETS_KEY, secret, destinationSealContext(tenant, id)),
    modules: listOption(values.modules, "--modules", DESTINATION_MODULES),
    kinds: listOption(values.kinds, "--kinds", DESTINATION_KINDS),
    event_types: listOption(values["event-types"], "--event-types"),
    allow_private: allowPrivate,
    splunk_index: values.index ?? null,
    created_at: Date.now(),
  };
  await publishRecords(io.env, `destinations.${tenant}.${id}`, (topics) => [
    { topic: topics.destinations, key: `${tenant}/${id}`, value: codecs.destination.encode(record) },
  ]);
  io.out(`added ${tenant}/${id}: ${values.kind} to ${url}`);
  if (generated) {
    io.out(`webhook signing secret (shown once; give it to the receiver to verify webhook-signature):`);
    io.out(secret);
  }
  return 0;
}

async function list(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    json: { type: "boolean", default: false },
  });
  const tenant = tenantOption(values.tenant);
  const { kafka, prefix } = kafkaFromEnv(io.env);
  const { latest } = await readCompacted(kafka, `${prefix}.control.destinations.v1`);
  const rows: DestinationRecord[] = [];
  for (const [key, record] of latest) {
    if (!key.startsWith(`${tenant}/`) || record.value === null) continue;
    try {
      rows.push(codecs.destination.decode(record.value));
    } catch (err) {
      io.err(`note: ${key} cannot be read: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  rows.sort((a, b) => a.destination_id.localeCompare(b.destination_id));
  const shown = rows.map((d) => ({
    id: d.destination_id,
    kind: d.kind === "WEBHOOK" ? "webhook" : "splunk-hec",
    url: d.url,
    modules: d.modules,
    kinds: d.kinds,
    event_types: d.event_types,
    allow_private: d.allow_private,
    index: d.splunk_index,
    created_at: new Date(d.created_at).toISOString(),
  }));
  if (values.json) {
    io.out(JSON.stringify({ tenant, destinations: shown }, null, 2));
    return 0;
  }
  if (shown.length === 0) {
    io.out(`tenant ${tenant} has no SIEM destinations (aiaudit destinations add)`);
    return 0;
  }
  const all = (xs: string[]) => (xs.length === 0 ? "all" : xs.join(","));
  for (const line of table(
    ["ID", "KIND", "URL", "MODULES", "KINDS", "EVENT TYPES", "CREATED"],
    shown.map((d) => [d.id, d.kind, d.url, all(d.modules), all(d.kinds), all(d.event_types), d.created_at]),
  ))
    io.out(line);
  return 0;
}

async function remove(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, { tenant: { type: "string" }, id: { type: "string" } });
  const tenant = tenantOption(values.tenant);
  const id = idOption(values.id);
  await publishRecords(io.env, `destinations.${tenant}.${id}`, (topics) => [
    { topic: topics.destinations, key: `${tenant}/${id}`, value: null },
  ]);
  io.out(`removed ${tenant}/${id}: nothing more is forwarded to it`);
  return 0;
}

function idOption(value: string | undefined): string {
  if (value === undefined) throw new UsageError("--id is required: e.g. splunk-prod");
  if (!ID.test(value))
    throw new UsageError(`--id ${JSON.stringify(value)}: letters, digits, - and _, at most 63`);
  return value;
}

/** https (or http with --allow-private), no credentials, query or fragment: secrets go in --secret-file. */
function urlOption(value: string | undefined, allowPrivate: boolean): string {
  if (value === undefined) throw new UsageError("--url is required");
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(value)} is not a URL`);
  }
  if (url.username || url.password)
    throw new UsageError("--url holds credentials: the secret goes in --secret-file");
  if (url.protocol !== "https:" && !(url.protocol === "http:" && allowPrivate)) {
    throw new UsageError(`--url must be https:// (http:// only with --allow-private), not ${url.protocol}`);
  }
  return url.toString().replace(/\/+$/, "");
}

function listOption(value: string | undefined, option: string, allowed?: readonly string[]): string[] {
  if (value === undefined) return [];
  const items = csv.parse(value);
  const wrong = allowed ? items.filter((x) => !allowed.includes(x)) : [];
  if (items.length === 0 || wrong.length > 0) {
    throw new UsageError(
      `${option}: ${wrong.join(",") || "empty"} is not one of ${allowed?.join(", ") ?? "the event types"}`,
    );
  }
  return items;
}
