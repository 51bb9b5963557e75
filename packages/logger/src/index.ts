/**
 * Structured JSON logs on stdout (docs/conventions.md §7): one root logger per process, a child per
 * component, errors under `err`, secrets removed by path before anything is written, and no
 * vendor body or request header in any error (see serialize-error.ts).
 */
import { pino, type Logger, type LoggerOptions } from "pino";
import { serializeError } from "./serialize-error.ts";

export type { Logger };
export { serializeError, type SerializedError } from "./serialize-error.ts";

/**
 * Paths that may hold a secret anywhere a log call could pass them. pino removes them before
 * serialising, so a token handed to a logger by mistake never reaches stdout.
 */
export const REDACT_PATHS = [
  "token",
  "*.token",
  "*.*.token",
  "password",
  "*.password",
  "apiKey",
  "*.apiKey",
  "api_key",
  "*.api_key",
  "secret",
  "*.secret",
  "key",
  "*.key",
  "authorization",
  "*.authorization",
  "*.headers.authorization",
  "*.*.headers.authorization",
  "req.headers.cookie",
  "config.KAFKA_SASL_PASSWORD",
  "config.CLICKHOUSE_PASSWORD",
  "config.PSEUDONYM_KEY",
  "config.SECRETS_KEY",
  "config.GITHUB_TOKEN",
  "config.OPENAI_ADMIN_KEY",
  "adminKey",
  "*.adminKey",
];

export interface LoggerSettings {
  /** Service name, in every line as `service`. */
  name: string;
  /** @default "info" */
  level?: LoggerOptions["level"];
  /** Where lines go. @default stdout */
  destination?: pino.DestinationStream;
}

export function createLogger(settings: LoggerSettings): Logger {
  const options: LoggerOptions = {
    name: settings.name,
    level: settings.level ?? "info",
    base: { service: settings.name },
    redact: { paths: REDACT_PATHS, censor: "[redacted]" },
    serializers: { err: serializeError },
    hooks: {
      // pino takes the message of an error logged on its own (`log.error(err)`) from the error,
      // which may be a vendor body: take the serialized one instead.
      logMethod(args, method) {
        const [first, second] = args as unknown[];
        if (first instanceof Error && second === undefined) {
          const { message } = serializeError(first) as { message: string };
          return method.apply(this, [first, message]);
        }
        return method.apply(this, args);
      },
    },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return settings.destination ? pino(options, settings.destination) : pino(options);
}
