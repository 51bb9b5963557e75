/**
 * Settings come from the environment once, through a zod schema, in each service's `loadConfig`
 * (docs/conventions.md §2). A bad setting stops the process with a message naming the variable and
 * what it is for, never a stack trace.
 */
import { z } from "zod";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Parses `env` with `schema`, whose keys are the environment variable names. Empty strings count
 * as unset, so `FOO=` falls back to the default like a missing variable.
 */
export function parseEnv<S extends z.ZodObject>(schema: S, env: Env): z.infer<S> {
  const present: Record<string, string> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    if (value !== undefined && value !== "") present[key] = value;
  }
  const result = schema.safeParse(present);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const variable = issue.path.join(".") || "(environment)";
    const description = (schema.shape as Record<string, z.ZodType | undefined>)[variable]?.description;
    const what = description ? ` (${description})` : "";
    if (present[variable] === undefined) return `${variable} is not set${what}`;
    return `${variable} is malformed: ${issue.message}${what}`;
  });
  return failConfig(problems);
}

function failConfig(problems: string[]): never {
  throw new AiauditError(ErrorCodes.CONFIG_INVALID, `invalid configuration:\n  - ${problems.join("\n  - ")}`);
}

/** A comma-separated list: `a,b, c` → ["a","b","c"]. */
export const csv = z.string().transform((s) =>
  s
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);

/** A 32-byte key given as 64 hex characters or base64. */
export const key32 = z.string().transform((value, ctx) => {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (bytes.length !== 32) {
    ctx.addIssue({ code: "custom", message: "must be 32 bytes, as 64 hex characters or base64" });
    return z.NEVER;
  }
  return bytes;
});

/** Settings every service shares: where Kafka is and how topics are named. */
export const kafkaEnv = {
  KAFKA_BROKERS: csv
    .default(["127.0.0.1:19092"])
    .describe("comma-separated Kafka bootstrap servers, host:port"),
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

export const logEnv = {
  LOG_LEVEL: z
    .enum(["trace", "debug", "info", "warn", "error", "fatal", "silent"])
    .default("info")
    .describe("minimum log level"),
};
