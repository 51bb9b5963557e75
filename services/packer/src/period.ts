/**
 * The period a pack covers: two RFC 3339 instants, checked strictly (a request that names a day
 * that does not exist, or no time zone, is refused rather than guessed), with the end inclusive to
 * the end of its second, so `…T23:59:59Z` covers an event at `23:59:59.500` and not the next day's
 * `00:00:00`. Also the UTC days a period touches, which coverage.json lists one by one. What is
 * wrong with a period is thrown as REQUEST_INVALID, which the HTTP API answers with 400.
 */
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

export const DAY_MS = 86_400_000;
/** The longest period a pack may cover: a leap year. */
export const MAX_PERIOD_DAYS = 366;

/** RFC 3339 §5.6 date-time: a full date, a full time, an offset (`Z` or `±hh:mm`). */
const RFC3339 =
  /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

export interface Period {
  /** The first instant covered (epoch ms). */
  startMs: number;
  /** The last instant covered, inclusive: the last millisecond of the end's second (epoch ms). */
  endMs: number;
}

const invalid = (message: string): AiauditError => new AiauditError(ErrorCodes.REQUEST_INVALID, message);

/** Epoch ms of an RFC 3339 date-time (milliseconds truncated), or a REQUEST_INVALID error naming what is wrong. */
export function parseRfc3339(what: string, text: string): number {
  const m = RFC3339.exec(text);
  if (m === null) {
    throw invalid(`${what} ${JSON.stringify(text)} is not an RFC 3339 date-time (e.g. 2026-04-01T00:00:00Z)`);
  }
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Number((m[7] ?? "").padEnd(3, "0").slice(0, 3));
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth) {
    throw invalid(`${what} ${JSON.stringify(text)} names a day that does not exist`);
  }
  // Leap seconds (:60) are refused: no vendor API reports them, and JS dates cannot hold them.
  if (hour > 23 || minute > 59 || second > 59) {
    throw invalid(`${what} ${JSON.stringify(text)} names a time that does not exist`);
  }
  const offsetHours = Number(m[10] ?? 0);
  const offsetMinutes = Number(m[11] ?? 0);
  if (offsetHours > 23 || offsetMinutes > 59) {
    throw invalid(`${what} ${JSON.stringify(text)} has an impossible UTC offset`);
  }
  const offsetMs = (m[9] === "-" ? -1 : 1) * (offsetHours * 60 + offsetMinutes) * 60_000;
  // Date.UTC maps years 0–99 to 1900–1999: set the full year explicitly.
  const local = new Date(Date.UTC(2000, month - 1, day, hour, minute, second, ms));
  local.setUTCFullYear(year);
  return local.getTime() - offsetMs;
}

/**
 * Parses a pack period. Throws REQUEST_INVALID when either end is not RFC 3339, when the start is not
 * before the end, or when the period is longer than a (leap) year.
 */
export function parsePeriod(start: string, end: string): Period {
  const startMs = parseRfc3339("period_start", start);
  const endGiven = parseRfc3339("period_end", end);
  if (startMs >= endGiven) {
    throw invalid(`period_start ${start} must be before period_end ${end}`);
  }
  const endMs = Math.floor(endGiven / 1000) * 1000 + 999;
  if (endMs + 1 - startMs > MAX_PERIOD_DAYS * DAY_MS) {
    throw invalid(`the period ${start} .. ${end} is longer than ${MAX_PERIOD_DAYS} days`);
  }
  return { startMs, endMs };
}

/** The UTC days (`YYYY-MM-DD`) the period touches, first to last. */
export function utcDays({ startMs, endMs }: Period): string[] {
  const days: string[] = [];
  for (let t = Math.floor(startMs / DAY_MS) * DAY_MS; t <= endMs; t += DAY_MS) {
    days.push(new Date(t).toISOString().slice(0, 10));
  }
  return days;
}

/** An instant as ClickHouse's DateTime64(3) text, for query parameters. */
export function clickhouseTime(ms: number): string {
  return new Date(ms).toISOString().replace("T", " ").replace("Z", "");
}
