/**
 * aiaudit connect copilot: probe the token against GitHub, and only if GitHub accepts it, seal
 * it and publish the connection to the compacted connections topic, where ingest-copilot picks
 * it up and polls it at once.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { key32, parseEnv } from "@aiaudit/config";
import { codecs } from "@aiaudit/contracts";
import { githubConnection, probeGithub } from "@aiaudit/ingest-copilot/connect";
import { publishConnection } from "../connections.ts";
import { readAll, UsageError, type Io } from "../io.ts";

const envSchema = z.object({
  SECRETS_KEY: key32.describe(
    "32-byte key that seals credentials (hex or base64); ingest-copilot needs the same",
  ),
});

export async function connectCopilot(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      tenant: { type: "string" },
      org: { type: "string" },
      enterprise: { type: "string" },
      "base-url": { type: "string", default: "https://api.github.com" },
      "token-file": { type: "string" },
      "keep-usage-content": { type: "boolean", default: false },
    },
    strict: true,
  });
  if (!values.tenant) throw new UsageError("--tenant is required");
  if (Boolean(values.org) === Boolean(values.enterprise))
    throw new UsageError("give exactly one of --org and --enterprise");
  const env = parseEnv(envSchema, io.env);
  const token = (
    values["token-file"] ? readFileSync(values["token-file"], "utf8") : await readAll(io.stdin)
  ).trim();
  if (!token) throw new UsageError("no token: pass --token-file or write the token to standard input");

  const kind = values.org ? "ORGANIZATION" : "ENTERPRISE";
  const slug = values.org ?? values.enterprise ?? "";
  const baseUrl = values["base-url"];
  const probe = await probeGithub({ baseUrl, token, kind, slug });
  if (!probe.ok) {
    io.err(`aiaudit: not connected: ${probe.message}`);
    return 1;
  }
  for (const warning of probe.warnings) io.err(`aiaudit: warning: ${warning}`);

  const record = githubConnection({
    tenant: values.tenant,
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
