/** Issue 3: a token that GitHub says expires within 7 days is warned about (once an hour, not per request). */
import assert from "node:assert/strict";
import { after, it } from "node:test";
import { createService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { seats, startGithubSimulator } from "@aiaudit/sim-github";
import { captureLogger, testKafka, uniquePrefix } from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "token-expiring-soon";
const { logger, lines } = captureLogger();
const expiresAt = new Date(Date.now() + 3 * 86_400_000);
const sim = await startGithubSimulator({
  tokens: [{ token, expiresAt: expiresAt.toISOString() }],
  orgs: { acme: { id: 1, seats: seats("acme", 120) } },
});
const service = createService(
  loadConfig(ingestEnv(sim.url, uniquePrefix("expiry"), token, { SEATS_PER_PAGE: "50" })),
  {
    logger,
    kafka: testKafka(logger),
  },
);
after(async () => {
  await service.stop();
  await sim.close();
});

it("warns once that the token expires within 7 days", async () => {
  await service.pollSeats();
  await service.pollSeats();
  const warnings = lines.filter((l) => l.includes('"event":"token_expiring"'));
  assert.equal(warnings.length, 1, "warned on every request");
  assert.match(warnings[0] ?? "", new RegExp(`"expiresAt":"${expiresAt.toISOString().slice(0, 16)}`));
});
