/**
 * The observable events of ingest-copilot, named once (docs/conventions.md §8): each writes its
 * log line and moves its Prometheus metric together.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Logger } from "@aiaudit/logger";

/** The service's metrics, on the registry `/metrics` serves (one per service instance). */
function metricsOn(registry: Registry) {
  const registers = [registry];
  return {
    polls: new Counter({
      name: "aiaudit_ingest_copilot_polls_total",
      help: "Stream polls by outcome (ok, failed) and error code.",
      labelNames: ["stream", "outcome", "code"],
      registers,
    }),
    published: new Counter({
      name: "aiaudit_ingest_copilot_records_published_total",
      help: "Records published to Kafka, by stream.",
      labelNames: ["stream"],
      registers,
    }),
    duplicates: new Counter({
      name: "aiaudit_ingest_copilot_duplicates_skipped_total",
      help: "Records GitHub served again and that were not published again, by stream.",
      labelNames: ["stream"],
      registers,
    }),
    rejected: new Counter({
      name: "aiaudit_ingest_copilot_records_rejected_total",
      help: "Records that failed validation and went to the dead-letter topic, by stream.",
      labelNames: ["stream"],
      registers,
    }),
    lastSuccess: new Gauge({
      name: "aiaudit_ingest_copilot_last_success_timestamp_seconds",
      help: "When each stream of each connection last polled successfully.",
      labelNames: ["connection", "stream"],
      registers,
    }),
    rateLimited: new Counter({
      name: "aiaudit_ingest_copilot_rate_limited_total",
      help: "GitHub rate-limit answers waited out, by kind.",
      labelNames: ["kind"],
      registers,
    }),
  };
}

export function telemetry(log: Logger, registry: Registry = new Registry()) {
  const m = metricsOn(registry);
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
      m.rejected.inc({ stream: fields.stream });
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
      m.published.inc({ stream: fields.stream }, fields.published);
      m.duplicates.inc({ stream: fields.stream }, fields.duplicates);
      log.info({ event: "stream_polled", ...fields }, "stream polled");
    },
    streamSucceeded(fields: { connection: string; stream: string }) {
      m.polls.inc({ stream: fields.stream, outcome: "ok", code: "" });
      m.lastSuccess.set(fields, Date.now() / 1000);
    },
    streamFailed(fields: { connection: string; stream: string; code: string }) {
      m.polls.inc({ stream: fields.stream, outcome: "failed", code: fields.code });
    },
    pollFailed(fields: { connection: string; stream: string; err: unknown; retryable: boolean }) {
      log.error(
        { event: "poll_failed", ...fields },
        "poll failed; what it had not committed is read again next time",
      );
    },
    retryScheduled(fields: { connection: string; stream: string; inSeconds: number }) {
      log.info({ event: "retry_scheduled", ...fields }, "the failed poll is tried again after a backoff");
    },
    connectionTakenOver(fields: { connection: string; stream: string }) {
      log.info(
        { event: "connection_taken_over", ...fields },
        "another instance polls this connection now (its producer fenced ours): stopped here",
      );
    },
    connectionsAssigned(fields: { partitions: number[]; connections: number }) {
      log.info(
        { event: "connections_assigned", ...fields },
        "connection partitions assigned to this instance",
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
      m.rateLimited.inc({ kind: fields.kind });
      log.warn({ event: "rate_limited", ...fields }, "GitHub rate limit hit, waiting");
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
