/**
 * The packer as an operator runs it, `node services/packer/src/main.ts`: a bad setting exits 1
 * with a message naming it; a good one serves /healthz, /readyz (Kafka, ClickHouse, the tenants
 * topic) and /metrics on HTTP_PORT, the API on PACKER_API_PORT, and stops on SIGTERM with exit 0.
 */
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { generateKeyPair, privateKeyPem } from "@aiaudit/evidence-pack";
import { TEST_BROKERS, startServiceProcess, uniquePrefix, waitFor } from "@aiaudit/testing";

const MAIN = new URL("../../src/main.ts", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "aiaudit-packer-main-"));
after(() => rmSync(dir, { recursive: true, force: true }));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => resolve(typeof address === "object" && address ? address.port : 0));
    });
  });
}

const baseEnv = () => ({
  PATH: process.env.PATH,
  KAFKA_BROKERS: TEST_BROKERS.join(","),
  KAFKA_TOPIC_PREFIX: uniquePrefix("packer-main"),
  CLICKHOUSE_DATA_DIR: join(dir, "chdb"),
  PACKER_STORE_DIR: join(dir, "store"),
  LOG_LEVEL: "info",
});

describe("packer main", () => {
  it("refuses to start without a signing key, naming the setting", async () => {
    const packer = startServiceProcess("packer", MAIN, {
      env: { ...baseEnv(), PACKER_SIGNING_KEY_FILE: join(dir, "missing.pem"), HTTP_PORT: "0" },
    });
    const exit = await packer.exited;
    assert.equal(exit.code, 1, packer.output());
    assert.match(packer.output(), /PACKER_SIGNING_KEY_FILE \(.*missing\.pem\) cannot be used/);
    assert.doesNotMatch(packer.output(), /\n\s+at /, "no stack trace");
  });

  it("serves its probes, metrics and API, and stops on SIGTERM", async () => {
    const keyFile = join(dir, "key.pem");
    writeFileSync(keyFile, privateKeyPem(generateKeyPair().privateKey), { mode: 0o600 });
    const [httpPort, apiPort] = [await freePort(), await freePort()];
    const packer = startServiceProcess("packer", MAIN, {
      env: {
        ...baseEnv(),
        PACKER_SIGNING_KEY_FILE: keyFile,
        HTTP_PORT: String(httpPort),
        PACKER_API_PORT: String(apiPort),
        PACKER_API_HOST: "127.0.0.1",
      },
    });
    try {
      const ops = `http://127.0.0.1:${httpPort}`;
      const readiness = await waitFor(
        "/readyz to answer 200",
        async () => {
          const response = await fetch(`${ops}/readyz`);
          return response.status === 200
            ? ((await response.json()) as { checks: Record<string, unknown> })
            : undefined;
        },
        60_000,
      );
      assert.deepEqual(Object.keys(readiness.checks).sort(), ["clickhouse", "kafka", "tenants"]);
      assert.equal((await fetch(`${ops}/healthz`)).status, 200);
      const metrics = await (await fetch(`${ops}/metrics`)).text();
      assert.match(metrics, /aiaudit_packer_packs_total/);
      assert.match(metrics, /aiaudit_packer_scheduled_packs_failing 0/);
      const api = await fetch(`http://127.0.0.1:${apiPort}/api/v1/copilot/evidence-packs`);
      assert.equal(api.status, 401);
      assert.match(((await api.json()) as { message: string }).message, /missing bearer token/);
    } finally {
      const exit = await packer.stop("SIGTERM");
      assert.equal(exit.code, 0, packer.output());
    }
  });
});
