/** OpenAI's times are integer Unix seconds (simulators/openai/reference §1); records carry epoch ms. */
import { timeRangeIssue } from "@aiaudit/ingest";

export type TimeResult = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * `seconds` as epoch ms, if it is a plausible time: an integer between 2008-01-01 and now + 1 day.
 * A value that fits only when read as milliseconds says so (a unit error passes any type check).
 */
export function fromSeconds(field: string, seconds: unknown, now: number): TimeResult {
  if (typeof seconds !== "number" || !Number.isInteger(seconds)) {
    return { ok: false, reason: `${field} is not integer Unix seconds (${typeof seconds})` };
  }
  if (timeRangeIssue(field, seconds * 1000, now) === undefined) return { ok: true, ms: seconds * 1000 };
  const hint = timeRangeIssue(field, seconds, now) === undefined ? ": milliseconds?" : "";
  return { ok: false, reason: `${field} ${seconds} is out of range (2008-01-01 .. now+1d)${hint}` };
}

/** As `fromSeconds`, for a field that may be null or absent (null then). */
export function fromSecondsOrNull(
  field: string,
  seconds: unknown,
  now: number,
): TimeResult | { ok: true; ms: null } {
  return seconds === null || seconds === undefined
    ? { ok: true, ms: null }
    : fromSeconds(field, seconds, now);
}
