/** The observable events of ingest-copilot, named once (docs/conventions.md §8). */
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger) {
  return {
    snapshotPublished(fields: {
      org: string;
      snapshotId: string;
      rows: number;
      rejected: number;
      ms: number;
    }) {
      log.info({ event: "seat_snapshot_published", ...fields }, "seat snapshot published");
    },
    seatsUnchanged(fields: { org: string; snapshotId: string; requests: number }) {
      log.info(
        { event: "seats_unchanged", ...fields },
        "seat list unchanged (304), previous snapshot confirmed",
      );
    },
    recordRejected(fields: { org: string; stream: string; reason: string }) {
      log.warn(
        { event: "record_rejected", ...fields },
        "record failed validation, sent to the dead-letter topic",
      );
    },
    streamPolled(fields: {
      org: string;
      stream: string;
      pages: number;
      published: number;
      duplicates: number;
      rejected: number;
      ms: number;
    }) {
      log.info({ event: "stream_polled", ...fields }, "stream polled");
    },
    pollFailed(fields: { connection: string; stream: string; err: unknown; retryable: boolean }) {
      log.error(
        { event: "poll_failed", ...fields },
        "poll failed; what it had not committed is read again next time",
      );
    },
    connectionBroken(fields: { connection: string; message: string }) {
      log.error(
        { event: "connection_broken", ...fields },
        "connection broken, not polled until it is connected again",
      );
    },
    connectionChanged(fields: { connection: string; status: string }) {
      log.info({ event: "connection_changed", ...fields }, "connection added or changed");
    },
    connectionRemoved(fields: { connection: string }) {
      log.info({ event: "connection_removed", ...fields }, "connection removed");
    },
    usageWindowAtRisk(fields: { enterprise: string; gapHours: number; lost: boolean }) {
      if (fields.lost) {
        log.error(
          { event: "usage_window_exceeded", ...fields },
          "usage records were not polled for over 48 hours: GitHub may have dropped some",
        );
      } else {
        log.warn(
          { event: "usage_window_at_risk", ...fields },
          "usage records not polled for over 36 hours: GitHub keeps them about 48",
        );
      }
    },
    tokenExpiring(fields: { connection: string; expiresAt: string }) {
      log.warn(
        { event: "token_expiring", ...fields },
        "the GitHub token expires within 7 days: connect again with a new one",
      );
    },
    rateLimited(fields: {
      method: string;
      url: string;
      retryAfterSeconds: number;
      kind: "primary" | "secondary";
    }) {
      log.warn({ event: "rate_limited", ...fields }, "GitHub rate limit hit, waiting");
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
