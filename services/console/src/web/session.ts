/**
 * The dashboard's session: the API token itself, in an HttpOnly, SameSite=Strict cookie set after
 * the tenant directory accepted it (so it is checked again on every request and a revoked token
 * ends the session at once), and the cross-site checks of a form POST. SameSite=Strict keeps the
 * cookie off requests started by another site; the Origin (or Referer) host must also be this
 * console's, as OWASP's CSRF Prevention Cheat Sheet suggests ("Verifying Origin With Standard
 * Headers"). A browser never lets a page of another site set Origin, Host or X-Forwarded-Host.
 */
import type { IncomingHttpHeaders } from "node:http";

export const SESSION_COOKIE = "aiaudit_session";

/** The value of cookie `name` in a Cookie header, or undefined. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at > 0 && part.slice(0, at).trim() === name) return part.slice(at + 1).trim() || undefined;
  }
  return undefined;
}

const attributes = (secure: boolean): string =>
  `HttpOnly; SameSite=Strict; Path=/${secure ? "; Secure" : ""}`;

/** Set-Cookie for a session of `token` (an `aat_…` token the directory accepted: no character needs quoting). */
export function sessionCookie(token: string, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; ${attributes(secure)}`;
}

/** Set-Cookie that ends the session. */
export function endedSessionCookie(secure: boolean): string {
  return `${SESSION_COOKIE}=; Max-Age=0; ${attributes(secure)}`;
}

const urlOf = (text: string): URL | undefined => {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
};

/**
 * Whether a POST comes from a page of this console: its Origin, or without one its Referer, names
 * the host the request was sent to (Host, or X-Forwarded-Host behind a proxy that rewrites Host).
 * A request with neither (an old client, a privacy setting) passes: the SameSite cookie still holds.
 */
export function sameOrigin(headers: IncomingHttpHeaders): boolean {
  const source = headers.origin ?? headers.referer;
  if (source === undefined) return true;
  const from = urlOf(source);
  if (from === undefined || from.host === "") return false;
  const forwarded = headers["x-forwarded-host"];
  const hosts = [headers.host, ...(Array.isArray(forwarded) ? forwarded : [forwarded])];
  // Through URL, so that "host:443" and an https origin without a port compare equal.
  const same = (host: string) =>
    urlOf(`${from.protocol}//${host.split(",")[0]?.trim() ?? ""}`)?.host === from.host;
  return hosts.some((h) => h !== undefined && same(h));
}

/** YYYY-MM of the calendar month (UTC) before the one of `nowMs`: what the pack button seals. */
export function lastMonthOf(nowMs: number): string {
  const now = new Date(nowMs);
  const year = now.getUTCMonth() === 0 ? now.getUTCFullYear() - 1 : now.getUTCFullYear();
  const month = now.getUTCMonth() === 0 ? 12 : now.getUTCMonth();
  return `${year}-${String(month).padStart(2, "0")}`;
}
