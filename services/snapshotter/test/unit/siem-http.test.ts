/**
 * The SIEM destinations over real HTTP on 127.0.0.1 (allowPrivate, since loopback is private):
 * webhook deliveries checked by an independent Standard Webhooks implementation (the
 * `standardwebhooks` package), Splunk HEC batches as a HEC receiver reads them, the retry policy,
 * redirects, and secrets kept out of every DeliveryError.
 */
import assert from "node:assert/strict";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, describe, it } from "node:test";
import { Webhook } from "standardwebhooks";
import { postWithRetry, createDestinationAgent } from "../../src/sinks/siem/delivery.ts";
import { createSplunkHecDestination, hecEndpoint } from "../../src/sinks/siem/splunk-hec.ts";
import { DeliveryError, type Destination, type ForwardedEvent } from "../../src/sinks/siem/types.ts";
import { createWebhookDestination, eventJson, signWebhook, webhookId } from "../../src/sinks/siem/webhook.ts";

const SECRET = `whsec_${Buffer.from("a-test-signing-key-of-32-bytes!!").toString("base64")}`;
const TOKEN = "1f2e3d4c-5b6a-4789-8abc-def012345678";

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Handler = (req: Received, res: ServerResponse, index: number) => void;

interface Receiver {
  url: string;
  received: Received[];
}

const servers: Server[] = [];
after(async () => {
  for (const server of servers) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

/** A server on 127.0.0.1 that records every request and answers with `handler`. */
async function receiver(handler: Handler): Promise<Receiver> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const r = { url: req.url ?? "", headers: req.headers, body: Buffer.concat(chunks).toString("utf8") };
      received.push(r);
      handler(r, res, received.length - 1);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** Answers `status` with a JSON body. */
function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { "content-type": "application/json", ...headers });
  res.end(JSON.stringify(body));
}

/** A port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

function event(i: number, overrides: Partial<ForwardedEvent> = {}): ForwardedEvent {
  return {
    id: `evt-${i}`,
    time: Date.UTC(2025, 0, 2, 3, 4, 5, 123) + i * 1000,
    module: "copilot",
    kind: "audit_event",
    eventType: "copilot.cfb_seat_added",
    tenant: "acme",
    org: "acme-org",
    data: { actor: `p_${i}`, seq: i },
    ...overrides,
  };
}

/** Records the pauses instead of waiting. */
function sleeps(): { pauses: number[]; sleep: (ms: number) => Promise<void> } {
  const pauses: number[] = [];
  return { pauses, sleep: (ms) => (pauses.push(ms), Promise.resolve()) };
}

async function deliveryError(destination: Destination, events: ForwardedEvent[], signal?: AbortSignal) {
  try {
    await destination.send(events, signal);
  } catch (err) {
    assert.ok(err instanceof DeliveryError, `expected a DeliveryError, got ${String(err)}`);
    return err;
  }
  assert.fail("the batch was delivered");
}

function assertNoSecret(err: DeliveryError): void {
  for (const secret of [SECRET, SECRET.slice("whsec_".length), TOKEN]) {
    assert.ok(!err.message.includes(secret), `secret in the message: ${err.message}`);
    assert.ok(!err.reason.includes(secret), `secret in the reason: ${err.reason}`);
  }
}

/** A webhook receiver that verifies every delivery with the standardwebhooks package. */
function verifying(then: (res: ServerResponse, index: number) => void): Handler {
  const verifier = new Webhook(SECRET);
  return (req, res, index) => {
    try {
      verifier.verify(req.body, req.headers as Record<string, string>);
    } catch (err) {
      json(res, 401, { error: (err as Error).message });
      return;
    }
    then(res, index);
  };
}

