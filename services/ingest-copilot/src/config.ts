/**
 * Settings of ingest-copilot, from the environment, parsed once by `loadConfig` (CONVENTIONS.md §2).
 * The Foundation slice polls one organization named here; connections published on the
 * connections topic replace GITHUB_ORG and GITHUB_TOKEN with the `connect` command.
 */
import { readFileSync } from "node:fs";
import { z } from "zod";
import { kafkaEnv, key32, logEnv, parseEnv, type Env } from "@aiaudit/config";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

const schema = z.object({
  ...kafkaEnv,
  ...logEnv,
  TENANT_ID: z
    .string()
    .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, "lower-case letters, digits and dashes")
    .describe("tenant (customer) id the data belongs to"),
  GITHUB_ORG: z.string().min(1).describe("GitHub organization whose Copilot seats are read"),
  GITHUB_TOKEN_FILE: z
    .string()
    .optional()
    .describe("file holding the GitHub token (PAT or app token); preferred over GITHUB_TOKEN"),
  GITHUB_TOKEN: z.string().optional().describe("GitHub token, when GITHUB_TOKEN_FILE is not used"),
  GITHUB_API_URL: z
    .url()
    .default("https://api.github.com")
    .describe(
      "REST API base URL: GHES https://HOST/api/v3, GHE.com https://api.SUBDOMAIN.ghe.com, or a simulator",
    ),
  PSEUDONYM_KEY: key32.describe("tenant key for HMAC-SHA256 pseudonyms of people, 32 bytes (hex or base64)"),
  SEATS_PER_PAGE: z.coerce.number().int().min(1).max(100).default(100).describe("seats per page, 1-100"),
  AUDIT_PER_PAGE: z.coerce.number().int().min(1).max(100).default(100).describe("audit events per page, 1-100"),
  AUDIT_OVERLAP_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(30)
    .describe("minutes each audit-log poll re-reads before the newest event, for late arrivals"),
  AUDIT_INITIAL_LOOKBACK_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(180)
    .default(7)
    .describe("days of audit log a new connection reads back (GitHub keeps about 180)"),
  AUDIT_LOG_QUERIES_PER_HOUR: z.coerce
    .number()
    .int()
    .min(1)
    .max(1750)
    .default(1750)
    .describe("audit-log queries per hour for this token and IP (GitHub allows 1,750; lower it when instances share both)"),
  GITHUB_REQUEST_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe("seconds before a GitHub request is abandoned (and retried)"),
  POLL_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(3600)
    .describe("seconds between polls of an organization"),
});

export type IngestCopilotConfig = Omit<z.infer<typeof schema>, "GITHUB_TOKEN" | "GITHUB_TOKEN_FILE"> & {
  /** The token itself; never logged (the logger redacts `token`). */
  githubToken: string;
};

export function loadConfig(env: Env): IngestCopilotConfig {
  const { GITHUB_TOKEN, GITHUB_TOKEN_FILE, ...config } = parseEnv(schema, env);
  let token = GITHUB_TOKEN;
  if (GITHUB_TOKEN_FILE !== undefined) {
    try {
      token = readFileSync(GITHUB_TOKEN_FILE, "utf8").trim();
    } catch (cause) {
      throw new AiauditError(
        ErrorCodes.CONFIG_INVALID,
        `GITHUB_TOKEN_FILE cannot be read (${GITHUB_TOKEN_FILE}): the service has no GitHub token`,
        { cause },
      );
    }
  }
  if (!token) {
    throw new AiauditError(
      ErrorCodes.CONFIG_INVALID,
      "invalid configuration, the service cannot start:\n  - GITHUB_TOKEN_FILE or GITHUB_TOKEN must be set: the service has no GitHub token",
    );
  }
  return { ...config, githubToken: token };
}
