/**
 * aiaudit connect copilot: probe the token against GitHub, and only if GitHub accepts it, seal
 * it and publish the connection to the compacted connections topic, where ingest-copilot picks
 * it up and polls it at once.
 */
import { z } from "zod";
import { key32, parseEnv } from "@aiaudit/config";
import { codecs } from "@aiaudit/contracts";
import { githubConnection, probeGithub } from "@aiaudit/github-connect";
import { publishConnection } from "../connections.ts";
import {
  baseUrlOption,
  parseOptions,
  readAll,
  readInputFile,
  tenantOption,
  UsageError,
  type Command,
  type Io,
} from "../io.ts";

const envSchema = z.object({
  SECRETS_KEY: key32.describe(
    "32-byte key that seals credentials (hex or base64); ingest-copilot needs the same",
  ),
});

/** GitHub organization and enterprise names: letters, digits and single dashes. */
const SLUG = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,98}[A-Za-z0-9])?$/;

export const connectCopilot: Command = {
  path: ["connect", "copilot"],
  summary: "probe a GitHub token for an organization or enterprise, then store it sealed for ingest-copilot",
  usage: `usage: aiaudit connect copilot --tenant T (--org ORG | --enterprise ENT) [--base-url URL] [--token-file F] [--keep-usage-content]
  --tenant T              the tenant (customer) id: 1-63 lower-case letters, digits and dashes
  --org ORG               a GitHub organization, or
  --enterprise ENT        a GitHub enterprise (its slug)
  --base-url URL          the REST API: https://api.github.com (default), GHES https://HOST/api/v3,
                          GHE.com https://api.SUBDOMAIN.ghe.com
  --token-file F          the token (PAT or app token); without it, read from standard input
  --keep-usage-content    keep prompts and responses of usage records (default: keyed hashes only)
needs SECRETS_KEY (the key ingest-copilot opens tokens with) and KAFKA_BROKERS`,
  run,
};

async function run(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    org: { type: "string" },
    enterprise: { type: "string" },
    "base-url": { type: "string", default: "https://api.github.com" },
    "token-file": { type: "string" },
    "keep-usage-content": { type: "boolean", default: false },
  });
  const tenant = tenantOption(values.tenant);
  if (Boolean(values.org) === Boolean(values.enterprise))
    throw new UsageError("give exactly one of --org and --enterprise");
  const kind = values.org ? "ORGANIZATION" : "ENTERPRISE";
  const slug = values.org ?? values.enterprise ?? "";
  if (!SLUG.test(slug)) {
    throw new UsageError(
      `${values.org ? "--org" : "--enterprise"} ${JSON.stringify(slug)} is not a GitHub name: letters, digits and dashes`,
    );
  }
  const baseUrl = baseUrlOption(
    values["base-url"],
    "the token goes in --token-file or standard input",
    "https://api.github.com, or https://HOST/api/v3 for GHES",
  );
  const env = parseEnv(envSchema, io.env);
  const token = values["token-file"]
    ? readInputFile(values["token-file"], "token")
    : (await readAll(io.stdin)).trim();
  if (!token) throw new UsageError("no token: pass --token-file or write the token to standard input");

  const probe = await probeGithub({ baseUrl, token, kind, slug });
  if (!probe.ok) {
    io.err(`aiaudit: not connected: ${probe.message}`);
    return 1;
  }
  for (const warning of probe.warnings) io.err(`aiaudit: warning: ${warning}`);

  const record = githubConnection({
    tenant,
    kind,
    slug,
    baseUrl,
    token,
    secretsKey: env.SECRETS_KEY,
    scopes: probe.scopes,
    expiresAt: probe.expiresAt,
    keepUsageContent: values["keep-usage-content"],
    now: Date.now(),
  });
  await publishConnection(io.env, record.tenant, record.connection_id, codecs.connection.encode(record));
  io.out(
    `connected ${record.tenant}/${record.connection_id} (${kind.toLowerCase()} ${slug} at ${baseUrl})` +
      (probe.expiresAt ? `; the token expires ${new Date(probe.expiresAt).toISOString()}` : ""),
  );
  return 0;
}
