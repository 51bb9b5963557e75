/** OpenAI's times are integer Unix seconds (simulators/openai/reference §1); records carry epoch ms. */
import { timeRangeIssue } from "@aiaudit/ingest";

const LATEST_EXPIRY_MS = Date.UTC(2300, 0, 1);

export type TimeResult = { ok: true; ms: number } | { ok: false; reason: string };

/**
 * `seconds` as epoch ms, if it is a plausible time: an integer between 2008-01-01 and now + 1 day.
 * A value that fits only when read as milliseconds says so (a unit error passes any type check).
 */
export function fromSeconds(field: string, seconds: unknown, now: number, future = false): TimeResult {
  if (typeof seconds !== "number" || !Number.isInteger(seconds)) {
    return { ok: false, reason: `${field} is not integer Unix seconds (${typeof seconds})` };
  }
  // An expiry lies ahead by nature: it may be any time before 2300.
  const latest = future ? LATEST_EXPIRY_MS : now;
  if (timeRangeIssue(field, seconds * 1000, latest) === undefined) return { ok: true, ms: seconds * 1000 };
  // The hint uses the same range: an expiry a week ahead sent in ms would otherwise get none.
  const hint = timeRangeIssue(field, seconds, latest) === undefined ? ": milliseconds?" : "";
  const range = future ? "2008-01-01 .. 2300-01-01" : "2008-01-01 .. now+1d";
  return { ok: false, reason: `${field} ${seconds} is out of range (${range})${hint}` };
}

/** As `fromSeconds`, for a field that may be null or absent (null then). */
export function fromSecondsOrNull(
  field: string,
  seconds: unknown,
  now: number,
  future = false,
): TimeResult | { ok: true; ms: null } {
  return seconds === null || seconds === undefined
    ? { ok: true, ms: null }
    : fromSeconds(field, seconds, now, future);
}
