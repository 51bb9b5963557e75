/**
 * The Splunk HTTP Event Collector destination (docs/siem.md): events in HEC's batch format (one
 * JSON object per event, newline-separated) to `<base>/services/collector/event`, authorized with
 * `Splunk <token>`. Each event is indexed at its own time, with `source` aiaudit:<module> and
 * `sourcetype` aiaudit:<module>:<kind>, its body the same JSON a webhook receiver gets.
 *
 * HEC answers `{"text":…,"code":…}`; code 9 (server busy) and 408/429/5xx are tried again, any
 * other code is a refusal naming the code and its text (docs.splunk.com, "Troubleshoot HTTP Event
 * Collector"). A batch larger than `maxBatchBytes` goes in several POSTs, one after the other; if a
 * later one fails, the whole batch is sent again later, so Splunk may get the earlier part twice
 * (the events' ids tell the copies apart).
 */
import { checkDestinationUrl } from "./address-guard.ts";
import {
  createDestinationAgent,
  excerpt,
  isRetryableStatus,
  postWithRetry,
  type Answer,
  type RetryOptions,
  type Verdict,
} from "./delivery.ts";
import type { Destination, ForwardedEvent } from "./types.ts";
import { eventJson } from "./webhook.ts";

export interface SplunkHecDestinationOptions {
  /** The HEC base, e.g. https://splunk:8088 (the endpoint's path may be included). */
  url: string;
  token: string;
  /** Lets the destination be plain http: and on loopback/private networks (a lab Splunk). */
  allowPrivate: boolean;
  /** The Splunk index; the token's default index when absent. */
  index?: string;
  retry?: RetryOptions;
  /** Body bytes of one POST; a single larger event goes alone. @default 1000000 */
  maxBatchBytes?: number;
}

const ENDPOINT = "/services/collector/event";
const BUSY = 9;

/** `<base>/services/collector/event`, not doubled when `base` already ends with it. */
export function hecEndpoint(base: URL): URL {
  const url = new URL(base.href);
  const path = url.pathname.replace(/\/+$/, "");
  url.pathname = path.endsWith(ENDPOINT) ? path : `${path}${ENDPOINT}`;
  return url;
}

/** One event in HEC's format; `time` is epoch seconds with exactly three decimals. */
export function hecEvent(event: ForwardedEvent, index: string | undefined): string {
  const ms = Math.round(event.time);
  const seconds = `${Math.floor(ms / 1000)}.${String(((ms % 1000) + 1000) % 1000).padStart(3, "0")}`;
  const rest = JSON.stringify({
    host: "aiaudit",
    source: `aiaudit:${event.module}`,
    sourcetype: `aiaudit:${event.module}:${event.kind}`,
    ...(index === undefined ? {} : { index }),
    event: eventJson(event),
  });
  return `{"time":${seconds},${rest.slice(1)}`;
}

/** HEC's answer: success is code 0 (or a 2xx without a code); code 9 and 408/429/5xx are retried. */
export function hecVerdict(answer: Answer, where: string): Verdict {
  const { status } = answer;
  const hec = parseHecAnswer(answer.body);
  const ok = status >= 200 && status < 300;
  if (ok && (hec === null || hec.code === 0)) return { outcome: "ok" };
  if (status >= 300 && status < 400) {
    return { outcome: "refuse", reason: `HTTP ${status} from ${where}: redirects are not followed` };
  }
  const reason =
    hec === null
      ? `HTTP ${status} from ${where}: ${excerpt(answer.body)}`
      : `HEC code ${hec.code} (${excerpt(hec.text)}), HTTP ${status} from ${where}`;
  const retry = hec?.code === BUSY || isRetryableStatus(status);
  return { outcome: retry ? "retry" : "refuse", reason };
}

function parseHecAnswer(body: string): { code: number; text: string } | null {
  try {
    const parsed: unknown = JSON.parse(body);
    if (typeof parsed !== "object" || parsed === null) return null;
    const { code, text } = parsed as { code?: unknown; text?: unknown };
    if (typeof code !== "number") return null;
    return { code, text: typeof text === "string" ? text : "" };
  } catch {
    return null;
  }
}

/** Consecutive events of at most `max` bytes of body each (newline-separated). */
function bodies(lines: string[], max: number): string[] {
  const out: string[] = [];
  let current: string[] = [];
  let size = 0;
  for (const line of lines) {
    const bytes = Buffer.byteLength(line, "utf8") + 1;
    if (current.length > 0 && size + bytes > max) {
      out.push(current.join("\n"));
      current = [];
      size = 0;
    }
    current.push(line);
    size += bytes;
  }
  if (current.length > 0) out.push(current.join("\n"));
  return out;
}

/**
 * A Splunk HEC destination. Throws a RangeError now for a URL the guard refuses or an empty or
 * malformed token, rather than at the first batch.
 */
export function createSplunkHecDestination(options: SplunkHecDestinationOptions): Destination {
  const url = hecEndpoint(checkDestinationUrl(options.url, { allowPrivate: options.allowPrivate }));
  if (!/^[\x21-\x7e]+$/.test(options.token)) {
    throw new RangeError("the Splunk HEC token must be non-empty printable ASCII without spaces");
  }
  const agent = createDestinationAgent(url, options.allowPrivate);
  const maxBatchBytes = options.maxBatchBytes ?? 1_000_000;
  const headers = {
    authorization: `Splunk ${options.token}`,
    "content-type": "application/json",
    "user-agent": "aiaudit-siem",
  };
  return {
    async send(events, signal) {
      const lines = events.map((e) => hecEvent(e, options.index));
      for (const body of bodies(lines, maxBatchBytes)) {
        await postWithRetry(
          {
            url,
            agent,
            allowPrivate: options.allowPrivate,
            body,
            secrets: [options.token],
            judge: hecVerdict,
            headers: () => headers,
            ...(signal === undefined ? {} : { signal }),
          },
          options.retry,
        );
      }
    },
  };
}
