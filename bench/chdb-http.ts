/**
 * ClickHouse's HTTP interface, served by chdb in a process of its own, for bench/pack.ts: so that a
 * packer can be measured as it runs in production, against a server (CLICKHOUSE_URL), with the
 * engine's memory in another process. The engine is the real one; only the HTTP layer is this file.
 *
 *   node bench/chdb-http.ts <dataDir> <port>     prints `listening <port>` once it answers
 *
 * What it serves is what @clickhouse/client sends: `GET /ping`; `POST /?query_id=…&param_x=…` with
 * the query in the body (its FORMAT clause in the text, or `default_format`), streamed back as the
 * engine produces it (other statements answer once done). Each request runs on a chdb session of
 * its own at a time (sessions are kept for the next requests). Settings in the URL are
 * ignored (the client sends only `date_time_input_format`, for inserts); a query parameter holding a
 * backslash is refused, because chdb binds parameter text without ClickHouse's unescaping.
 */
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import { Session } from "chdb";

const [dataDir, port] = process.argv.slice(2);
if (dataDir === undefined || port === undefined) throw new Error("usage: chdb-http.ts <dataDir> <port>");

/** Sessions not running a query: opening one on the data directory costs tens of milliseconds. */
const idle: Session[] = [];

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}

function fail(res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) {
    res.destroy(new Error(message)); // mid-stream: the client sees a broken response, as from a server
    return;
  }
  res.writeHead(status, { "content-type": "text/plain", "x-clickhouse-exception-code": "1" });
  res.end(`Code: 1. DB::Exception: ${message}\n`);
}

async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://localhost");
  if (url.pathname === "/ping") {
    res.end("Ok.\n");
    return;
  }
  const params: Record<string, string> = {};
  for (const [name, value] of url.searchParams) {
    if (!name.startsWith("param_")) continue;
    if (value.includes("\\")) {
      fail(res, 400, `query parameter ${name} holds a backslash, which this bridge does not unescape`);
      return;
    }
    params[name.slice("param_".length)] = value;
  }
  const query = [url.searchParams.get("query"), await body(req)].filter(Boolean).join("\n");
  const format = url.searchParams.get("default_format") ?? "TabSeparated";
  const session = idle.pop() ?? new Session(dataDir);
  try {
    if (!/^\s*(SELECT|WITH)\b/i.test(query)) {
      // DDL and other statements: the engine streams SELECT queries only
      res.end(await session.queryBindAsync(query, params, { format }).then((r) => r.text()));
      return;
    }
    const stream = session.queryStreamBind(query, params, { format });
    let started = false;
    for await (const chunk of stream) {
      if (!started) {
        res.writeHead(200, { "content-type": "application/octet-stream" });
        started = true;
      }
      const bytes = chunk.raw();
      const buffer = Buffer.isBuffer(bytes)
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      if (!res.write(buffer)) await new Promise((resolve) => res.once("drain", resolve));
      if (res.destroyed) return;
    }
    res.end();
  } catch (err) {
    fail(res, 500, err instanceof Error ? err.message : String(err));
  } finally {
    idle.push(session);
  }
}

const server = createServer((req, res) => {
  answer(req, res).catch((err: unknown) => fail(res, 500, String(err)));
});
server.listen(Number(port), "127.0.0.1", () => console.log(`listening ${port}`));
process.on("SIGTERM", () => server.close(() => process.exit(0)));
