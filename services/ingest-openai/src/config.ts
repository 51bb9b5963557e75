/**
 * Settings of ingest-openai, from the environment, parsed once by `loadConfig` (docs/conventions.md §2).
 * As ingest-copilot: an instance serves one tenant (TENANT_ID) or every tenant on the connections
 * topic; it polls the organizations `aiaudit connect openai` published (SECRETS_KEY opens their
 * admin keys) and, optionally, one organization configured here (OPENAI_ORG_ID with an admin key,
 * for TENANT_ID). People are pseudonymized with their tenant's key (PSEUDONYM_KEY,
 * PSEUDONYM_MASTER_KEY or PSEUDONYM_KEYRING_FILE).
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
import { OPENAI_API_URL } from "@aiaudit/openai-connect";

const schema = z.object({
  ...kafkaEnv,
  ...ingestEnv,
  ...logEnv,
  ...runtimeEnv(9466),
  OPENAI_ORG_ID: z
    .string()
    .regex(/^org-[\w-]+$/, "an OpenAI organization id, org-…")
    .optional()
    .describe(
      "an organization to poll without `aiaudit connect`, for TENANT_ID (with OPENAI_ADMIN_KEY_FILE)",
    ),
  OPENAI_ADMIN_KEY_FILE: z
    .string()
    .optional()
    .describe("file holding OPENAI_ORG_ID's Organization Admin Key (sk-admin-…)"),
  OPENAI_API_URL: z
    .url()
    .default(OPENAI_API_URL)
    .describe("API base URL with its /v1: https://api.openai.com/v1, a proxy, or a simulator"),
  ...pseudonymKeyEnv,
  OPENAI_PAGE_LIMIT: z.coerce.number().int().min(1).max(100).default(100).describe("objects per page, 1-100"),
  AUDIT_INITIAL_LOOKBACK_DAYS: z.coerce
    .number()
    .int()
    .min(0)
    .max(365)
    .default(30)
    .describe("days of audit log a new connection reads back (OpenAI's retention is not documented)"),
  AUDIT_SLICE_MAX_EVENTS: z.coerce
    .number()
    .int()
    .min(100)
    .default(10_000)
    .describe("most audit events read into memory at once: a busier time slice is split in halves"),
  OPENAI_REQUEST_TIMEOUT_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .default(30)
    .describe("seconds before an OpenAI request is abandoned (the SDK then retries it)"),
  OPENAI_MAX_RETRIES: z.coerce
    .number()
    .int()
    .min(0)
    .max(10)
    .default(2)
    .describe("retries of a request after 408, 409, 429, 5xx or a network error, honouring retry-after"),
});

export type { PseudonymKeys };

type Parsed = z.infer<typeof schema>;
type RawSecrets =
  "OPENAI_ADMIN_KEY_FILE" | "PSEUDONYM_KEY" | "PSEUDONYM_MASTER_KEY" | "PSEUDONYM_KEYRING_FILE";

export type IngestOpenaiConfig = Omit<Parsed, RawSecrets> & {
  /** OPENAI_ORG_ID's admin key; never logged (the logger redacts it). */
  adminKey: string | undefined;
  /** Never logged: keys only. */
  pseudonymKeys: PseudonymKeys;
};

export function loadConfig(env: Env): IngestOpenaiConfig {
  const { OPENAI_ADMIN_KEY_FILE, PSEUDONYM_KEY, PSEUDONYM_MASTER_KEY, PSEUDONYM_KEYRING_FILE, ...config } =
    parseEnv(schema, env);
  const problems: string[] = [];
  let adminKey: string | undefined;
  if (OPENAI_ADMIN_KEY_FILE !== undefined) {
    const read = readTextFile(OPENAI_ADMIN_KEY_FILE);
    adminKey = read.ok ? read.text.trim() : undefined;
    if (!read.ok || !adminKey) {
      const why = read.ok ? "it is empty" : read.why;
      problems.push(`OPENAI_ADMIN_KEY_FILE (${OPENAI_ADMIN_KEY_FILE}) cannot be used: ${why}`);
    }
  }
  if (config.OPENAI_ORG_ID !== undefined) {
    if (config.TENANT_ID === undefined) {
      problems.push("OPENAI_ORG_ID requires TENANT_ID: the organization's data must belong to a tenant");
    }
    if (OPENAI_ADMIN_KEY_FILE === undefined) {
      problems.push(
        "OPENAI_ADMIN_KEY_FILE must be set with OPENAI_ORG_ID: the organization has no admin key",
      );
    }
  }
  if (config.OPENAI_ORG_ID === undefined && config.SECRETS_KEY === undefined) {
    problems.push(
      "SECRETS_KEY (to poll the connections made with `aiaudit connect openai`) or OPENAI_ORG_ID with an admin key must be set: there is nothing to poll",
    );
  }
  const pseudonymKeys = pseudonymKeysFrom(
    { PSEUDONYM_KEY, PSEUDONYM_MASTER_KEY, PSEUDONYM_KEYRING_FILE },
    config.TENANT_ID,
    problems,
  );
  if (problems.length > 0 || pseudonymKeys === undefined) throw configError(problems);
  return { ...config, adminKey, pseudonymKeys };
}
