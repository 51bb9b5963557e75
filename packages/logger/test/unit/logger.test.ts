import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { createLogger } from "@aiaudit/logger";

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString("utf8"));
      done();
    },
  });
  return { lines, logger: createLogger({ name: "t", destination }) };
}

describe("logger", () => {
  it("writes JSON with the service name and errors under err", () => {
    const { lines, logger } = capture();
    logger.child({ component: "x" }).error({ err: new Error("boom") }, "failed");
    const line = JSON.parse(lines[0] ?? "{}") as Record<string, unknown>;
    assert.equal(line.service, "t");
    assert.equal(line.component, "x");
    assert.equal((line.err as { message: string }).message, "boom");
  });
  it("redacts secrets by path, however they are passed", () => {
    const { lines, logger } = capture();
    const secret = "ghp_0123456789abcdefghijklmnopqrstuvwxyz";
    logger.info(
      {
        token: secret,
        connection: { token: secret },
        req: { headers: { authorization: `Bearer ${secret}` } },
      },
      "x",
    );
    logger.info({ config: { GITHUB_TOKEN: secret, PSEUDONYM_KEY: secret } }, "y");
    assert.equal(lines.length, 2);
    for (const line of lines) assert.ok(!line.includes(secret), line);
  });
});
