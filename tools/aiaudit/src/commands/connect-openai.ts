/**
 * aiaudit connect openai: check that the key is an Organization Admin Key by its shape (no
 * request for a project or user key), probe it against OpenAI's admin API, and only if OpenAI
 * accepts it, seal it and publish the connection to the compacted connections topic, where
 * ingest-openai picks it up and polls it at once.
 */
import { z } from "zod";
import { key32, parseEnv } from "@aiaudit/config";
import { codecs } from "@aiaudit/contracts";
import { checkAdminKeyShape, OPENAI_API_URL, openaiConnection, probeOpenai } from "@aiaudit/openai-connect";
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
    "32-byte key that seals credentials (hex or base64); ingest-openai needs the same",
  ),
});

/**
 * An organization id as OpenAI shows it (Settings → Organization → General): `org-` and letters
 * and digits. The reference specifies no id format, so only what a Kafka key and a connection id
 * can hold is checked beyond the prefix.
 */
const ORG_ID = /^org-[A-Za-z0-9_-]{1,96}$/;

/** Options that would put the key on the command line, refused with the reason. */
const KEY_ON_COMMAND_LINE = /^--(key|admin-key|api-key|token)(=|$)/;

export const connectOpenai: Command = {
  path: ["connect", "openai"],
  summary: "probe an OpenAI Organization Admin Key, then store it sealed for ingest-openai",
  usage: `usage: aiaudit connect openai --tenant T --org-id ORG_ID [--name NAME] [--base-url URL] (--key-file F | --key-stdin)
  --tenant T        the tenant (customer) id: 1-63 lower-case letters, digits and dashes
  --org-id ORG_ID   the OpenAI organization id, org-… (platform.openai.com → Settings → Organization → General)
  --name NAME       a name for people to tell connections apart (default: the organization id)
  --base-url URL    the API with its /v1: https://api.openai.com/v1 (default), or a proxy's
  --key-file F      a file holding the Organization Admin Key (sk-admin-…), or
  --key-stdin       read the key from standard input
the key is never taken on the command line; only an Organization Owner can create an admin key, at
platform.openai.com → Settings → Organization → Admin keys
needs SECRETS_KEY (the key ingest-openai opens credentials with) and KAFKA_BROKERS`,
  run,
};

async function run(args: string[], io: Io): Promise<number> {
  const onCommandLine = args.find((arg) => KEY_ON_COMMAND_LINE.test(arg));
  if (onCommandLine !== undefined) {
    throw new UsageError(
      `${onCommandLine.split("=")[0] ?? ""} is refused: a key on the command line stays in shell history and process listings. ` +
        "Put it in a file (--key-file F) or pipe it in (--key-stdin)",
    );
  }
  // A key pasted as a bare argument: parseArgs would quote it in its "Unexpected argument" error.
  if (args.some((arg) => arg.startsWith("sk-"))) {
    throw new UsageError(
      "a key was given on the command line (not repeated here), where it stays in shell history and process listings: " +
        "put it in a file (--key-file F) or pipe it in (--key-stdin), and replace it if others can see this machine's history",
    );
  }
  const { values } = parseOptions(args, {
    tenant: { type: "string" },
    "org-id": { type: "string" },
    name: { type: "string" },
    "base-url": { type: "string", default: OPENAI_API_URL },
    "key-file": { type: "string" },
    "key-stdin": { type: "boolean", default: false },
  });
  const tenant = tenantOption(values.tenant);
  const orgId = values["org-id"];
  if (orgId === undefined)
    throw new UsageError(
      "--org-id is required: the organization id, org-… (Settings → Organization → General)",
    );
  if (!ORG_ID.test(orgId)) {
    throw new UsageError(
      `--org-id ${JSON.stringify(orgId)} is not an OpenAI organization id: org- and letters and digits (Settings → Organization → General)`,
    );
  }
  const name = values.name?.trim();
  if (values.name !== undefined && !name)
    throw new UsageError("--name is empty: leave it out to show the organization id");
  const baseUrl = baseUrlOption(
    values["base-url"],
    "the key goes in --key-file or standard input",
    "https://api.openai.com/v1, or a proxy's URL up to /v1",
  );
  if (Boolean(values["key-file"]) === values["key-stdin"])
    throw new UsageError("give exactly one of --key-file F and --key-stdin");
  const env = parseEnv(envSchema, io.env);
  const adminKey = values["key-file"]
    ? readInputFile(values["key-file"], "key")
    : (await readAll(io.stdin)).trim();
  if (!adminKey) throw new UsageError("no key: the key file or standard input is empty");
  if (/\s/.test(adminKey)) {
    io.err(
      "aiaudit: not connected: the key holds whitespace; the file or input should hold the admin key alone",
    );
    return 1;
  }

  const shape = checkAdminKeyShape(adminKey);
  if (!shape.ok) {
    io.err(`aiaudit: not connected: ${shape.message}`);
    return 1;
  }
  const probe = await probeOpenai({ baseUrl, adminKey });
  if (!probe.ok) {
    io.err(`aiaudit: not connected: ${probe.message}`);
    return 1;
  }

  const record = openaiConnection({
    tenant,
    orgId,
    name: name ?? null,
    baseUrl,
    adminKey,
    secretsKey: env.SECRETS_KEY,
    now: Date.now(),
  });
  await publishConnection(io.env, record.tenant, record.connection_id, codecs.connection.encode(record));
  io.out(
    `connected ${record.tenant}/${record.connection_id} (OpenAI organization ${orgId}${name ? ` "${name}"` : ""} at ${baseUrl})`,
  );
  return 0;
}
