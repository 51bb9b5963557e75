/**
 * runMain in a real process (test/fixtures/fake-main.ts around a fake Startable): exit codes of
 * `--once`, the HTTP endpoints of a running service, signals, and how a failed start is told.
 */
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { createServer } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { waitFor } from "@aiaudit/testing";

const fixture = fileURLToPath(new URL("../fixtures/fake-main.ts", import.meta.url));
const baseEnv = { PATH: process.env.PATH ?? "", HTTP_PORT: "0" };

function run(env: Record<string, string>, ...args: string[]) {
  return spawnSync(process.execPath, [fixture, ...args], {
    env: { ...baseEnv, ...env },
    encoding: "utf8",
    timeout: 20_000,
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  assert.ok(address && typeof address === "object");
  return address.port;
}

interface Running {
  child: ChildProcess;
  port: number;
  stdout: () => string;
  exited: Promise<number | null>;
}

async function start(env: Record<string, string>): Promise<Running> {
  const port = await freePort();
  const child = spawn(process.execPath, [fixture], {
    env: { ...baseEnv, HTTP_PORT: String(port), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
  const exited = once(child, "exit").then(([code]) => code as number | null);
  await waitFor(
    "the fake to start",
    () => Promise.resolve(out.includes('"msg":"started"') || undefined),
    15_000,
    50,
  );
  return { child, port, stdout: () => out, exited };
}

describe("runMain --once", () => {
  it("exits 0 when the pass succeeded, after stop()", () => {
    const result = run({ FAKE_RUN_ONCE: "true" }, "--once");
    assert.equal(result.status, 0, result.stderr);
    // Lines may reach the pipe out of order; their times say what happened first.
    const at = (msg: string) =>
      result.stdout
        .split("\n")
        .filter((l) => l.includes(`"msg":"${msg}"`))
        .map((l) => Date.parse((JSON.parse(l) as { time: string }).time))[0];
    const ran = at("fake ran once");
    const stopped = at("fake stopped");
    assert.ok(ran !== undefined && stopped !== undefined && ran <= stopped, result.stdout);
    assert.doesNotMatch(result.stdout, /fake started/, "--once must not start() the service");
  });
  it("exits 1 when the pass failed, after stop()", () => {
    const result = run({ FAKE_RUN_ONCE: "false" }, "--once");
    assert.equal(result.status, 1);
    assert.match(result.stderr, /fake: the --once pass failed/);
    assert.match(result.stdout, /fake stopped/);
  });
  it("exits 1 with a readable message when the pass threw, after stop()", () => {
    const result = run({ FAKE_RUN_ONCE: "throw" }, "--once");
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^fake: the --once pass failed: GitHub answered 502$/m);
    assert.doesNotMatch(result.stderr, /at .*\.ts:\d+/);
    assert.match(result.stdout, /fake stopped/);
  });
  it("exits 2 and says so when the service has no --once mode", () => {
    const result = run({}, "--once");
    assert.equal(result.status, 2);
    assert.match(result.stderr, /fake: has no --once mode/);
  });
  it("a signal during the pass stops the service and exits 1: the pass did not complete", async () => {
    const child = spawn(process.execPath, [fixture, "--once"], {
      env: { ...baseEnv, FAKE_RUN_ONCE: "true", FAKE_ONCE_MS: "30000" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    const exited = once(child, "exit").then(([code]) => code as number | null);
    await waitFor(
      "the pass to begin",
      () => Promise.resolve(out.includes("fake pass begun") || undefined),
      15_000,
      50,
    );
    child.kill("SIGTERM");
    assert.equal(await exited, 1);
    assert.match(out, /fake stopped/);
    assert.doesNotMatch(out, /fake ran once/);
  });
  it("exits 2 with the usage on an unknown argument", () => {
    const result = run({ FAKE_RUN_ONCE: "true" }, "--onec");
    assert.equal(result.status, 2);
    assert.match(result.stderr, /unknown argument --onec[\s\S]*usage: main\.ts \[--once\]/);
  });
});

describe("runMain start failures", () => {
  it("a configuration error: readable lines on stderr, one JSON fatal line on stdout, exit 1, no stack", () => {
    const result = run({ FAKE_CONFIG: "bad" });
    assert.equal(result.status, 1);
    assert.equal(
      result.stderr,
      "fake: invalid configuration:\n  - FAKE_SETTING is not set (what the fake needs)\n  - FAKE_OTHER is malformed: too long\n",
    );
    const lines = result.stdout.trim().split("\n");
    assert.equal(lines.length, 1);
    const fatal = JSON.parse(lines[0] ?? "") as Record<string, unknown>;
    assert.equal(fatal.level, 60);
    assert.equal(fatal.code, "CONFIG_INVALID");
    assert.match(String(fatal.msg), /FAKE_SETTING is not set/);
    assert.doesNotMatch(result.stdout + result.stderr, /at .*\.ts:\d+/);
  });
  it("issue 6: LOG_LEVEL=verbose is a configuration error naming it, not a crash", () => {
    const result = run({ LOG_LEVEL: "verbose" });
    assert.equal(result.status, 1);
    assert.match(
      result.stderr,
      /^fake: invalid configuration:\n {2}- LOG_LEVEL is malformed: .*trace, debug/,
    );
    assert.doesNotMatch(result.stdout + result.stderr, /at .*\.ts:\d+|unknown level/);
  });
  it("a failed start: exit 1 with what failed", () => {
    const result = run({ FAKE_START: "throw" });
    assert.equal(result.status, 1);
    assert.match(result.stderr, /^fake: could not start: the fake cannot start$/m);
  });
  it("a port in use: exit 1 naming HTTP_PORT and what to do", async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, resolve));
    const address = blocker.address();
    assert.ok(address && typeof address === "object");
    try {
      const result = run({ HTTP_PORT: String(address.port) });
      assert.equal(result.status, 1);
      assert.match(
        result.stderr,
        new RegExp(`on HTTP_PORT ${address.port} .*EADDRINUSE.*set HTTP_PORT to a free port`),
      );
    } finally {
      blocker.close();
    }
  });
});

describe("runMain while running", () => {
  it("serves /healthz, /readyz from the service's ready() and /metrics from its registry; SIGTERM stops it, exit 0", async () => {
    const service = await start({ FAKE_READY: "true" });
    const get = (path: string) => fetch(`http://127.0.0.1:${service.port}${path}`);
    assert.equal((await get("/healthz")).status, 200);
    const ready = await get("/readyz");
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { ready: true, checks: { kafka: { ok: true, detail: "fake" } } });
    const metrics = await (await get("/metrics")).text();
    assert.match(metrics, /^fake_starts_total 1$/m, "the service's own counter");
    assert.match(metrics, /^process_cpu_user_seconds_total /m, "the default process metrics");
    service.child.kill("SIGTERM");
    assert.equal(await service.exited, 0);
    assert.match(service.stdout(), /fake stopped/);
  });
  it("/readyz is 503 when the service says it is not ready, and 200 once started when it has no ready()", async () => {
    const notReady = await start({ FAKE_READY: "false" });
    const res = await fetch(`http://127.0.0.1:${notReady.port}/readyz`);
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), { ready: false, checks: { kafka: { ok: false, detail: "fake" } } });
    notReady.child.kill("SIGINT");
    assert.equal(await notReady.exited, 0);

    const plain = await start({});
    const plainRes = await fetch(`http://127.0.0.1:${plain.port}/readyz`);
    assert.equal(plainRes.status, 200);
    plain.child.kill("SIGTERM");
    assert.equal(await plain.exited, 0);
  });
  it("a second signal during a slow stop exits at once (128 + signal number)", async () => {
    const service = await start({ FAKE_STOP_MS: "30000" });
    const before = Date.now();
    service.child.kill("SIGTERM");
    await waitFor("the shutdown to begin", () =>
      Promise.resolve(service.stdout().includes("shutting down") || undefined),
    );
    service.child.kill("SIGTERM");
    assert.equal(await service.exited, 143);
    assert.ok(Date.now() - before < 10_000);
    assert.doesNotMatch(service.stdout(), /fake stopped/);
  });
  it("HTTP_PORT=0 turns the server off", async () => {
    const service = await start({ HTTP_PORT: "0" });
    assert.match(service.stdout(), /"httpPort":null/);
    service.child.kill("SIGTERM");
    assert.equal(await service.exited, 0);
  });
});
