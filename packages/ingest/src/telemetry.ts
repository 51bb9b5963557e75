/**
 * The observable events every ingest service shares (docs/conventions.md §8): each writes its log
 * line and moves its Prometheus metric together. Metric names carry the service's name
 * (`aiaudit_ingest_copilot_polls_total`, `aiaudit_ingest_openai_polls_total`, …); a service adds
 * the events of its own vendor beside these.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { Logger } from "@aiaudit/logger";

/** The service's metrics, on the registry `/metrics` serves (one per service instance). */
function metricsOn(registry: Registry, service: string) {
  const registers = [registry];
  const name = (what: string) => `aiaudit_${service.replace(/-/g, "_")}_${what}`;
  return {
    polls: new Counter({
      name: name("polls_total"),
      help: "Stream polls by outcome (ok, failed) and error code.",
      labelNames: ["stream", "outcome", "code"],
      registers,
    }),
    published: new Counter({
      name: name("records_published_total"),
      help: "Records published to Kafka, by stream.",
      labelNames: ["stream"],
      registers,
    }),
    duplicates: new Counter({
      name: name("duplicates_skipped_total"),
      help: "Records the vendor served again and that were not published again, by stream.",
      labelNames: ["stream"],
      registers,
    }),
    rejected: new Counter({
      name: name("records_rejected_total"),
      help: "Records that failed validation and went to the dead-letter topic, by stream.",
      labelNames: ["stream"],
      registers,
    }),
    lastSuccess: new Gauge({
      name: name("last_success_timestamp_seconds"),
      help: "When each stream of each connection last polled successfully.",
      labelNames: ["connection", "stream"],
      registers,
    }),
  };
}

/** `service`: the process's name, e.g. ingest-openai. */
export function ingestTelemetry(service: string, log: Logger, registry: Registry = new Registry()) {
  const m = metricsOn(registry, service);
  return {
    snapshotPublished(fields: {
      org: string;
      stream: string;
      snapshotId: string;
      rows: number;
      rejected: number;
      ms: number;
    }) {
      m.published.inc({ stream: fields.stream }, fields.rows);
      log.info({ event: "snapshot_published", ...fields }, "snapshot published");
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
    connectionNoted(fields: { connection: string; message: string | null }) {
      log.warn(
        { event: "connection_noted", ...fields },
        "the connection's status message changed (it is still polled)",
      );
    },
  };
}

export type IngestTelemetry = ReturnType<typeof ingestTelemetry>;
