/**
 * Validate a raw GitHub seat (copilot-seat-details, simulators/github/reference) and map it to the contract
 * record with the person pseudonymized. Lenient where GitHub itself is: its own examples omit
 * `assigning_team.type`, and unknown fields are tolerated (the schema says
 * additionalProperties: false, but a new field must not stop ingestion). Strict on time: every
 * date must be plausible (see checks.ts).
 */
import { z } from "zod";
import type { CopilotSeat } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import { DAY_MS, EARLIEST_MS, timeRangeIssue } from "@aiaudit/ingest";

const isoDateTime = z.iso.datetime({ offset: true });

export const githubSeatSchema = z.looseObject({
  created_at: isoDateTime,
  updated_at: isoDateTime.nullish(),
  pending_cancellation_date: z.iso.date().nullish(),
  last_activity_at: isoDateTime.nullish(),
  last_activity_editor: z.string().nullish(),
  last_authenticated_at: isoDateTime.nullish(),
  plan_type: z.enum(["business", "enterprise", "unknown"]).optional(),
  assignee: z.looseObject({ login: z.string().min(1), id: z.number().int(), type: z.string().optional() }),
  organization: z.looseObject({ login: z.string() }).nullish(),
  assigning_team: z.looseObject({ slug: z.string(), type: z.string().optional() }).nullish(),
});

export type GithubSeat = z.infer<typeof githubSeatSchema>;

export type SeatResult = { ok: true; seat: CopilotSeat } | { ok: false; reason: string };

const millis = (iso: string) => Date.parse(iso);
const optionalMillis = (iso: string | null | undefined) => (iso ? Date.parse(iso) : null);

/**
 * `pending_cancellation_date` is the start of the next billing cycle, in the future by design:
 * it may lie up to a year ahead, not a day.
 */
const CANCELLATION_HORIZON_MS = 366 * DAY_MS;

/** Why a seat's dates are implausible, if they are. */
function seatTimeIssues(s: GithubSeat, now: number): string[] {
  const issues: string[] = [];
  for (const field of ["created_at", "updated_at", "last_activity_at", "last_authenticated_at"] as const) {
    const iso = s[field];
    const issue = iso ? timeRangeIssue(field, millis(iso), now) : undefined;
    if (issue) issues.push(`${issue} (${iso})`);
  }
  const cancellation = s.pending_cancellation_date;
  if (cancellation) {
    const ms = millis(cancellation);
    if (ms < EARLIEST_MS || ms > now + CANCELLATION_HORIZON_MS)
      issues.push(`pending_cancellation_date ${cancellation} is out of range (2008-01-01 .. now+366d)`);
  }
  return issues;
}

/** `now` (epoch ms): the poll's time, the upper bound of a plausible date (+1 day). */
export function toSeatRecord(
  raw: unknown,
  pseudonymizer: Pseudonymizer,
  now: number = Date.now(),
): SeatResult {
  const parsed = githubSeatSchema.safeParse(raw);
  if (!parsed.success) {
    const reason = parsed.error.issues.map((i) => `${i.path.join(".") || "(seat)"}: ${i.message}`).join("; ");
    return { ok: false, reason: `seat failed validation: ${reason}` };
  }
  const s = parsed.data;
  const timeIssues = seatTimeIssues(s, now);
  if (timeIssues.length > 0) return { ok: false, reason: `seat failed validation: ${timeIssues.join("; ")}` };
  const assignee = pseudonymizer.pseudonym(s.assignee.login);
  const grantor = s.assigning_team?.slug ?? null;
  return {
    ok: true,
    seat: {
      // At organization scope a person holds one seat; the grantor is kept for enterprise scope.
      seat_id: s.organization ? `${assignee}:${s.organization.login}:${grantor ?? ""}` : assignee,
      assignee_pseudonym: assignee,
      assignee_type: s.assignee.type ?? null,
      organization: s.organization?.login ?? null,
      assigning_team: grantor,
      plan_type: s.plan_type ?? "unknown",
      created_at: millis(s.created_at),
      pending_cancellation_date: s.pending_cancellation_date ?? null,
      last_activity_at: optionalMillis(s.last_activity_at),
      last_activity_editor: s.last_activity_editor ?? null,
      last_authenticated_at: optionalMillis(s.last_authenticated_at),
      updated_at: optionalMillis(s.updated_at),
    },
  };
}
