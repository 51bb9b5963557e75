/**
 * Issue 6 (defect 10): a GitHub that cannot be reached is told as such — never as "GitHub
 * answered 500", which is how Octokit reports a request that got no answer at all.
 */
import assert from "node:assert/strict";
import { createServer, type Socket } from "node:net";
import { after, describe, it } from "node:test";
import { probeGithub } from "@aiaudit/github-connect";

const target = { token: "ghp_x", kind: "ORGANIZATION" as const, slug: "acme" };

describe("probeGithub when GitHub cannot be reached", () => {
  it("a refused connection", async () => {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as { port: number };
    await new Promise((resolve) => server.close(resolve));
    const result = await probeGithub({ ...target, baseUrl: `http://127.0.0.1:${port}` });
    assert.deepEqual(result, {
      ok: false,
      status: 0,
      message: `cannot reach http://127.0.0.1:${port}: connection refused — check --base-url`,
    });
  });

  it("a host that accepts the connection and never answers", async () => {
    const sockets: Socket[] = [];
    const server = createServer((socket) => sockets.push(socket));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    after(() => {
      for (const socket of sockets) socket.destroy();
      server.close();
    });
    const { port } = server.address() as { port: number };
    const started = Date.now();
    const result = await probeGithub({ ...target, baseUrl: `http://127.0.0.1:${port}`, timeoutMs: 300 });
    assert.ok(!result.ok);
    assert.match(result.message, /^cannot reach .*: no answer within 0\.3 s — check --base-url$/);
    assert.ok(Date.now() - started < 5000);
  });

  it("a host name that does not resolve", async () => {
    const result = await probeGithub({ ...target, baseUrl: "https://nonexistent.invalid", timeoutMs: 5000 });
    assert.ok(!result.ok);
    assert.match(
      result.message,
      /^cannot reach https:\/\/nonexistent\.invalid: (the host name does not resolve|no answer within 5 s) — check --base-url$/,
    );
  });
});
