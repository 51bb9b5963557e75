/**
 * Connecting an OpenAI organization: tell an admin key from the other kinds by its prefix, probe
 * it before it is stored, build the sealed connection record, and build the SDK client. Shared by
 * the `aiaudit` command and ingest-openai, so both speak the same words about a refused key.
 */
export { createOpenaiClient, OPENAI_API_URL, type OpenaiClientOptions } from "./client.ts";
export { ADMIN_KEYS_PAGE, checkAdminKeyShape, type KeyShape } from "./key.ts";
export {
  AUDIT_LOGGING_OFF,
  explain,
  probeOpenai,
  REJECTED_ADMIN_KEY,
  type ProbeResult,
  type ProbeTarget,
} from "./probe.ts";
export { openaiConnection, openaiConnectionId, type NewOpenaiConnection } from "./connection.ts";
