/**
 * Checks every transform shares: a time must be plausible, and a rejected record keeps an id.
 */
import type { Pseudonymizer } from "@aiaudit/crypto";

/** No vendor record predates 2008 (GitHub's founding); an earlier time is a unit error, e.g. seconds read as ms. */
export const EARLIEST_MS = Date.UTC(2008, 0, 1);
export const DAY_MS = 86_400_000;

const inRange = (ms: number, now: number) => ms >= EARLIEST_MS && ms <= now + DAY_MS;

/**
 * Why an epoch-millisecond time is not plausible, or undefined when it lies between 2008-01-01 and
 * `now` + 1 day (clocks drift; a day is generous). Vendors document a unit, but an integer in
 * seconds or microseconds passes any type check and would move a stream's high-water mark to 1970
 * or to the year 56,000: the reason names the unit that would fit.
 */
export function timeRangeIssue(field: string, ms: number, now: number): string | undefined {
  if (inRange(ms, now)) return undefined;
  const unit = inRange(ms * 1000, now)
    ? "seconds?"
    : inRange(ms / 1000, now)
      ? "microseconds?"
      : inRange(ms / 1_000_000, now)
        ? "nanoseconds?"
        : undefined;
  return `${field} ${ms} is out of range (2008-01-01 .. now+1d)${unit ? `: ${unit}` : ""}`;
}

/**
 * The id of a record the vendor gave none (or none we could read): `raw:` + keyed hash of the record
 * as received, so the stream can remember that it dead-lettered it and not do so again on the
 * next overlapping read. Keyed, because a plain hash of a small record can be guessed back.
 */
export function rawRecordId(raw: unknown, pseudonymizer: Pseudonymizer): string {
  return `raw:${pseudonymizer.mac(raw === undefined ? "undefined" : JSON.stringify(raw))}`;
}
