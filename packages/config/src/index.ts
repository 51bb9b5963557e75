/**
 * Settings come from the environment once, through a zod schema, in each service's `loadConfig`
 * (docs/conventions.md §2). A bad setting stops the process with a message naming the variable and
 * what it is for, never a stack trace.
 */
import { z } from "zod";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import { hostPorts, key32, tenantId } from "./values.ts";

export { csv, hostPorts, key32, readTextFile, tenantId } from "./values.ts";
export {
  pseudonymKeyEnv,
  pseudonymKeysFrom,
  type PseudonymKeySettings,
  type PseudonymKeys,
} from "./pseudonym-keys.ts";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` with `schema`, whose keys are the environment variable names. A variable that is
 * set but empty is an error naming it: `KAFKA_BROKERS=` is more often a template that failed to
 * fill in than a wish for the default, and silently running against the default broker hides
 * that. (A variable whose default is the empty string, like a password, may be set empty.)
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  const fields = schema.shape as Record<string, z.ZodType>;
  const present: Record<string, string> = {};
  const problems: string[] = [];
  for (const [variable, field] of Object.entries(fields)) {
    const value = env[variable];
    if (value === undefined) continue;
    if (value === "" && defaultOf(field) !== "") problems.push(setButEmpty(variable, field));
    else present[variable] = value;
  }
  const result = schema.safeParse(present);
  if (result.success && problems.length === 0) return result.data;
  for (const issue of result.error?.issues ?? []) {
    const variable = issue.path.join(".") || "(environment)";
    if (env[variable] === "" && present[variable] === undefined) continue; // already said: set but empty
    const what = fields[variable]?.description ? ` (${fields[variable].description})` : "";
    if (present[variable] === undefined) problems.push(`${variable} is not set${what}`);
    else problems.push(`${variable} is malformed: ${issue.message}${what}`);
  }
  throw configError(problems);
}

/** The value a field takes when its variable is unset; undefined when it has none. */
function defaultOf(field: z.ZodType): unknown {
  const result = field.safeParse(undefined);
  return result.success ? result.data : undefined;
}

function setButEmpty(variable: string, field: z.ZodType): string {
  const give = field.description ? `give ${field.description}` : "give a value";
  const fallback = defaultOf(field);
  if (fallback !== undefined) {
    return `${variable} is set but empty: unset it for the default ${show(fallback)}, or ${give}`;
  }
  if (field.safeParse(undefined).success) return `${variable} is set but empty: unset it, or ${give}`;
  return `${variable} is set but empty: ${give}`;
}

function show(value: unknown): string {
  if (Array.isArray(value)) return value.map(show).join(",");
  return typeof value === "string" ? value : JSON.stringify(value);
}

/** The error every configuration problem becomes: one message, one problem per line. */
export function configError(problems: string[]): AiauditError {
  return new AiauditError(
    ErrorCodes.CONFIG_INVALID,
    `invalid configuration:\n  - ${problems.join("\n  - ")}`,
  );
}

/** Settings every service shares: where Kafka is and how topics are named. */
export const kafkaEnv = {
  KAFKA_BROKERS: hostPorts
    .default(["127.0.0.1:19092"])
    .describe("host:port,… of the Kafka bootstrap servers, comma-separated"),
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[a-zA-Z0-9._-]+$/, "letters, digits, dot, underscore and dash only")
    .default("aiaudit")
    .describe("prefix of every topic name, <prefix>.<module>.<entity>.v<major>"),
  KAFKA_CLIENT_ID: z.string().default("aiaudit").describe("Kafka client id prefix, shown in broker logs"),
};

/** Settings for ClickHouse: the embedded engine unless CLICKHOUSE_URL names a server. */
export const clickhouseEnv = {
  CLICKHOUSE_URL: z
    .url()
    .optional()
    .describe("HTTP(S) URL of a ClickHouse server or cluster; unset runs the embedded engine (chdb)"),
  CLICKHOUSE_USER: z.string().default("default").describe("ClickHouse user, with CLICKHOUSE_URL"),
  CLICKHOUSE_PASSWORD: z.string().default("").describe("ClickHouse password, with CLICKHOUSE_URL"),
  CLICKHOUSE_DATABASE: z
    .string()
    .regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "an identifier: letters, digits, underscore")
    .default("aiaudit")
    .describe("ClickHouse database that holds the tables"),
  CLICKHOUSE_DATA_DIR: z
    .string()
    .default(".cache/chdb")
    .describe("data directory of the embedded engine, without CLICKHOUSE_URL"),
};

/**
 * How long ClickHouse keeps a row after its event or snapshot time (docs/architecture.md,
 * "Retention"), set by the snapshotter at start and by `aiaudit migrate`: at least six months (AI
 * Act art. 26(6)), or 0 to keep rows forever.
 */
export const retentionEnv = {
  CLICKHOUSE_TTL_DAYS: z.coerce
    .number()
    .int("a whole number of days")
    .refine((days) => days === 0 || days >= 183, {
      message: "at least 183 days (six months, AI Act art. 26(6)), or 0 to keep rows forever",
    })
    .default(400)
    .describe(
      "days every table keeps a row after its event or snapshot time; at least 183 (six months), 0 keeps rows forever",
    ),
};

export const LOG_LEVELS = ["trace", "debug", "info", "warn", "error", "fatal", "silent"] as const;

export const logEnv = {
  LOG_LEVEL: z
    .enum(LOG_LEVELS, { error: "not a log level" })
    .default("info")
    .describe(`minimum log level: ${LOG_LEVELS.join(", ")}`),
};

/**
 * Settings of a service's process (packages/runtime): the port of `/healthz`, `/readyz` and
 * `/metrics`. Each service has its own default, so two of them run side by side on one host.
 */
export function runtimeEnv(defaultHttpPort: number) {
  return {
    HTTP_PORT: z.coerce
      .number()
      .int()
      .min(0)
      .max(65535)
      .default(defaultHttpPort)
      .describe("port of /healthz, /readyz and /metrics; 0 turns the HTTP server off"),
  };
}

/**
 * Settings every ingest service shares (packages/ingest): whose connections it polls, the key
 * that opens their sealed credentials, and its schedule.
 */
export const ingestEnv = {
  TENANT_ID: tenantId
    .optional()
    .describe("the one tenant (customer) this instance serves; unset: every tenant on the connections topic"),
  SECRETS_KEY: key32
    .optional()
    .describe("32-byte key that opens the credentials sealed by `aiaudit connect` (hex or base64)"),
  POLL_INTERVAL_SECONDS: z.coerce
    .number()
    .int()
    .min(60)
    .default(3600)
    .describe("seconds between polls of a connection"),
  POLL_RETRY_FIRST_SECONDS: z.coerce
    .number()
    .int()
    .min(1)
    .max(3600)
    .default(15)
    .describe("seconds before a failed poll is tried again; doubled on each failure, at most 5 minutes"),
  AUDIT_OVERLAP_MINUTES: z.coerce
    .number()
    .int()
    .min(0)
    .default(30)
    .describe("minutes each audit-log poll re-reads before the newest event, for late arrivals"),
};
