/**
 * The observable events of the console (docs/conventions.md §8): each writes its log line and moves
 * its Prometheus metric (`aiaudit_console_*`) together. No token, secret, cookie or body is logged.
 */
import { Counter, Registry } from "prom-client";
import type { RequestFields } from "@aiaudit/http";
import type { Logger } from "@aiaudit/logger";

export function telemetry(log: Logger, registry: Registry = new Registry()) {
  const registers = [registry];
  const requests = new Counter({
    name: "aiaudit_console_http_requests_total",
    help: "API and dashboard requests by route and status code.",
    labelNames: ["route", "status"],
    registers,
  });
  const unreadable = new Counter({
    name: "aiaudit_console_unreadable_records_total",
    help: "Records of the control topics that could not be read (skipped).",
    labelNames: ["topic"],
    registers,
  });
  return {
    request(fields: RequestFields) {
      requests.inc({ route: fields.route, status: String(fields.status) });
      log.info({ event: "api_request", ...fields }, "request");
    },
    internalError(fields: { method: string; url: string; requestId: string; err: unknown }) {
      log.error({ event: "request_failed", ...fields }, "request failed inside the console");
    },
    connected(fields: { tenant: string; connectionId: string; module: string }) {
      log.info({ event: "connected", ...fields }, "connection made from the console");
    },
    disconnected(fields: { tenant: string; connectionId: string }) {
      log.info({ event: "disconnected", ...fields }, "connection removed from the console");
    },
    recordUnreadable(fields: { topic: string; key: string | null; offset: string; err: unknown }) {
      unreadable.inc({ topic: fields.topic });
      log.warn({ event: "record_unreadable", ...fields }, "control record skipped");
    },
  };
}

export type Telemetry = ReturnType<typeof telemetry>;
