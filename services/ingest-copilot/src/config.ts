/**
 * Settings of ingest-copilot, from the environment, parsed once by `loadConfig` (docs/conventions.md §2).
 * One instance serves one tenant (its pseudonym key is the tenant's). It polls the connections
 * `aiaudit connect copilot` published for the tenant (needs SECRETS_KEY to open their tokens),
 * and, optionally, one organization configured here (GITHUB_ORG with a token).
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
  GITHUB_ORG: z
    .string()
    .min(1)
    .optional()
    .describe("an organization to poll without `aiaudit connect` (with GITHUB_TOKEN_FILE or GITHUB_TOKEN)"),
  SECRETS_KEY: key32
    .optional()
    .describe("32-byte key that opens the tokens sealed by `aiaudit connect` (hex or base64)"),
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
  AUDIT_PER_PAGE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(100)
    .describe("audit events per page, 1-100"),
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
  METRICS_INITIAL_LOOKBACK_DAYS: z.coerce
    .number()
    .int()
    .min(1)
    .max(365)
    .default(28)
    .describe("days of daily usage-metrics reports a new connection reads back"),
  AUDIT_LOG_QUERIES_PER_HOUR: z.coerce
    .number()
    .int()
    .min(1)
    .max(1750)
    .default(1750)
    .describe(
      "audit-log queries per hour for this token and IP (GitHub allows 1,750; lower it when instances share both)",
    ),
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
  /** The token of GITHUB_ORG; never logged (the logger redacts `token`). */
  githubToken: string | undefined;
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
  const problems: string[] = [];
  if (config.GITHUB_ORG !== undefined && !token) {
    problems.push(
      "GITHUB_TOKEN_FILE or GITHUB_TOKEN must be set with GITHUB_ORG: the organization has no token",
    );
  }
  if (config.GITHUB_ORG === undefined && config.SECRETS_KEY === undefined) {
    problems.push(
      "SECRETS_KEY (to poll the connections made with `aiaudit connect`) or GITHUB_ORG with a token must be set: there is nothing to poll",
    );
  }
  if (problems.length > 0) {
    throw new AiauditError(
      ErrorCodes.CONFIG_INVALID,
      `invalid configuration:\n  - ${problems.join("\n  - ")}`,
    );
  }
  return { ...config, githubToken: token };
}
