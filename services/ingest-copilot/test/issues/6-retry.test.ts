/**
 * Issue 6, defect 8: a poll that fails for a reason that passes (Kafka unreachable, GitHub down)
 * was tried again only at the next hourly poll. Now it is retried after a backoff with jitter.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import { createService, type IngestCopilotService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import type { KafkaClient } from "@aiaudit/kafka";
import { faults, seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix, waitFor } from "@aiaudit/testing";
import { retryDelayMs } from "@aiaudit/ingest";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_retrytoken00000000000000000000000";
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);

describe("retryDelayMs", () => {
  it("doubles from the first delay, stops at 5 minutes, jitters by ±50 %", () => {
    assert.equal(
      retryDelayMs(1, 15_000, () => 0.5),
      15_000,
    );
    assert.equal(
      retryDelayMs(2, 15_000, () => 0.5),
      30_000,
    );
    assert.equal(
      retryDelayMs(10, 15_000, () => 0.5),
      300_000,
    );
    assert.equal(
      retryDelayMs(1, 15_000, () => 0),
      7_500,
    );
    assert.equal(
      retryDelayMs(1, 15_000, () => 0.999_999),
      22_500,
    );
  });
});

describe("issue 6: a failed poll is retried within seconds, not at the next hourly poll", () => {
  let sim: GithubSimulator;
  let service: IngestCopilotService;
  const prefix = uniquePrefix("retry");
  let kafkaFailures = 2;
  /** The real client, but the seat stream's producer cannot be had twice: Kafka "is down". */
  const flaky: KafkaClient = {
    ...kafka,
    transactionalProducer: (id) =>
      id.endsWith(".copilot.seats") && kafkaFailures-- > 0
        ? Promise.reject(
            new AiauditError(ErrorCodes.KAFKA_UNAVAILABLE, "Kafka is not reachable (test)", {
              retryable: true,
            }),
          )
        : kafka.transactionalProducer(id),
  };

  before(async () => {
    sim = await startGithubSimulator({ tokens: [token], orgs: { acme: { id: 1, seats: seats("acme", 3) } } });
    // GitHub answers 502 to every audit-log request for a while: more than octokit's own retries.
    sim.injectFault(faults.serverError("/orgs/acme/audit-log", 502, { times: 5, query: "action:copilot" }));
    service = createService(
      loadConfig(ingestEnv(sim.url, prefix, token, { POLL_RETRY_FIRST_SECONDS: "1" })),
      { logger, kafka: flaky },
    );
    await service.start();
  });
  after(async () => {
    await service.stop();
    await sim.close();
  });

  it("publishes the seats once Kafka is back, and the audit stream once GitHub is", async () => {
    await waitFor(
      "a seat snapshot",
      async () => {
        const records = await kafka.readTopic(topicNames(prefix).copilotSeats, { idleMs: 500 });
        const ends = records.map((r) => codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)));
        return ends.some((r) => r.kind === "END") ? true : undefined;
      },
      60_000,
      500,
    );
    await waitFor(
      "an audit-events poll that succeeded",
      () =>
        Promise.resolve(
          lines.some(
            (l) => l.includes('"event":"stream_polled"') && l.includes('"stream":"copilot.audit-events"'),
          )
            ? true
            : undefined,
        ),
      60_000,
      500,
    );
    const retries = lines.filter((l) => l.includes('"event":"retry_scheduled"'));
    assert.ok(
      retries.some((l) => l.includes('"stream":"copilot.seats"')),
      "no retry of the seats",
    );
    assert.ok(
      retries.some((l) => l.includes('"stream":"copilot.audit-events"')),
      "no retry of the audit log",
    );
    const health = service.connection("github-org-acme")?.health();
    assert.ok(health);
    assert.equal(health.get("copilot.seats")?.consecutiveFailures, 0);
    assert.equal(health.get("copilot.audit-events")?.consecutiveFailures, 0);
  });
});
