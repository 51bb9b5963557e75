import assert from "node:assert/strict";
import { Writable } from "node:stream";
import { describe, it } from "node:test";
import { AiauditError, describeBody, ErrorCodes } from "@aiaudit/errors";
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

/**
 * Issue 6 (defect 6b): a truncated page's body reached the `poll_failed` log with logins in it.
 * The error below is built like @octokit/request's RequestError for a non-JSON body: the body is
 * both `response.data` and the error's message.
 */
describe("logger: vendor bodies never reach a line", () => {
  const login = "leaky-login-7";
  const email = "leaky.person@corp.example";
  const body = `<html><body>Hello ${login} (${email})</body></html>`;
  const token = "ghp_loggertesttoken000000000000000000";

  function requestError(data: unknown, status = 502): Error {
    const err = new Error(typeof data === "string" ? data : `Unknown error: ${JSON.stringify(data)}`);
    return Object.assign(err, {
      name: "HttpError",
      status,
      request: {
        method: "GET",
        url: `https://api.github.com/orgs/acme/audit-log?phrase=actor%3A${login}&after=abc&per_page=100`,
        headers: { authorization: `token ${token}`, "user-agent": "aiaudit" },
        body: JSON.stringify({ login }),
      },
      response: {
        status,
        url: "https://api.github.com/orgs/acme/audit-log",
        headers: { "content-type": "text/html; charset=utf-8", "x-github-request-id": "ABCD:1234" },
        data,
      },
    });
  }

  const assertClean = (line: string) => {
    for (const secret of [login, email, token, "<html>", "Hello"]) assert.ok(!line.includes(secret), line);
  };

  it("an HTTP error keeps status, method, URL and a description of its body, and nothing of the body", () => {
    const { lines, logger } = capture();
    logger.error({ err: requestError(body) }, "poll failed");
    const [line = ""] = lines;
    assertClean(line);
    const err = (JSON.parse(line) as { err: Record<string, unknown> }).err;
    assert.equal(err.status, 502);
    assert.equal(err.method, "GET");
    assert.equal(err.url, "https://api.github.com/orgs/acme/audit-log?phrase=…&after=…&per_page=100");
    assert.equal(err.body, describeBody(body, "text/html; charset=utf-8"));
    assert.equal(err.requestId, "ABCD:1234");
    assert.equal(err.request, undefined);
    assert.equal(err.response, undefined);
    assert.match(
      String(err.message),
      /^HTTP 502 from GET https:\/\/api\.github\.com\/orgs\/acme\/audit-log\?/,
    );
    assert.match(String(err.stack), /^Error: HTTP 502 from GET .*\n\s+at /);
  });

  it("a JSON body with a message, passed as the logged object itself, is described too", () => {
    const { lines, logger } = capture();
    logger.error(
      requestError({ message: `API rate limit exceeded for ${login}`, errors: [{ value: email }] }, 403),
    );
    assertClean(lines[0] ?? "");
    assert.match(lines[0] ?? "", /HTTP 403/);
  });

  it("the cause chain is cleaned: a coded error around a RequestError around a JSON SyntaxError", () => {
    const { lines, logger } = capture();
    let syntax: unknown;
    try {
      JSON.parse(`${login} ${email}`);
    } catch (e) {
      syntax = e;
    }
    assert.ok(syntax instanceof SyntaxError && syntax.message.includes("leaky-logi"), "V8 quotes the text");
    const inner = Object.assign(requestError(body.slice(0, 30), 200), { cause: syntax });
    const err = new AiauditError(ErrorCodes.UPSTREAM_INVALID, "audit-log page is not JSON", { cause: inner });
    logger.error({ err, event: "poll_failed" }, "poll failed");
    const [line = ""] = lines;
    assertClean(line);
    assert.ok(!line.includes("leaky-logi"), line);
    const out = (JSON.parse(line) as { err: Record<string, unknown> }).err;
    assert.equal(out.code, "UPSTREAM_INVALID");
    assert.match(String(out.message), /^audit-log page is not JSON: HTTP 200 from GET .*: Unexpected token/);
    assert.match(String(out.stack), /caused by: Error: HTTP 200/);
    assert.match(String(out.stack), /caused by: SyntaxError: Unexpected token .*\(text withheld\)/);
  });

  it("body, data and headers fields of any error or object under err are dropped", () => {
    const { lines, logger } = capture();
    const err = Object.assign(new Error("upload refused"), {
      body: body,
      data: { login },
      headers: { authorization: `Bearer ${token}` },
      details: { size: 3, data: email },
      attempt: 2,
    });
    logger.warn({ err }, "x");
    logger.warn({ err: { response: { data: body }, status: 500 } }, "y");
    assert.equal(lines.length, 2);
    for (const line of lines) assertClean(line);
    const first = (JSON.parse(lines[0] ?? "{}") as { err: Record<string, unknown> }).err;
    assert.equal(first.message, "upload refused");
    assert.equal(first.attempt, 2);
    assert.deepEqual(first.details, { size: 3 });
  });
});
