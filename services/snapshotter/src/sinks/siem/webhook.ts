/**
 * The generic webhook destination (docs/siem.md): a batch of events as one Standard Webhooks
 * message (https://www.standardwebhooks.com/), so any receiver with a Standard Webhooks library
 * can check where it came from and when.
 *
 * - `webhook-id` is derived from the events' ids: a batch sent again (a retry, or the forwarder's
 *   re-delivery after a crash) has the same id, for the receiver to drop the repeat.
 * - `webhook-timestamp` and the signature are made for every attempt: a late retry is not refused
 *   by the receiver's replay tolerance (5 minutes).
 * - The body depends on the events only (its `timestamp` is the latest event's time), so the same
 *   batch is the same bytes each time.
 */
import { createHash, createHmac } from "node:crypto";
import { checkDestinationUrl } from "./address-guard.ts";
import { createDestinationAgent, postWithRetry, type RetryOptions } from "./delivery.ts";
import type { Destination, ForwardedEvent } from "./types.ts";

export interface WebhookDestinationOptions {
  url: string;
  /** `whsec_<base64>`: the HMAC key is the decoded bytes. */
  secret: string;
  /** Lets the destination be plain http: and on loopback/private networks (a lab receiver). */
  allowPrivate: boolean;
  retry?: RetryOptions;
  /** Epoch ms: the signatures' clock. @default Date.now */
  now?: () => number;
}

/** The Standard Webhooks headers of one message. */
export interface WebhookHeaders {
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
}

/** An event as the webhook and Splunk bodies carry it: snake_case, times in RFC 3339 with ms. */
export interface EventJson {
  id: string;
  time: string;
  module: string;
  kind: string;
  event_type: string | null;
  tenant: string;
  org: string;
  data: Record<string, unknown>;
}

const SECRET_FORMAT = /^whsec_([A-Za-z0-9+/]+={0,2})$/;

/** The HMAC key of a `whsec_` secret; the error never quotes the secret. */
export function webhookKey(secret: string): Buffer {
  const match = SECRET_FORMAT.exec(secret);
  const key = match?.[1] === undefined ? Buffer.alloc(0) : Buffer.from(match[1], "base64");
  if (key.length === 0) {
    throw new RangeError("the webhook secret must be whsec_ followed by base64 (Standard Webhooks)");
  }
  return key;
}

/** Signs one message (Standard Webhooks v1: HMAC-SHA256 over `<id>.<timestamp>.<body>`). */
export function signWebhook(
  secret: string | Buffer,
  id: string,
  timestampSeconds: number,
  body: string,
): WebhookHeaders {
  const key = typeof secret === "string" ? webhookKey(secret) : secret;
  const timestamp = String(Math.floor(timestampSeconds));
  const signature = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`, "utf8").digest("base64");
  return { "webhook-id": id, "webhook-timestamp": timestamp, "webhook-signature": `v1,${signature}` };
}

/** The message id of a batch: the same events, the same id. */
export function webhookId(events: readonly ForwardedEvent[]): string {
  const digest = createHash("sha256")
    .update(events.map((e) => e.id).join("\n"), "utf8")
    .digest("hex");
  return `msg_${digest.slice(0, 32)}`;
}

/** An event's JSON, shared by the webhook body and the HEC event. */
export function eventJson(event: ForwardedEvent): EventJson {
  return {
    id: event.id,
    time: new Date(event.time).toISOString(),
    module: event.module,
    kind: event.kind,
    event_type: event.eventType,
    tenant: event.tenant,
    org: event.org,
    data: event.data,
  };
}

/** The message body: `{"type":"aiaudit.events","timestamp":…,"data":{"events":[…]}}`. */
export function webhookBody(events: readonly ForwardedEvent[]): string {
  const latest = events.reduce((max, e) => Math.max(max, e.time), 0);
  return JSON.stringify({
    type: "aiaudit.events",
    timestamp: new Date(latest).toISOString(),
    data: { events: events.map(eventJson) },
  });
}

/**
 * A Standard Webhooks destination. Throws a RangeError now for a URL the guard refuses or a secret
 * that is not `whsec_<base64>`, rather than at the first batch.
 */
export function createWebhookDestination(options: WebhookDestinationOptions): Destination {
  const url = checkDestinationUrl(options.url, { allowPrivate: options.allowPrivate });
  const key = webhookKey(options.secret);
  const agent = createDestinationAgent(url, options.allowPrivate);
  const now = options.now ?? Date.now;
  const secrets = [options.secret, options.secret.slice("whsec_".length)];
  return {
    async send(events, signal) {
      if (events.length === 0) return;
      const id = webhookId(events);
      const body = webhookBody(events);
      await postWithRetry(
        {
          url,
          agent,
          allowPrivate: options.allowPrivate,
          body,
          secrets,
          headers: () => ({
            "content-type": "application/json",
            "user-agent": "aiaudit-siem",
            ...signWebhook(key, id, now() / 1000, body),
          }),
          ...(signal === undefined ? {} : { signal }),
        },
        options.retry,
      );
    },
  };
}
