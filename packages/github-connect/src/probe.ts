/**
 * Checks a GitHub credential before it is stored (docs/design.md §6): GET /orgs/{org} (or the
 * enterprise's seat list), then one request to each endpoint the streams read, and turns any
 * failure into a message a person can act on. See simulators/github/reference: 401 is a bad or expired
 * token, 403 a missing permission or a rate limit (told apart by headers), 404 a wrong name or a
 * token whose owner is not a member (GitHub answers 404, not 403, to outsiders).
 */
import { Octokit } from "@octokit/rest";
import { RequestError } from "@octokit/request-error";
import { parseTokenExpiration } from "./token.ts";

export interface ProbeTarget {
  baseUrl: string;
  token: string;
  kind: "ORGANIZATION" | "ENTERPRISE";
  slug: string;
  /** Time each request may take before the probe gives up. @default 15000 */
  timeoutMs?: number;
}

export type ProbeResult =
  | { ok: true; scopes: string[]; expiresAt: number | null; warnings: string[] }
  | { ok: false; status: number; message: string };

/** What to do about a 401: the same words at connect time and when a connection breaks later. */
export const REJECTED_TOKEN =
  "GitHub rejected the token (401 Bad credentials): it is mistyped, expired or revoked. Create a new token and connect again.";

export interface Check {
  route: string;
  params: Record<string, unknown>;
  /** What the endpoint is for, in the message. */
  what: string;
  /** Permissions it needs, named for both token kinds. */
  needs: string;
}

function checks(target: ProbeTarget): Check[] {
  if (target.kind === "ENTERPRISE") {
    const e = { enterprise: target.slug, per_page: 1 };
    return [
      {
        route: "GET /enterprises/{enterprise}/copilot/billing/seats",
        params: e,
        what: "enterprise Copilot seats",
        needs:
          "classic scope manage_billing:copilot or read:enterprise (enterprise owner or billing manager)",
      },
      {
        route: "GET /enterprises/{enterprise}/audit-log",
        params: e,
        what: "the enterprise audit log",
        needs: "classic scope read:audit_log (enterprise owner)",
      },
    ];
  }
  const o = { org: target.slug };
  return [
    {
      route: "GET /orgs/{org}",
      params: o,
      what: "the organization",
      needs: "membership of the organization",
    },
    {
      route: "GET /orgs/{org}/copilot/billing/seats",
      params: { ...o, per_page: 1 },
      what: "Copilot seats",
      needs:
        'fine-grained: organization permission "GitHub Copilot Business" (read) or "Members" (read); classic: manage_billing:copilot or read:org (organization owner)',
    },
    {
      route: "GET /orgs/{org}/audit-log",
      params: { ...o, per_page: 1 },
      what: "the audit log",
      needs:
        'fine-grained: organization permission "Administration" (read); classic: read:audit_log (organization owner)',
    },
  ];
}

/** What a token needs for an organization or an enterprise: the probe's checks, in words. */
export function permissionsNeeded(kind: ProbeTarget["kind"]): { what: string; needs: string }[] {
  return checks({ kind, slug: "-", baseUrl: "", token: "" }).map(({ what, needs }) => ({ what, needs }));
}

const header = (headers: Record<string, unknown> | undefined, name: string) => {
  const value = headers?.[name];
  return typeof value === "string" ? value : undefined;
};

/** A base URL that does not answer like GitHub's REST API: a web page, a proxy, a typo. */
function notAnApi(target: ProbeTarget, status: number, contentType: string | undefined) {
  return {
    status,
    message:
      `${target.baseUrl} does not look like the GitHub REST API (it answered ${status} with ${contentType ?? "no content type"})` +
      " — check --base-url (github.com: https://api.github.com; GHES: https://HOST/api/v3; GHE.com: https://api.SUBDOMAIN.ghe.com)",
  };
}

const isJson = (contentType: string | undefined) =>
  contentType !== undefined && /\bjson\b/i.test(contentType);

/**
 * Why a request got no answer at all: Octokit reports a refused connection, a failed DNS lookup
 * or a timeout as a RequestError with status 500 and no response (the fetch error in `cause`),
 * which must not read as "GitHub answered 500".
 */
