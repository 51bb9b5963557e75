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
  /**
   * `topic/partition` of the partitions whose last batch this instance sank since it was given
   * them: their next batch follows its own commit. Any other batch may repeat rows a crashed
   * owner inserted without committing, and is checked against the tables first
   * (landed-rows.ts). The service clears it at every rebalance. @default a set of the sink's own
   */
  inSync?: Set<string>;
}
