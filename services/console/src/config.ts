/**
 * Settings of the console, from the environment, parsed once by `loadConfig` (docs/conventions.md
 * §2): Kafka (tenants and their tokens, connections, cursors), ClickHouse (the views it shows),
 * the packer it passes pack requests to, the key that seals the secrets of new connections, and
 * its own HTTP port.
 */
import { z } from "zod";
import {
  clickhouseEnv,
  ingestEnv,
  kafkaEnv,
  key32,
  logEnv,
  parseEnv,
  runtimeEnv,
  type Env,
} from "@aiaudit/config";

const schema = z.object({
  ...kafkaEnv,
  ...clickhouseEnv,
  ...logEnv,
  ...runtimeEnv(9468),
  CONSOLE_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65535)
    .default(8468)
    .describe("port of the operator API (/api/v1/…) and the dashboard (/); 0 picks a free one"),
  CONSOLE_HOST: z.string().default("0.0.0.0").describe("interface the console listens on"),
  CONSOLE_PACKER_URL: z
    .url()
    .default("http://127.0.0.1:8467")
    .describe("the packer's API, where pack requests go with the caller's own token"),
  CONSOLE_SECURE_COOKIE: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true")
    .describe("mark the dashboard's session cookie Secure: set true when the console is served over HTTPS"),
  SECRETS_KEY: key32
    .optional()
    .describe(
      "32-byte key that seals the secrets of connections made here (the ingest services' SECRETS_KEY)",
    ),
  POLL_INTERVAL_SECONDS: ingestEnv.POLL_INTERVAL_SECONDS.describe(
    "the ingest services' poll interval: when a connection is pulled next",
  ),
});

export type ConsoleConfig = z.infer<typeof schema>;

export function loadConfig(env: Env): ConsoleConfig {
  return parseEnv(schema, env);
}
