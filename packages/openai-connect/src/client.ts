/**
 * The one place the `openai` SDK client is built (docs/conventions.md: each vendor SDK imported in
 * one place). Every option the SDK would otherwise read from the environment is passed explicitly,
 * so an `OPENAI_API_KEY`, `OPENAI_ADMIN_KEY`, `OPENAI_ORG_ID`, `OPENAI_PROJECT_ID`,
 * `OPENAI_BASE_URL` or `OPENAI_LOG` of the shell or the pod never decides which key is sent where.
 *
 * Only the admin key is set: the admin resources authenticate with it (`Authorization: Bearer
 * <admin key>`, simulators/openai/reference/README.md §3 "Client setup"), and the SDK accepts a
 * client built with an admin key alone. `apiKey: null` keeps the regular bearer scheme empty, so
 * the key never goes to a non-admin endpoint.
 */
import OpenAI from "openai";

/** OpenAI's API, `/v1` included (the SDK's `baseURL` convention; the spec's paths omit it). */
export const OPENAI_API_URL = "https://api.openai.com/v1";

export interface OpenaiClientOptions {
  /** The API base URL with its `/v1`, e.g. https://api.openai.com/v1 or `${sim.url}/v1`. */
  baseUrl: string;
  /** An Organization Admin Key (`sk-admin-…`). */
  adminKey: string;
  /** Time one request may take, connection included. @default 30000 */
  timeoutMs?: number;
  /** Retries of 408, 409, 429, 5xx and connection errors, honouring retry-after. @default 2 */
  maxRetries?: number;
}

export function createOpenaiClient(options: OpenaiClientOptions): OpenAI {
  return new OpenAI({
    adminAPIKey: options.adminKey,
    apiKey: null,
    organization: null,
    project: null,
    webhookSecret: null,
    baseURL: options.baseUrl.replace(/\/+$/, ""),
    timeout: options.timeoutMs ?? 30_000,
    maxRetries: options.maxRetries ?? 2,
    // The SDK's own logging would print request details to the console: callers log what they need.
    logLevel: "off",
  });
}
