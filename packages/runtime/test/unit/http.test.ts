import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { Counter, Registry } from "prom-client";
import { serveHttp, type Readiness } from "@aiaudit/runtime";

let readiness: () => Promise<Readiness> = () => Promise.resolve({ ready: true, checks: {} });
const registry = new Registry();
new Counter({ name: "one_batches_total", help: "batches", registers: [registry] }).inc(3);
const server = await serveHttp({
  port: 0,
  host: "127.0.0.1",
  registry,
  readiness: () => readiness(),
  readinessTimeoutMs: 200,
});
after(() => server.close());
const url = (path: string) => `http://127.0.0.1:${server.port}${path}`;

describe("runtime HTTP", () => {
  it("/healthz answers 200 while the process runs", async () => {
    const res = await fetch(url("/healthz"));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ok: true });
  });

  it("/readyz is 200 with the service's checks when it is ready", async () => {
    readiness = () => Promise.resolve({ ready: true, checks: { kafka: { ok: true } } });
    const res = await fetch(url("/readyz"));
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { ready: true, checks: { kafka: { ok: true } } });
  });

  it("/readyz is 503 with the failing check when it is not", async () => {
    const body = { ready: false, checks: { kafka: { ok: false, detail: "not reachable" } } };
    readiness = () => Promise.resolve(body);
    const res = await fetch(url("/readyz"));
    assert.equal(res.status, 503);
    assert.deepEqual(await res.json(), body);
  });

  it("/readyz is 503 when the checks throw, or take longer than the timeout", async () => {
    readiness = () => Promise.reject(new Error("ping failed"));
    let res = await fetch(url("/readyz"));
    assert.equal(res.status, 503);
    assert.match(JSON.stringify(await res.json()), /the readiness checks failed: ping failed/);

    readiness = () => new Promise(() => undefined);
    const started = Date.now();
    res = await fetch(url("/readyz"));
    assert.equal(res.status, 503);
    assert.match(JSON.stringify(await res.json()), /took longer than 200 ms/);
    assert.ok(Date.now() - started < 2000);
  });

  it("/metrics serves this registry's metrics as Prometheus text, and no other registry's", async () => {
    const other = new Registry();
    new Counter({ name: "two_batches_total", help: "batches", registers: [other] }).inc();
    const res = await fetch(url("/metrics?x=1"));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    assert.match(text, /^one_batches_total 3$/m);
    assert.doesNotMatch(text, /two_batches_total/);
  });

  it("an unknown path is 404 and another method 405, both as JSON with an error", async () => {
    let res = await fetch(url("/nope"));
    assert.equal(res.status, 404);
    assert.match(((await res.json()) as { error: string }).error, /no such path \/nope: try \/healthz/);
    res = await fetch(url("/readyz"), { method: "POST" });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get("allow"), "GET, HEAD");
    assert.match(((await res.json()) as { error: string }).error, /GET only, not POST/);
  });

  it("refuses a port that is in use", async () => {
    await assert.rejects(
      serveHttp({ port: server.port, host: "127.0.0.1", registry, readiness }),
      /EADDRINUSE/,
    );
  });
});