describe("webhook destination: Standard Webhooks", () => {
  it("signs every delivery so that the standardwebhooks verifier accepts it, with the documented body", async () => {
    const r = await receiver(verifying((res) => res.writeHead(204).end()));
    const events = [event(1), event(2, { module: "openai", kind: "user", eventType: null })];
    await createWebhookDestination({ url: `${r.url}/hook`, secret: SECRET, allowPrivate: true }).send(events);

    assert.equal(r.received.length, 1);
    const [got] = r.received;
    assert.ok(got);
    assert.equal(got.url, "/hook");
    assert.equal(got.headers["content-type"], "application/json");
    assert.match(String(got.headers["webhook-id"]), /^msg_[0-9a-f]{32}$/);
    assert.equal(got.headers["webhook-id"], webhookId(events));
    assert.match(String(got.headers["webhook-signature"]), /^v1,[A-Za-z0-9+/]+=*$/);
    const body = JSON.parse(got.body) as { type: string; timestamp: string; data: { events: unknown[] } };
    assert.equal(body.type, "aiaudit.events");
    assert.equal(body.timestamp, "2025-01-02T03:04:07.123Z");
    assert.deepEqual(body.data.events, [
      {
        id: "evt-1",
        time: "2025-01-02T03:04:06.123Z",
        module: "copilot",
        kind: "audit_event",
        event_type: "copilot.cfb_seat_added",
        tenant: "acme",
        org: "acme-org",
        data: { actor: "p_1", seq: 1 },
      },
      eventJson(events[1] as ForwardedEvent),
    ]);
    assert.equal((body.data.events[1] as { event_type: unknown }).event_type, null);

    const verifier = new Webhook(SECRET);
    assert.throws(
      () => verifier.verify(got.body.replace('"seq":1', '"seq":9'), got.headers as Record<string, string>),
      /No matching signature/,
    );
  });

  it("signWebhook agrees with the standardwebhooks signer", () => {
    const at = new Date(1_700_000_000_000);
    const headers = signWebhook(SECRET, "msg_x", at.getTime() / 1000, '{"a":1}');
    assert.equal(headers["webhook-timestamp"], "1700000000");
    assert.equal(headers["webhook-signature"], new Webhook(SECRET).sign("msg_x", at, '{"a":1}'));
  });

  it("a delivery signed more than 5 minutes ago is rejected by the verifier (replay), and not retried", async () => {
    const r = await receiver(verifying((res) => res.writeHead(200).end()));
    const { pauses, sleep } = sleeps();
    const destination = createWebhookDestination({
      url: `${r.url}/hook`,
      secret: SECRET,
      allowPrivate: true,
      now: () => Date.now() - 10 * 60 * 1000,
      retry: { sleep },
    });
    const err = await deliveryError(destination, [event(1)]);
    assert.equal(err.status, 401);
    assert.match(err.reason, /^HTTP 401 from http:\/\/127\.0\.0\.1:\d+\/hook: .*Message timestamp too old/);
    assert.equal(r.received.length, 1);
    assert.deepEqual(pauses, []);
    assertNoSecret(err);
  });

  it("refuses a secret that is not whsec_<base64>, without quoting it", () => {
    assert.throws(
      () =>
        createWebhookDestination({ url: "https://example.com/h", secret: "hunter2!", allowPrivate: false }),
      (err: Error) =>
        err instanceof RangeError && /whsec_/.test(err.message) && !err.message.includes("hunter2"),
    );
  });
});

