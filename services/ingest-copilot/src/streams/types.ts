import type { StreamCursor, TopicNames } from "@aiaudit/contracts";
import type { Pseudonymizer } from "@aiaudit/crypto";
import type { TransactionalProducer } from "@aiaudit/kafka";
import type { GithubClient } from "../source/github-client.ts";
import type { Telemetry } from "../telemetry.ts";

/** What every stream of a connection shares. */
export interface StreamDeps {
  github: GithubClient;
  /** This stream's transactional producer (created on first use). */
  producer: () => Promise<TransactionalProducer>;
  topics: TopicNames;
  pseudonymizer: Pseudonymizer;
  telemetry: Telemetry;
  /** Last committed cursors, updated after each commit. */
  cursors: Map<string, StreamCursor>;
  now?: () => number;
}
