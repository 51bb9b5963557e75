/**
 * The observable events of the packer (docs/conventions.md §8): each writes its log line and moves
 * its Prometheus metric (`aiaudit_packer_*`) together. No token, key or pack content is ever logged.
 */
import { Counter, Gauge, Registry } from "prom-client";
import type { RequestFields } from "@aiaudit/http";
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger, registry: Registry = new Registry()) {
  const registers = [registry];
  const packs = new Counter({
    name: "aiaudit_packer_packs_total",
    help: "Pack requests by trigger (api, schedule), module and outcome (created, reused, failed).",
    labelNames: ["trigger", "module", "outcome"],
    registers,
  });
  const requests = new Counter({
    name: "aiaudit_packer_http_requests_total",
    help: "API requests by route and status code.",
    labelNames: ["route", "status"],
    registers,
  });
  const failedRuns = new Gauge({
    name: "aiaudit_packer_scheduled_packs_failing",
    help: "Scheduled packs whose last attempt failed (each is retried).",
    registers,
  });
  const failing = new Set<string>();
  const runKey = (f: { tenant: string; module: string; periodStart: string }) =>
    `${f.tenant}/${f.module}/${f.periodStart}`;

  return {
    packBuilt(fields: {
      trigger: "api" | "schedule";
      tenant: string;
      module: string;
      periodStart: string;
      periodEnd: string;
      packId: string;
      sequence: number;
      reused: boolean;
      ms: number;
    }) {
      packs.inc({
        trigger: fields.trigger,
        module: fields.module,
        outcome: fields.reused ? "reused" : "created",
      });
      log.info({ event: "pack_built", ...fields }, fields.reused ? "pack served again" : "pack built");
    },
    packFailed(fields: {
      trigger: "api" | "schedule";
      tenant: string;
      module: string;
      periodStart: string;
      periodEnd: string;
      err: unknown;
    }) {
      packs.inc({ trigger: fields.trigger, module: fields.module, outcome: "failed" });
      log.error({ event: "pack_failed", ...fields }, "pack could not be built");
    },
    scheduledPackBuilt(fields: {
      tenant: string;
      module: string;
      periodStart: string;
      attempts: number;
      ms: number;
    }) {
      failing.delete(runKey(fields));
      failedRuns.set(failing.size);
      log.info({ event: "scheduled_pack_built", ...fields }, "scheduled pack built");
    },
    scheduledPackFailed(fields: {
      tenant: string;
      module: string;
      periodStart: string;
      attempts: number;
      err: unknown;
      nextAttemptAt: string;
    }) {
      failing.add(runKey(fields));
      failedRuns.set(failing.size);
      log.error(
        { event: "scheduled_pack_failed", ...fields },
        "scheduled pack failed: it is tried again later",
      );
    },
    scheduleFailed(fields: { err: unknown }) {
      log.error(
        { event: "schedule_failed", ...fields },
        "the scheduled run failed; it runs again at its next time",
      );
    },
    packRunUnreadable(fields: { key: string; err: unknown }) {
      log.error({ event: "pack_run_unreadable", ...fields }, "a pack-runs record cannot be read, skipped");
    },
    tenantRecordUnreadable(fields: { key: string | null; offset: string; err: unknown }) {
      log.error(
        { event: "tenant_record_unreadable", ...fields },
        "a tenants-topic record cannot be read, skipped",
      );
    },
    /** One line per API request: who (tenant and token id, never the token) did what, and the answer. */
    request(fields: RequestFields) {
      requests.inc({ route: fields.route, status: String(fields.status) });
      log.info({ event: "api_request", ...fields }, "API request");
    },
    internalError(fields: { method: string; url: string; requestId: string; err: unknown }) {
      log.error({ event: "request_failed", ...fields }, "a request failed inside the packer");
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
