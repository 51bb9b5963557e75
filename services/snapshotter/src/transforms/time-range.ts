/**
 * The sink's own sanity check of times (epoch milliseconds), before ClickHouse sees them. A time
 * in the wrong unit can still be a valid DateTime64: seconds read as milliseconds land in January
 * 1970, and a value ClickHouse cannot store may be clamped or wrapped rather than refused. Every
 * time this pipeline records is GitHub or OpenAI activity: nothing before 2008 (GitHub's launch),
 * nothing more than a day ahead of this host's clock (clock skew between hosts stays well inside).
 */

/** 2008-01-01T00:00:00Z. */
export const EARLIEST_MS = Date.UTC(2008, 0, 1);
/** How far ahead of this host's clock a time may be. */
export const FUTURE_SLACK_MS = 24 * 60 * 60 * 1000;

/**
 * Why one of `times` is not a plausible time, or undefined when all are (null means "no time",
 * which is allowed). `now` is passed in so the check stays pure.
 */
export function timeRangeViolation(times: Record<string, number | null>, now: number): string | undefined {
  const latest = now + FUTURE_SLACK_MS;
  for (const [field, ms] of Object.entries(times)) {
    if (ms === null) continue;
    if (!Number.isFinite(ms) || ms < EARLIEST_MS || ms > latest) {
      return (
        `${field} ${ms} is not a time between ${new Date(EARLIEST_MS).toISOString()} and ` +
        `${new Date(latest).toISOString()} (epoch milliseconds expected; microseconds or seconds?)`
      );
    }
  }
  return undefined;
}

/** A `YYYY-MM-DD` day as epoch ms of its UTC midnight, or NaN when it is not a calendar day. */
export function dayMs(day: string): number {
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(day) ? Date.parse(`${day}T00:00:00Z`) : NaN;
  // Date.parse rolls 2026-02-30 over to March 2nd; a day that does not read back is not one.
  return Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== day ? NaN : ms;
}
