/**
 * Settings of the packer, from the environment, parsed once by `loadConfig` (docs/conventions.md §2):
 * Kafka (the tenants, connections and pack-runs topics), ClickHouse (the data), where packs are
 * stored, the key that signs them, the HTTP API's port and the monthly schedule.
 */
import { Cron } from "croner";
import { z } from "zod";
import {
  clickhouseEnv,
  configError,
  csv,
  kafkaEnv,
  logEnv,
  parseEnv,
  runtimeEnv,
  type Env,
} from "@aiaudit/config";
import { describeError } from "@aiaudit/errors";
import { parsePublicKey, readPrivateKeyFile } from "@aiaudit/evidence-pack";

const schema = z.object({
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  ...runtimeEnv(9467),
  PACKER_API_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8467)
    .describe("port of the evidence-pack API (/api/v1/…); 0 picks a free one"),
  PACKER_API_HOST: z.string().default("0.0.0.0").describe("interface the API listens on"),
  PACKER_STORE_DIR: z
    .string()
    .default(".cache/packs")
    .describe("directory of the pack store: <dir>/<tenant>/<module>/pack-<n>.tar.gz and index.json"),
  PACKER_SIGNING_KEY_FILE: z
    .string()
    .describe("the Ed25519 private key that signs packs, PKCS#8 PEM (`aiaudit keys generate`)"),
  PACKER_PREVIOUS_PUBLIC_KEYS: csv
    .default([])
    .describe(
      "public keys (base64 or hex) of earlier signing keys, comma-separated: packs they signed are served again",
    ),
  PACKER_SCHEDULE: z
    .string()
    .default("0 3 1 * *")
    .describe("cron pattern (UTC) of the monthly run that packs the previous month: 03:00 on the 1st"),
  PACKER_RETRY_MINUTES: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe("minutes before a failed scheduled pack is tried again; doubles each time, at most a day"),
  PACKER_MAX_BUILDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(16)
    .default(2)
    .describe("packs built at the same time (each holds a ClickHouse query and a spool file)"),
});

type Parsed = z.infer<typeof schema>;

export type PackerConfig = Omit<Parsed, "PACKER_SIGNING_KEY_FILE" | "PACKER_PREVIOUS_PUBLIC_KEYS"> & {
  /** The 32-byte Ed25519 seed; never logged. */
  signingKey: Uint8Array;
  previousPublicKeys: Uint8Array[];
};

export function loadConfig(env: Env): PackerConfig {
  const { PACKER_SIGNING_KEY_FILE, PACKER_PREVIOUS_PUBLIC_KEYS, ...config } = parseEnv(schema, env);
  const problems: string[] = [];
  let signingKey: Uint8Array | undefined;
  try {
    signingKey = readPrivateKeyFile(PACKER_SIGNING_KEY_FILE).privateKey;
  } catch (err) {
    problems.push(
      `PACKER_SIGNING_KEY_FILE (${PACKER_SIGNING_KEY_FILE}) cannot be used: ${describeError(err)}`,
    );
  }
  const previousPublicKeys: Uint8Array[] = [];
  for (const text of PACKER_PREVIOUS_PUBLIC_KEYS) {
    try {
      previousPublicKeys.push(parsePublicKey(text));
    } catch (err) {
      problems.push(`PACKER_PREVIOUS_PUBLIC_KEYS: ${JSON.stringify(text)} ${describeError(err)}`);
    }
  }
  try {
    new Cron(config.PACKER_SCHEDULE, { paused: true, timezone: "UTC" }).stop();
  } catch (err) {
    problems.push(
      `PACKER_SCHEDULE ${JSON.stringify(config.PACKER_SCHEDULE)} is not a cron pattern: ${describeError(err)}`,
    );
  }
  if (problems.length > 0 || signingKey === undefined) throw configError(problems);
  return { ...config, signingKey, previousPublicKeys };
}
