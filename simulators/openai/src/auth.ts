/**
 * Bearer keys: which org an admin key belongs to, how a wrong key is echoed (masked, never
 * whole), and what the request log keeps of the header (the scheme only).
 */
import type { SimulatedOpenaiOrg } from "./state.ts";

/** The key from `Authorization: Bearer <key>`. */
export function bearer(header: string | undefined): string | undefined {
  return /^Bearer\s+(\S+)\s*$/i.exec(header ?? "")?.[1];
}

/** The scheme only (`Bearer`), never the credential; `unrecognized` for anything else. */
export function authScheme(header: string | undefined): string | undefined {
  if (!header) return undefined;
  return /^(Bearer|Basic)\s/i.exec(header)?.[1] ?? "unrecognized";
}

/** `sk-ab***cd`, as OpenAI echoes a wrong key: a short key is not echoed at all. */
export function maskKey(key: string): string {
  return key.length >= 16 ? `${key.slice(0, 5)}***${key.slice(-2)}` : "***";
}

/** The org whose admin keys include `key` (read live: tests may change `sim.orgs`). */
export function orgForKey(
  orgs: Map<string, SimulatedOpenaiOrg>,
  key: string,
): SimulatedOpenaiOrg | undefined {
  for (const org of orgs.values()) if (org.adminKeys.includes(key)) return org;
  return undefined;
}

export const MISSING_KEY_MESSAGE =
  "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY).";

export const incorrectKeyMessage = (key: string): string =>
  `Incorrect API key provided: ${maskKey(key)}. You can find your API key at https://platform.openai.com/account/api-keys.`;

export const NOT_ADMIN_KEY_MESSAGE =
  "You have insufficient permissions for this operation. The Administration API requires an admin API key; project and user API keys cannot call it.";
