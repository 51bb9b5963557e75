/**
 * Issue 3, "Done when": a second poll of an unchanged org spends only 304s on seats (which cost
 * no rate limit), and publishes an UNCHANGED marker that confirms the previous snapshot.
 */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { seats, startGithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_conditionalseats0000000000000000";
const prefix = uniquePrefix("seats-304");
const { logger } = captureLogger();
const kafka = testKafka(logger);
const sim = await startGithubSimulator({
  tokens: [token],
  orgs: { acme: { id: 1, seats: seats("acme", 120) } },
});
const service = createService(loadConfig(ingestEnv(sim.url, prefix, token, { SEATS_PER_PAGE: "50" })), {
  logger,
  kafka,
});
after(async () => {
  await service.stop();
  await sim.close();
});
const seatRequests = (from: number) =>
  sim.requests.slice(from).filter((r) => r.path === "/orgs/acme/copilot/billing/seats");

it("an unchanged seat list costs only 304s; a changed one is read in full again", async () => {
  const first = await service.pollSeats();
  assert.equal(first.unchanged, false);
  assert.equal(first.rows, 120);

  let from = sim.requests.length;
  const second = await service.pollSeats();
  assert.equal(second.unchanged, true);
  assert.equal(second.snapshotId, first.snapshotId);
  const conditional = seatRequests(from);
  assert.equal(conditional.length, 3);
  assert.ok(
    conditional.every((r) => r.status === 304 && r.ifNoneMatch),
    JSON.stringify(conditional.map((r) => r.status)),
  );

  sim.setSeats("acme", seats("acme", 121));
  from = sim.requests.length;
  const third = await service.pollSeats();
  assert.equal(third.unchanged, false);
  assert.equal(third.rows, 121);
  assert.ok(seatRequests(from).some((r) => r.status === 200));

  const kinds = (await kafka.readTopic(topicNames(prefix).copilotSeats))
    .map((r) => codecs.copilotSeatSnapshot.decode(r.value ?? Buffer.alloc(0)))
    .filter((r) => r.kind !== "ROW")
    .map((r) => `${r.kind}:${r.row_count ?? ""}`);
  assert.deepEqual(kinds.sort(), ["BEGIN:", "BEGIN:", "END:120", "END:121", "UNCHANGED:120"].sort());
});
