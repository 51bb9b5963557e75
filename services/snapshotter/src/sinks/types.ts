import type { ClickHouse } from "@aiaudit/clickhouse";
import type { DeadLetter, TopicNames } from "@aiaudit/contracts";
import type { Telemetry } from "../telemetry.ts";

export interface SinkDeps {
  ch: ClickHouse;
  topics: TopicNames;
  telemetry: Telemetry;
  /** Writes poison records to the dead-letter topic (one transaction); resolves when written. */
  deadLetters(letters: DeadLetter[]): Promise<void>;
  /** Most rows of one insert: a batch with more is inserted in chunks. @default 100000 */
  maxInsertRows?: number;
}
