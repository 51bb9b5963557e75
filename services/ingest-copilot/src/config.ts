/**
 * Settings of ingest-copilot, from the environment, parsed once by `loadConfig` (docs/conventions.md §2).
 * An instance serves one tenant (TENANT_ID) or, without it, every tenant found on the connections
 * topic (docs/design.md §2 "Scale-out"). It polls the connections `aiaudit connect copilot`
 * published (needs SECRETS_KEY to open their tokens) and, optionally, one organization configured
 * here (GITHUB_ORG with a token, for TENANT_ID). People are pseudonymized with their tenant's key:
 * one key (PSEUDONYM_KEY, with TENANT_ID), a master key each tenant's key is derived from
 * (PSEUDONYM_MASTER_KEY), or a keyring file of per-tenant keys (PSEUDONYM_KEYRING_FILE).
 */
import { z } from "zod";
import {
  configError,
  ingestEnv,
  kafkaEnv,
  logEnv,
  parseEnv,
  pseudonymKeyEnv,
  pseudonymKeysFrom,
  readTextFile,
  runtimeEnv,
  type Env,
  type PseudonymKeys,
} from "@aiaudit/config";

const schema = z.object({
  ...kafkaEnv,
  ...ingestEnv,
  ...logEnv,
  ...runtimeEnv(9464),
  GITHUB_ORG: z
    .string()
    .min(1)
    .optional()
    .describe(
      "an organization to poll without `aiaudit connect`, for TENANT_ID (with GITHUB_TOKEN_FILE or GITHUB_TOKEN)",
    ),
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
  ...pseudonymKeyEnv,
  SEATS_PER_PAGE: z.coerce.number().int().min(1).max(100).default(100).describe("seats per page, 1-100"),
  AUDIT_PER_PAGE: z.coerce
    .number()
    .int()
    .min(1)
    .max(100)
    .default(100)
    .describe("audit events per page, 1-100"),
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
});

export type { PseudonymKeys };

type Parsed = z.infer<typeof schema>;
type RawSecrets =
  "GITHUB_TOKEN" | "GITHUB_TOKEN_FILE" | "PSEUDONYM_KEY" | "PSEUDONYM_MASTER_KEY" | "PSEUDONYM_KEYRING_FILE";

export type IngestCopilotConfig = Omit<Parsed, RawSecrets> & {
  /** The token of GITHUB_ORG; never logged (the logger redacts `token`). */
  githubToken: string | undefined;
  /** Never logged: keys only. */
  pseudonymKeys: PseudonymKeys;
};

/**
 * Each variable on its own first (parseEnv), then the checks that need several; each stage reports
 * all its problems at once.
 */
export function loadConfig(env: Env): IngestCopilotConfig {
  const {
    GITHUB_TOKEN,
    GITHUB_TOKEN_FILE,
    PSEUDONYM_KEY,
    PSEUDONYM_MASTER_KEY,
    PSEUDONYM_KEYRING_FILE,
    ...config
  } = parseEnv(schema, env);
  const problems: string[] = [];
  let token = GITHUB_TOKEN;
  if (GITHUB_TOKEN_FILE !== undefined) {
    const read = readTextFile(GITHUB_TOKEN_FILE);
    token = read.ok ? read.text.trim() : undefined;
    if (!read.ok || !token) {
      const why = read.ok ? "it is empty" : read.why;
      problems.push(
        `GITHUB_TOKEN_FILE (${GITHUB_TOKEN_FILE}) cannot be used: ${why}; the service has no GitHub token`,
      );
    }
  }
  if (config.GITHUB_ORG !== undefined && config.TENANT_ID === undefined) {
    problems.push("GITHUB_ORG requires TENANT_ID: the organization's data must belong to a tenant");
  }
  if (config.GITHUB_ORG !== undefined && GITHUB_TOKEN === undefined && GITHUB_TOKEN_FILE === undefined) {
    problems.push(
      "GITHUB_TOKEN_FILE or GITHUB_TOKEN must be set with GITHUB_ORG: the organization has no token",
    );
  }
  if (config.GITHUB_ORG === undefined && config.SECRETS_KEY === undefined) {
    problems.push(
      "SECRETS_KEY (to poll the connections made with `aiaudit connect`) or GITHUB_ORG with a token must be set: there is nothing to poll",
    );
  }
  const pseudonymKeys = pseudonymKeysFrom(
    { PSEUDONYM_KEY, PSEUDONYM_MASTER_KEY, PSEUDONYM_KEYRING_FILE },
    config.TENANT_ID,
    problems,
  );
  if (problems.length > 0 || pseudonymKeys === undefined) throw configError(problems);
  return { ...config, githubToken: token, pseudonymKeys };
}