describe("retries", () => {
  it("503 twice then 200: three attempts, the same webhook-id, each re-signed and verified", async () => {
    const r = await receiver(
      verifying((res, i) => (i < 2 ? json(res, 503, { busy: true }) : res.writeHead(200).end())),
    );
    const { pauses, sleep } = sleeps();
    let clock = Date.now();
    const destination = createWebhookDestination({
      url: `${r.url}/hook`,
      secret: SECRET,
      allowPrivate: true,
      now: () => (clock += 2000),
      retry: { sleep, random: () => 0.5 },
    });
    await destination.send([event(1), event(2)]);
    assert.equal(r.received.length, 3);
    const ids = new Set(r.received.map((x) => x.headers["webhook-id"]));
    assert.equal(ids.size, 1);
    const stamps = new Set(r.received.map((x) => x.headers["webhook-timestamp"]));
    assert.equal(stamps.size, 3, "each attempt carries its own timestamp");
    assert.equal(new Set(r.received.map((x) => x.body)).size, 1, "the body is the same bytes every time");
    assert.deepEqual(pauses, [250, 500], "full jitter: random × 500 ms × 2^attempt");
  });

  it("a 400 is not retried: a DeliveryError naming the status and the start of the answer", async () => {
    const r = await receiver((_req, res) => json(res, 400, { error: "x".repeat(500) }));
    const { pauses, sleep } = sleeps();
    const destination = createWebhookDestination({
      url: `${r.url}/in?key=query-secret`,
      secret: SECRET,
      allowPrivate: true,
      retry: { sleep },
    });
    const err = await deliveryError(destination, [event(1)]);
    assert.equal(err.status, 400);
    assert.match(err.reason, /^HTTP 400 from http:\/\/127\.0\.0\.1:\d+\/in: \{"error":"x+…$/);
    assert.ok(!err.reason.includes("query-secret"));
    assert.ok(err.reason.length < 300);
    assert.equal(r.received.length, 1);
    assert.deepEqual(pauses, []);
  });

  it("a dead port: a DeliveryError once the budget is spent", async () => {
    const port = await deadPort();
    const { pauses, sleep } = sleeps();
    const destination = createWebhookDestination({
      url: `http://127.0.0.1:${port}/hook`,
      secret: SECRET,
      allowPrivate: true,
      retry: { sleep, random: () => 1 },
    });
    const err = await deliveryError(destination, [event(1)]);
    assert.match(
      err.reason,
      /^6 attempts failed, last: connect ECONNREFUSED 127\.0\.0\.1:\d+ \(http:\/\/127\.0\.0\.1/,
    );
    assert.equal(err.status, undefined);
    assert.deepEqual(pauses, [500, 1000, 2000, 4000, 8000]);
    assertNoSecret(err);
  });

  it("the pause grows up to 30 s", async () => {
    const port = await deadPort();
    const { pauses, sleep } = sleeps();
    const destination = createWebhookDestination({
      url: `http://127.0.0.1:${port}/hook`,
      secret: SECRET,
      allowPrivate: true,
      retry: { sleep, random: () => 0.999999, attempts: 9 },
    });
    await deliveryError(destination, [event(1)]);
    assert.equal(pauses.length, 8);
    assert.equal(Math.max(...pauses), 29_999);
  });

  it("429 with Retry-After: that many seconds, capped at 30 s; 408 retried too", async () => {
    const r = await receiver((_req, res, i) => {
      if (i === 0) json(res, 429, {}, { "retry-after": "7" });
      else if (i === 1) json(res, 429, {}, { "retry-after": "3600" });
      else if (i === 2) json(res, 408, {});
      else res.writeHead(202).end();
    });
    const { pauses, sleep } = sleeps();
    const destination = createWebhookDestination({
      url: r.url,
      secret: SECRET,
      allowPrivate: true,
      retry: { sleep, random: () => 0 },
    });
    await destination.send([event(1)]);
    assert.equal(r.received.length, 4);
    assert.deepEqual(pauses, [7000, 30_000, 0]);
  });

  it("an attempt without an answer times out and is retried", async () => {
    const r = await receiver(() => undefined);
    const { pauses, sleep } = sleeps();
    const destination = createWebhookDestination({
      url: r.url,
      secret: SECRET,
      allowPrivate: true,
      retry: { sleep, attempts: 2, timeoutMs: 50 },
    });
    const err = await deliveryError(destination, [event(1)]);
    assert.match(
      err.reason,
      /^2 attempts failed, last: no answer from http:\/\/127\.0\.0\.1:\d+\/ within 50 ms/,
    );
    assert.equal(r.received.length, 2);
    assert.equal(pauses.length, 1);
  });

  it("the signal stops the retries", async () => {
    const r = await receiver((_req, res) => json(res, 503, {}));
    const abort = new AbortController();
    const destination = createWebhookDestination({
      url: r.url,
      secret: SECRET,
      allowPrivate: true,
      retry: { sleep: () => (abort.abort(), Promise.resolve()) },
    });
    const err = await deliveryError(destination, [event(1)], abort.signal);
    assert.match(err.reason, /aborted after 1 attempt, last: HTTP 503/);
    assert.equal(r.received.length, 1);
  });

  it("a redirect is not followed: a refusal naming the status", async () => {
    const r = await receiver((req, res) => {
      if (req.url === "/elsewhere") res.writeHead(200).end();
      else res.writeHead(302, { location: "/elsewhere" }).end();
    });
    const { pauses, sleep } = sleeps();
    const err = await deliveryError(
      createWebhookDestination({
        url: `${r.url}/hook`,
        secret: SECRET,
        allowPrivate: true,
        retry: { sleep },
      }),
      [event(1)],
    );
    assert.equal(err.status, 302);
    assert.match(err.reason, /HTTP 302 .*redirects are not followed/);
    assert.deepEqual(
      r.received.map((x) => x.url),
      ["/hook"],
    );
    assert.deepEqual(pauses, []);
  });

  it("postWithRetry blanks out a secret the destination echoes back", async () => {
    const r = await receiver((req, res) => json(res, 401, { seen: req.headers["x-key"] }));
    const url = new URL(r.url);
    await assert.rejects(
      postWithRetry({
        url,
        agent: createDestinationAgent(url, true),
        allowPrivate: true,
        body: "{}",
        headers: () => ({ "x-key": "very-secret-value" }),
        secrets: ["very-secret-value"],
      }),
      (err: DeliveryError) => err.reason.includes("[redacted]") && !err.reason.includes("very-secret-value"),
    );
  });
});

describe("Splunk HEC destination", () => {
  it("posts HEC events to /services/collector/event with the token, times, sources and the event JSON", async () => {
    const r = await receiver((_req, res) => json(res, 200, { text: "Success", code: 0 }));
    const events = [
      event(1),
      event(2, {
        time: Date.UTC(2025, 0, 2, 3, 4, 5),
        module: "openai",
        kind: "api_key",
        eventType: "api_key.created",
      }),
    ];
    await createSplunkHecDestination({ url: r.url, token: TOKEN, allowPrivate: true, index: "aiaudit" }).send(
      events,
    );

    assert.equal(r.received.length, 1);
    const [got] = r.received;
    assert.ok(got);
    assert.equal(got.url, "/services/collector/event");
    assert.equal(got.headers.authorization, `Splunk ${TOKEN}`);
    const lines = got.body.split("\n");
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? "", /^\{"time":1735787046\.123,/);
    assert.match(lines[1] ?? "", /^\{"time":1735787045\.000,/);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(parsed[0], {
      time: 1735787046.123,
      host: "aiaudit",
      source: "aiaudit:copilot",
      sourcetype: "aiaudit:copilot:audit_event",
      index: "aiaudit",
      event: eventJson(events[0] as ForwardedEvent),
    });
    const [, second] = parsed;
    assert.ok(second);
    assert.equal(second.sourcetype, "aiaudit:openai:api_key");
    assert.equal(second.source, "aiaudit:openai");
    assert.deepEqual(second.event, eventJson(events[1] as ForwardedEvent));
  });

  it("does not double the endpoint's path", () => {
    assert.equal(
      hecEndpoint(new URL("https://splunk:8088")).href,
      "https://splunk:8088/services/collector/event",
    );
    assert.equal(
      hecEndpoint(new URL("https://splunk:8088/hec/")).href,
      "https://splunk:8088/hec/services/collector/event",
    );
    assert.equal(
      hecEndpoint(new URL("https://splunk:8088/services/collector/event/")).href,
      "https://splunk:8088/services/collector/event",
    );
  });

  it("code 4 (invalid token) with 403: a DeliveryError with the code, not retried, the token nowhere", async () => {
    const r = await receiver((req, res) =>
      json(res, 403, { text: `Invalid token ${String(req.headers.authorization)}`, code: 4 }),
    );
    const { pauses, sleep } = sleeps();
    const err = await deliveryError(
      createSplunkHecDestination({ url: r.url, token: TOKEN, allowPrivate: true, retry: { sleep } }),
      [event(1)],
    );
    assert.equal(err.status, 403);
    assert.match(
      err.reason,
      /^HEC code 4 \(Invalid token Splunk \[redacted\]\), HTTP 403 from http:\/\/127\.0\.0\.1:\d+\/services\/collector\/event$/,
    );
    assert.equal(r.received.length, 1);
    assert.deepEqual(pauses, []);
    assertNoSecret(err);
  });

  it("code 9 (server busy) and 503 are retried", async () => {
    const r = await receiver((_req, res, i) => {
      if (i === 0) json(res, 503, { text: "Server is busy", code: 9 });
      else if (i === 1) json(res, 500, { text: "Internal server error", code: 8 });
      else json(res, 200, { text: "Success", code: 0 });
    });
    const { pauses, sleep } = sleeps();
    await createSplunkHecDestination({ url: r.url, token: TOKEN, allowPrivate: true, retry: { sleep } }).send(
      [event(1)],
    );
    assert.equal(r.received.length, 3);
    assert.equal(pauses.length, 2);
  });

  it("busy to the end: the last HEC code in the reason, the status for the forwarder", async () => {
    const r = await receiver((_req, res) => json(res, 503, { text: "Server is busy", code: 9 }));
    const { sleep } = sleeps();
    const err = await deliveryError(
      createSplunkHecDestination({
        url: r.url,
        token: TOKEN,
        allowPrivate: true,
        retry: { sleep, attempts: 3 },
      }),
      [event(1)],
    );
    assert.equal(err.status, 503);
    assert.match(err.reason, /^3 attempts failed, last: HEC code 9 \(Server is busy\), HTTP 503/);
    assert.equal(r.received.length, 3);
  });

  it("a batch over maxBatchBytes arrives in several POSTs, every event once", async () => {
    const r = await receiver((_req, res) => json(res, 200, { text: "Success", code: 0 }));
    const events = Array.from({ length: 40 }, (_, i) => event(i, { data: { pad: "p".repeat(100), seq: i } }));
    await createSplunkHecDestination({
      url: r.url,
      token: TOKEN,
      allowPrivate: true,
      maxBatchBytes: 2000,
    }).send(events);
    assert.ok(r.received.length > 3, `${r.received.length} POSTs`);
    for (const got of r.received) assert.ok(Buffer.byteLength(got.body) <= 2000);
    const ids = r.received.flatMap((got) =>
      got.body.split("\n").map((l) => (JSON.parse(l) as { event: { id: string } }).event.id),
    );
    assert.deepEqual(
      ids,
      events.map((e) => e.id),
    );
  });

  it("refuses an empty token without quoting anything", () => {
    assert.throws(
      () =>
        createSplunkHecDestination({ url: "https://splunk.example:8088", token: "", allowPrivate: false }),
      /HEC token/,
    );
  });
});
