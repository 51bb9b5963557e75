/**
 * Regression (issue 2): a poll started by the schedule and a poll asked for at the same time
 * each created a transactional producer with the same transactionalId, and one fenced the other
 * ("producer … was fenced"). Polls now share one producer and run one after another.
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { seats, startGithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_concurrentpolls00000000000000000";
const prefix = uniquePrefix("concurrent");
const { logger } = captureLogger();
const kafka = testKafka(logger);
const sim = await startGithubSimulator({
  tokens: [token],
  orgs: { acme: { id: 1, seats: seats("acme", 12) } },
});
const service = createService(loadConfig(ingestEnv(sim.url, prefix, token, {})), { logger, kafka });
after(async () => {
  await service.stop();
  await sim.close();
});

it("a scheduled poll and two requested polls at once all publish their snapshot", async () => {
  await service.start(); // schedules a poll right away
  const results = await Promise.all([service.pollSeats(), service.pollSeats()]);
  assert.deepEqual(
    results.map((r) => r.rows),
    [12, 12],
  );
  const records = await kafka.readTopic(topicNames(prefix).copilotSeats);
  const kinds = records.map((r) => codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)).kind);
  // The first poll publishes the snapshot; the others find every page unchanged (304) and confirm it.
  assert.equal(kinds.filter((k) => k === "END").length, 1);
  assert.equal(kinds.filter((k) => k === "UNCHANGED").length, 2);
});
