import type { StreamBase } from "@aiaudit/ingest";
import type { GithubClient } from "../source/github-client.ts";
import type { Telemetry } from "../telemetry.ts";

/** What every stream of a GitHub connection shares. */
export interface StreamDeps extends StreamBase {
  github: GithubClient;
  telemetry: Telemetry;
}
