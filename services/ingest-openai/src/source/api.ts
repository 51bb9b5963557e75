/**
 * OpenAI's answers as coded errors and checked pages (docs/conventions.md §5), so nothing outside
 * `source/` knows the SDK. Every list is read through the SDK's typed admin resources with the
 * admin key, as the raw response (`.asResponse()`): the SDK's pages read a body without `data` as
 * an empty page (`body.data || []`) and hand an HTML 200 over as data, and an answer that is not
 * the documented shape must fail the poll, never read as "empty". The SDK's own retries (408,
 * 409, 429 with retry-after, 5xx, network) and timeout apply per request; the stream runner only
 * retries a whole poll after the SDK gave up.
 *
 * 401 → UPSTREAM_UNAUTHORIZED (the connection breaks); a 403 from the audit log that says audit
 * logging is off → AUDIT_LOG_DISABLED; unreachable or timed out → UPSTREAM_UNREACHABLE; other
 * statuses → UPSTREAM_HTTP. A vendor body is never quoted, only described: OpenAI's 401 repeats
 * part of the key.
 */
import { APIConnectionError, APIError } from "openai";
import { z } from "zod";
import { AiauditError, ErrorCodes, describeBody, isAiauditError } from "@aiaudit/errors";

export function toVendorError(what: string, err: unknown): AiauditError {
  if (isAiauditError(err)) return err;
  if (err instanceof APIConnectionError) {
    const cause = err.cause instanceof Error ? err.cause.message : err.message;
    return new AiauditError(
      ErrorCodes.UPSTREAM_UNREACHABLE,
      `${what}: OpenAI could not be reached (${cause})`,
      {
        retryable: true,
        cause: err,
      },
    );
  }
  if (err instanceof APIError && typeof err.status === "number") {
    const status = err.status;
    const said = ` (${describeBody(err.error ?? null, (err.headers as Headers | undefined)?.get("content-type"))})`;
    if (status === 401) {
      return new AiauditError(ErrorCodes.UPSTREAM_UNAUTHORIZED, `${what}: OpenAI answered 401${said}`, {
        details: { status },
      });
    }
    if (status === 403 && what.includes("audit_logs") && /audit log/i.test(errorMessage(err.error))) {
      return new AiauditError(
        ErrorCodes.AUDIT_LOG_DISABLED,
        `${what}: OpenAI answered 403: audit logging is switched off in the organization's settings`,
        { details: { status } },
      );
    }
    return new AiauditError(ErrorCodes.UPSTREAM_HTTP, `${what}: OpenAI answered ${status}${said}`, {
      retryable: status >= 500 || status === 429 || status === 408,
      details: { status },
    });
  }
  return new AiauditError(
    ErrorCodes.UPSTREAM_UNREACHABLE,
    `${what}: ${err instanceof Error ? err.message : String(err)}`,
    { retryable: true, cause: err },
  );
}

/** OpenAI's `ErrorResponse.error.message` (the SDK hands over the inner object), for matching only. */
function errorMessage(error: unknown): string {
  const message = (error as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : "";
}

/** The list envelope (simulators/openai/reference §1): `data` an array, `has_more` a boolean. */
const listEnvelope = z.looseObject({
  object: z.string(),
  data: z.array(z.unknown()),
  has_more: z.boolean(),
  first_id: z.string().nullish(),
  last_id: z.string().nullish(),
});

/** The body of a 2xx answer, parsed and checked; HTML, truncated JSON or another shape throws. */
async function listBody(what: string, response: Response) {
  const contentType = response.headers.get("content-type") ?? undefined;
  const text = await response.text();
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw invalid(what, `not JSON; ${describeBody(text, contentType)}`);
  }
  const parsed = listEnvelope.safeParse(data);
  if (!parsed.success) {
    const problem = parsed.error.issues
      .map((i) => `${i.path.join(".") || "(body)"}: ${i.message}`)
      .join("; ");
    throw invalid(what, `${problem}; ${describeBody(data, contentType)}`);
  }
  return parsed.data;
}

function invalid(what: string, problem: string): AiauditError {
  return new AiauditError(
    ErrorCodes.UPSTREAM_INVALID,
    `${what}: OpenAI answered with a body that is not the documented shape (${problem})`,
    { retryable: true },
  );
}

/**
 * Every page of a list, `after` the previous page's `last_id` (or, for admin keys, the last
 * item's id, as the SDK's CursorPage does). A page that says there is more but names no next
 * cursor, or one already followed (the previous page's or any earlier one's), fails: followed
 * blindly it would end early or loop for ever.
 */
export async function* listPages(
  what: string,
  request: (page: { after?: string }) => { asResponse(): Promise<Response> },
  next: "last_id" | "last_item" = "last_id",
): AsyncGenerator<unknown[]> {
  let after: string | undefined;
  const followed = new Set<string>();
  for (;;) {
    let body;
    try {
      body = await listBody(what, await request(after === undefined ? {} : { after }).asResponse());
    } catch (err) {
      throw toVendorError(what, err);
    }
    yield body.data;
    if (!body.has_more) return;
    const last = body.data.at(-1) as { id?: unknown } | undefined;
    const cursor = next === "last_id" ? body.last_id : typeof last?.id === "string" ? last.id : undefined;
    if (!cursor || followed.has(cursor)) {
      throw invalid(
        what,
        `has_more is true but the next cursor is ${cursor ? "one already followed" : "missing"}`,
      );
    }
    followed.add(cursor);
    after = cursor;
  }
}

/** All pages of a list, concatenated (snapshots read whole lists). */
export async function listAll(...args: Parameters<typeof listPages>): Promise<unknown[]> {
  const items: unknown[] = [];
  for await (const page of listPages(...args)) items.push(...page);
  return items;
}
