/**
 * GitHub's answers as coded errors (docs/conventions.md §5), so nothing outside `source/` knows
 * octokit: 401 → UPSTREAM_UNAUTHORIZED (the connection breaks), unreachable or timed out →
 * UPSTREAM_UNREACHABLE, other statuses → UPSTREAM_HTTP, and a 2xx whose body is not the
 * documented shape → UPSTREAM_INVALID. A vendor body is never quoted: only described
 * (size, content type, hash), since it may name people.
 */
import { RequestError } from "@octokit/request-error";
import type { z } from "zod";
import { AiauditError, ErrorCodes, describeBody, isAiauditError } from "@aiaudit/errors";

/** Runs one GitHub call; whatever it throws comes out as an AiauditError. */
export async function vendorCall<T>(what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    throw toVendorError(what, err);
  }
}

export function toVendorError(what: string, err: unknown): AiauditError {
  if (isAiauditError(err)) return err;
  if (err instanceof RequestError && err.response) {
    const status = err.status;
    const data: unknown = err.response.data;
    // GitHub's message can name people ("… for user ID 123"): describe the body, never quote it.
    const said = ` (${describeBody(data, err.response.headers["content-type"])})`;
    if (status === 401) {
      return new AiauditError(ErrorCodes.UPSTREAM_UNAUTHORIZED, `${what}: GitHub answered 401${said}`, {
        cause: err,
        details: { status },
      });
    }
    return new AiauditError(ErrorCodes.UPSTREAM_HTTP, `${what}: GitHub answered ${status}${said}`, {
      retryable: status >= 500 || status === 429 || status === 403,
      cause: err,
      details: { status },
    });
  }
  const cause = err instanceof Error ? (err.cause ?? err) : err;
  const reason = cause instanceof Error ? cause.message : String(cause);
  return new AiauditError(
    ErrorCodes.UPSTREAM_UNREACHABLE,
    `${what}: GitHub could not be reached (${reason})`,
    {
      retryable: true,
      cause: err,
    },
  );
}

/**
 * The body of a 2xx answer, checked against the documented shape: a body that is HTML, truncated
 * JSON (octokit hands those over as a string) or the wrong shape fails the poll.
 */
export function expectShape<S extends z.ZodType>(
  what: string,
  schema: S,
  data: unknown,
  contentType: string | undefined,
): z.infer<S> {
  const parsed = schema.safeParse(data);
  if (parsed.success) return parsed.data;
  const problem = typeof data === "string" ? "not JSON" : parsed.error.issues.map(issueText).join("; ");
  throw new AiauditError(
    ErrorCodes.UPSTREAM_INVALID,
    `${what}: GitHub answered with a body that is not the documented shape (${problem}; ${describeBody(data, contentType)})`,
    { retryable: true, details: { content_type: contentType ?? null } },
  );
}

function issueText(issue: z.core.$ZodIssue): string {
  return `${issue.path.join(".") || "(body)"}: ${issue.message}`;
}

/** An invalid answer found after reading it (e.g. counts that disagree). */
export function invalidAnswer(what: string, problem: string): AiauditError {
  return new AiauditError(
    ErrorCodes.UPSTREAM_INVALID,
    `${what}: GitHub's answer contradicts itself (${problem})`,
    {
      retryable: true,
    },
  );
}
