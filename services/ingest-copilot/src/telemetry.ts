/**
 * The observable events of ingest-copilot, named once (docs/conventions.md §8): those of every
 * ingest service (`@aiaudit/ingest`, metrics `aiaudit_ingest_copilot_*`) and GitHub's own.
 */
import { Counter, Registry } from "prom-client";
import { ingestTelemetry } from "@aiaudit/ingest";
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger, registry: Registry = new Registry()) {
  const rateLimitedTotal = new Counter({
    name: "aiaudit_ingest_copilot_rate_limited_total",
    help: "GitHub rate-limit answers waited out, by kind.",
    labelNames: ["kind"],
    registers: [registry],
  });
  return {
    ...ingestTelemetry("ingest-copilot", log, registry),
    seatsUnchanged(fields: { org: string; snapshotId: string; requests: number }) {
      log.info(
        { event: "seats_unchanged", ...fields },
        "seat list unchanged (304), previous snapshot confirmed",
      );
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
      rateLimitedTotal.inc({ kind: fields.kind });
      log.warn({ event: "rate_limited", ...fields }, "GitHub rate limit hit, waiting");
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
