/**
 * The streams' positions, read back from the compacted cursors topic at start (read_committed:
 * only cursors whose data was committed with them). The newest record per key wins.
 */
import { codecs, type StreamCursor } from "@aiaudit/contracts";
import type { KafkaClient } from "@aiaudit/kafka";

export function cursorKey(tenant: string, connection: string, stream: string): string {
  return `${tenant}/${connection}/${stream}`;
}

export async function loadCursors(kafka: KafkaClient, topic: string): Promise<Map<string, StreamCursor>> {
  const cursors = new Map<string, StreamCursor>();
  for (const record of await kafka.readTopic(topic, { idleMs: 1000 })) {
    if (!record.key || !record.value) continue;
    cursors.set(record.key, codecs.cursor.decode(record.value));
  }
  return cursors;
}

/** Position of a time-ordered stream: the newest record time seen, and the ids seen inside the overlap window. */
export interface WindowCursor {
  highWaterMs: number;
  /** event id → its timestamp, for ids with timestamp ≥ highWaterMs − overlap. */
  seen: Record<string, number>;
}

export function parseWindowCursor(cursor: StreamCursor | undefined): WindowCursor | undefined {
  if (!cursor?.cursor) return undefined;
  const parsed = JSON.parse(cursor.cursor) as WindowCursor;
  return { highWaterMs: parsed.highWaterMs, seen: parsed.seen };
}