export function unreachable(err: unknown, timeoutMs: number): string | undefined {
  if (err instanceof RequestError && err.response !== undefined) return undefined;
  const chain: Error[] = [];
  for (let e: unknown = err; e instanceof Error && chain.length < 5; e = e.cause) chain.push(e);
  const codes = chain.map((e) => (e as NodeJS.ErrnoException).code ?? "");
  const has = (...wanted: string[]) => codes.some((code) => wanted.includes(code));
  const tls = codes.find((code) => /CERT|SSL|TLS/.test(code));
  if (
    chain.some((e) => e.name === "TimeoutError" || e.name === "AbortError") ||
    has("ETIMEDOUT", "UND_ERR_CONNECT_TIMEOUT")
  )
    return `no answer within ${timeoutMs / 1000} s`;
  if (has("ECONNREFUSED")) return "connection refused";
  if (has("ENOTFOUND", "EAI_AGAIN")) return "the host name does not resolve";
  if (has("ECONNRESET", "EPIPE", "UND_ERR_SOCKET")) return "the connection was closed";
  if (tls !== undefined) return `its TLS certificate is not accepted (${tls})`;
  // Any other failure without an answer: the innermost error says what happened.
  if (err instanceof RequestError) return chain[chain.length - 1]?.message ?? err.message;
  return undefined;
}

/** Maps one failed request to the message a person can act on. */
export function explain(
  err: unknown,
  target: ProbeTarget,
  check: Check,
): { status: number; message: string } {
  const where = `${target.kind === "ENTERPRISE" ? "enterprise" : "organization"} "${target.slug}" at ${target.baseUrl}`;
  const why = unreachable(err, target.timeoutMs ?? DEFAULT_TIMEOUT_MS);
  if (why !== undefined)
    return { status: 0, message: `cannot reach ${target.baseUrl}: ${why} — check --base-url` };
  if (!(err instanceof RequestError)) {
    return {
      status: 0,
      message: `the check of ${where} failed: ${err instanceof Error ? err.message : String(err)}`,
    };
  }
  const headers = err.response?.headers as Record<string, unknown> | undefined;
  const remaining = header(headers, "x-ratelimit-remaining");
  const retryAfter = header(headers, "retry-after");
  const contentType = header(headers, "content-type");
  if (err.response && !isJson(contentType)) return notAnApi(target, err.status, contentType);
  const body = JSON.stringify(err.response?.data ?? "").toLowerCase();
  if (
    err.status === 429 ||
    (err.status === 403 && (remaining === "0" || retryAfter !== undefined || body.includes("rate limit")))
  ) {
    const reset = header(headers, "x-ratelimit-reset");
    const when = retryAfter
      ? `in ${retryAfter} s`
      : reset
        ? `at ${new Date(Number(reset) * 1000).toISOString()}`
        : "later";
    return {
      status: err.status,
      message: `GitHub rate-limited the check of ${where}; try connecting again ${when}.`,
    };
  }
  switch (err.status) {
    case 401:
      return {
        status: 401,
        message: REJECTED_TOKEN,
      };
    case 403: {
      const accepted = header(headers, "x-accepted-github-permissions");
      const scopes = header(headers, "x-oauth-scopes");
      return {
        status: 403,
        message:
          `The token may not read ${check.what} of ${where} (403): it needs ${check.needs}.` +
          (accepted ? ` GitHub accepts: ${accepted}.` : "") +
          (scopes !== undefined ? ` The token has the scopes: ${scopes || "(none)"}.` : ""),
      };
    }
    case 404:
      return {
        status: 404,
        message: `${where} was not found (404): the name is wrong, or the token's owner is not a member of it${check.route.includes("audit-log") ? " (or its plan has no audit-log API)" : ""}.`,
      };
    default:
      return {
        status: err.status,
        message: `GitHub answered ${err.status} when reading ${check.what} of ${where}; try again later.`,
      };
  }
}

const DEFAULT_TIMEOUT_MS = 15_000;

export async function probeGithub(target: ProbeTarget): Promise<ProbeResult> {
  const timeoutMs = target.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const github = new Octokit({
    auth: target.token,
    baseUrl: target.baseUrl.replace(/\/+$/, ""),
    userAgent: "aiaudit-connect",
    request: {
      retries: 0,
      fetch: (url: string, init: RequestInit = {}) =>
        fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) }),
    },
    log: { debug: () => {}, info: () => {}, warn: () => {}, error: () => {} },
  });
  let scopes: string[] = [];
  let expiresAt: number | null = null;
  for (const check of checks(target)) {
    try {
      const response = await github.request(check.route, check.params as never);
      const headers = response.headers as Record<string, unknown>;
      const contentType = header(headers, "content-type");
      if (!isJson(contentType)) return { ok: false, ...notAnApi(target, response.status, contentType) };
      const granted = header(headers, "x-oauth-scopes");
      if (granted)
        scopes = granted
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean);
      const expiry = header(headers, "github-authentication-token-expiration");
      if (expiry) expiresAt = parseTokenExpiration(expiry);
    } catch (err) {
      return { ok: false, ...explain(err, target, check) };
    }
  }
  const warnings: string[] = [];
  if (expiresAt !== null && expiresAt - Date.now() < 7 * 86_400_000) {
    warnings.push(
      `the token expires on ${new Date(expiresAt).toISOString()}, within 7 days: replace it before then`,
    );
  }
  return { ok: true, scopes, expiresAt, warnings };
}
