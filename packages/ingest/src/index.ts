/**
 * What every ingest service shares (docs/design.md §2–3): the connections followed over Kafka's
 * group protocol, a runner for the streams of a connection, the cursor store, the one way to
 * publish records with their cursor, the windowed (time-ordered, deduplicated) stream, and the
 * common telemetry. A vendor's service brings its client, its streams and its transforms.
 */
export { DAY_MS, EARLIEST_MS, rawRecordId, timeRangeIssue } from "./checks.ts";
export {
  connectionKey,
  createConnections,
  type ConnectionHooks,
  type ConnectionIdentity,
  type Connections,
  type Poller,
} from "./connections.ts";
export { createCursorStore, decodeCursor, type CursorRecords, type CursorStore } from "./cursors.ts";
export { publishWithCursor, type CursorWrite } from "./publish.ts";
export {
  createIngestService,
  type HealthyPoller,
  type IngestContext,
  type IngestService,
} from "./service.ts";
export { withCommittedState, type StreamBase } from "./stream.ts";
export {
  createStreamRunner,
  retryDelayMs,
  type StreamHealth,
  type StreamRunner,
  type StreamRunnerOptions,
} from "./stream-runner.ts";
export { ingestTelemetry, type IngestTelemetry } from "./telemetry.ts";
export {
  CLOCK_SKEW_MS,
  createWindowedStream,
  type Parsed,
  type WindowedPollResult,
  type WindowedStreamSettings,
} from "./windowed.ts";
