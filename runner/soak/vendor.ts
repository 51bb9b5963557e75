/**
 * What the kill -9 soak (soak.ts) needs from a vendor: a simulator serving a known audit log
 * that repeats events, the ingest service that reads it and its environment, the page count the
 * kills follow, and how to read back what the pipeline wrote (the audit-events topic, the
 * cursors of the audit streams, the ClickHouse table and views). The soak itself is the same for
 * every vendor; github.ts and openai.ts are the two implementations.
 */
import type { TopicNames } from "@aiaudit/contracts";

export type VendorName = "github" | "openai";

/** The part of the soak's options a vendor's source is built from. */
export interface VendorSetup {
  /** Audit events the simulated organization holds. */
  events: number;
  /** The events are spread over this many hours (GitHub: ending an hour ago; OpenAI: a minute ago). */
  spanHours: number;
  /** The simulator's port on 127.0.0.1. */
  port: number;
  /** Events of the previous page served again at the top of each page. */
  repeatAcrossPages: number;
  /** GitHub only: events of the previous poll served again on the next. */
  repeatAcrossPolls: number;
  /** GitHub only: every n-th event is an agent event (the agent stream publishes it). */
  agentEvery: number;
  /** OpenAI only: the ingest's AUDIT_SLICE_MAX_EVENTS (a busier time slice is read again in halves). */
  sliceMaxEvents: number;
  /** The soak's own directory (files the ingest reads, such as an admin key). */
  dataDir: string;
}

/** A running simulator with the audit log, and everything vendor-specific around it. */
export interface SoakVendor {
  name: VendorName;
  /** One line for the progress output: the simulator, its org and its repeats. */
  description: string;
  /** The ingest service's process entry. */
  ingestMain: string;
  /** The ingest's environment beyond PATH, HOME and the Kafka settings. */
  ingestEnv: Record<string, string>;
  /** Every audit event id of the source. */
  expected: ReadonlySet<string>;
  /** Pages the kills follow, asked for so far (GitHub: the Copilot stream's; OpenAI: every audit-log page). */
  streamPages(): number;
  /** Every request on the audit-log endpoint so far. */
  auditLogRequests(): number;
  /** Events the simulator served again (when it counts them). */
  repeatsServed(): number | undefined;
  /** Pages one traversal of every event takes. */
  traversalPages: number;
  /** Pages a (re)started ingest reads before it publishes anything (busy slices abandoned and halved). */
  restartPages: number;
  /** The topic the audit events are published to. */
  eventTopic(topics: TopicNames): string;
  /** An audit-event record's id and its event time (epoch ms). */
  decode(value: Buffer): { id: string; atMs: number };
  /** Cursor keys of the audit streams on the cursors topic. */
  cursorKeys: RegExp;
  /** The ClickHouse table of the audit events (an `event_id` column). */
  eventTable: string;
  /** ClickHouse views whose `count()` must equal the fixture's. */
  views: { name: string; where?: string; expected: number }[];
  close(): Promise<void>;
}
