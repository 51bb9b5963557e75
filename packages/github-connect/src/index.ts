/**
 * Connecting a GitHub organization or enterprise: probe a token before it is stored, and build
 * the sealed connection record. Shared by the `aiaudit` command and ingest-copilot, so both
 * speak the same words about a refused token.
 */
export {
  probeGithub,
  explain,
  permissionsNeeded,
  REJECTED_TOKEN,
  type Check,
  type ProbeResult,
  type ProbeTarget,
} from "./probe.ts";
export { githubConnection, githubConnectionId, type NewConnection } from "./connection.ts";
export { parseTokenExpiration } from "./token.ts";
