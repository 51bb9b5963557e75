/**
 * The operator API (docs/console.md), fastify with zod-checked input, every route scoped to the
 * tenant of the bearer token (`aiaudit tokens create`, the packer's scheme and tokens):
 *
 *   GET    /api/v1/connections                         the tenant's connections and their state
 *   POST   /api/v1/copilot/connections                 connect a GitHub org or enterprise (probed)
 *   POST   /api/v1/openai/connections                  connect an OpenAI org (probed)
 *   DELETE /api/v1/connections/{id}                    disconnect
 *   GET    /api/v1/{module}/kpis                       key figures and day series
 *   GET    /api/v1/{module}/tables                     the module's tables
 *   GET    /api/v1/{module}/tables/{table}             a page, ?page=&per_page=&sort=&order=
 *   GET    /api/v1/{module}/tables/{table}.csv         every row, ?sort=&order=
 *   GET    /api/v1/billing?month=YYYY-MM               the month's bill
 *   GET    /api/v1/{module}/evidence-packs             through the packer, with the caller's token
 *   POST   /api/v1/{module}/evidence-packs             {"period_start", "period_end"}, or {"month"}
 *   GET    /api/v1/{module}/evidence-packs/{id}/download
 *   GET    /api/v1/openapi.json                        this API, generated from the schemas
 *
 * Another tenant's connection or pack is "not found" (404), as one that does not exist. Bad input
 * is a 4xx with a JSON message saying what is wrong; a failure inside is a 500 with a request id
 * to find it in the log, never a stack. A secret sent to connect is never returned or logged.
 */
import { Readable } from "node:stream";
import type { FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { bill, monthDays } from "@aiaudit/billing";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { ErrorCodes } from "@aiaudit/errors";
import { badRequest, createTenantApi, notFound, type TenantApi } from "@aiaudit/http";
import type { TenantDirectory } from "@aiaudit/tenants";
import { openapiDocument } from "./openapi.ts";
import { billingQuery, csvQuery, moduleParam, packBody, pageQuery } from "./schemas.ts";
import { connectCopilotBody, connectOpenaiBody, type Connections } from "./source/connections.ts";
import { kpis, series } from "./source/kpis.ts";
import { PackerUnreachableError, type PackerAnswer, type Packs } from "./source/packs.ts";
import {
  tableCsv,
  tablePage,
  tableSpec,
  tablesOf,
  UnknownColumnError,
  type Module,
  type TableSpec,
} from "./source/tables.ts";
import type { Telemetry } from "./telemetry.ts";

export interface ApiDeps {
  directory: TenantDirectory;
  ch: ClickHouse;
  connections: Connections;
  packs: Packs;
  telemetry: Telemetry;
  /** @default Date.now */
  now?: () => number;
}

/** zod's first problem, as one sentence: `per_page: must be at most 500`. */
export function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  if (issue === undefined) return "the request is not valid";
  const path = issue.path.join(".");
  return path && !issue.message.startsWith(path) ? `${path}: ${issue.message}` : issue.message;
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.infer<S> {
  const result = schema.safeParse(value);
  if (!result.success) throw badRequest(problem(result.error));
  return result.data;
}

/** The month's first and last second, as the packer takes a period. */
export function monthPeriod(month: string): { period_start: string; period_end: string } {
  const range = monthDays(month);
  return { period_start: `${range.from}T00:00:00Z`, period_end: `${range.to}T23:59:59Z` };
}

/** The table of a path segment, `seats` or `seats.csv`. */
export function findTable(module: Module, segment: string): { spec: TableSpec; csv: boolean } {
  const csv = segment.endsWith(".csv");
  const name = csv ? segment.slice(0, -4) : segment;
  const spec = tableSpec(module, name);
  if (spec === undefined) {
    throw notFound(
      `no table ${JSON.stringify(name)} in ${module}: ${tablesOf(module)
        .map((t) => t.name)
        .join(", ")}`,
    );
  }
  return { spec, csv };
}

/** Streams every CSV line of a table. */
export async function sendCsv(
  reply: FastifyReply,
  ch: ClickHouse,
  tenant: string,
  spec: TableSpec,
  query: z.infer<typeof csvQuery>,
): Promise<FastifyReply> {
  const lines = tableCsv(ch, tenant, spec, query);
  // The first line is read here, so that a bad sort column is still a 400, not a broken download.
  const first = await lines.next();
  async function* all(): AsyncGenerator<string> {
    if (!first.done) yield first.value;
    yield* lines;
  }
  return reply
    .type("text/csv; charset=utf-8")
    .header("content-disposition", `attachment; filename="${spec.module}-${spec.name}.csv"`)
    .send(Readable.from(all()));
}

/** The packer's answer, passed on (its status and message); it not answering is a 502. */
async function passOn(reply: FastifyReply, answer: Promise<PackerAnswer>): Promise<FastifyReply> {
  const { status, body } = await answer;
  return reply.code(status).send(body);
}

export function createApp(deps: ApiDeps): TenantApi {
  const api = createTenantApi({
    directory: deps.directory,
    service: "console",
    bodyLimit: 64 * 1024,
    // The dashboard's pages check their own session cookie (web/dashboard.ts); the document is public.
    guarded: (url) => url.startsWith("/api/") && !url.startsWith("/api/v1/openapi.json"),
    routes: "see /api/v1/openapi.json",
    telemetry: deps.telemetry,
    answer(err, request, reply) {
      if (err instanceof UnknownColumnError) {
        return reply.code(400).send({ error: ErrorCodes.REQUEST_INVALID, message: err.message });
      }
      if (err instanceof PackerUnreachableError) {
        deps.telemetry.internalError({
          method: request.method,
          url: request.url,
          requestId: request.id,
          err,
        });
        return reply.code(502).send({ error: "PACKER_UNREACHABLE", message: err.message });
      }
      return undefined;
    },
  });
  const { app, caller } = api;

  const module = (request: FastifyRequest): Module =>
    parse(moduleParam, (request.params as { module?: string }).module);

  app.get("/api/v1/openapi.json", () => Promise.resolve(openapiDocument()));

  app.get("/api/v1/connections", (request) =>
    Promise.resolve({ connections: deps.connections.list(caller(request).tenant) }),
  );

  const connected = async (
    request: FastifyRequest,
    reply: FastifyReply,
    result: Awaited<ReturnType<Connections["connectOpenai"]>>,
  ) => {
    if (!result.ok)
      return reply.code(result.status).send({ error: "NOT_CONNECTED", message: result.message });
    const { connection_id: connectionId, module: m } = result.connection;
    deps.telemetry.connected({ tenant: caller(request).tenant, connectionId, module: m });
    return reply.code(201).send({ connection: result.connection });
  };
  app.post("/api/v1/copilot/connections", async (request, reply) =>
    connected(
      request,
      reply,
      await deps.connections.connectCopilot(caller(request).tenant, parse(connectCopilotBody, request.body)),
    ),
  );
  app.post("/api/v1/openai/connections", async (request, reply) =>
    connected(
      request,
      reply,
      await deps.connections.connectOpenai(caller(request).tenant, parse(connectOpenaiBody, request.body)),
    ),
  );
  app.delete<{ Params: { id: string } }>("/api/v1/connections/:id", async (request, reply) => {
    const { tenant } = caller(request);
    if (!(await deps.connections.disconnect(tenant, request.params.id))) {
      throw notFound(`no connection ${JSON.stringify(request.params.id)}`);
    }
    deps.telemetry.disconnected({ tenant, connectionId: request.params.id });
    return reply.code(204).send();
  });

  app.get("/api/v1/:module/kpis", async (request) => {
    const m = module(request);
    const { tenant } = caller(request);
    const [figures, days] = await Promise.all([kpis(deps.ch, tenant, m), series(deps.ch, tenant, m)]);
    return { module: m, kpis: figures, series: days };
  });

  app.get("/api/v1/:module/tables", (request) =>
    Promise.resolve({
      tables: tablesOf(module(request)).map((t) => ({
        name: t.name,
        title: t.title,
        about: t.about,
        columns: t.columns.map((c) => c.name),
        sort: t.sort,
        order: t.order,
        alert: t.alert ?? null,
      })),
    }),
  );

  app.get<{ Params: { table: string } }>("/api/v1/:module/tables/:table", async (request, reply) => {
    const { spec, csv } = findTable(module(request), request.params.table);
    const { tenant } = caller(request);
    if (csv) return sendCsv(reply, deps.ch, tenant, spec, parse(csvQuery, request.query));
    const q = parse(pageQuery, request.query);
    return tablePage(deps.ch, tenant, spec, {
      page: q.page,
      perPage: q.per_page,
      sort: q.sort,
      order: q.order,
    });
  });

  app.get("/api/v1/billing", async (request) => {
    const { month } = parse(billingQuery, request.query);
    return { month, ...(await bill(deps.ch, caller(request).tenant, monthDays(month))) };
  });

  app.get("/api/v1/:module/evidence-packs", async (request, reply) =>
    passOn(reply, deps.packs.list(caller(request).authorization, module(request))),
  );
  app.post("/api/v1/:module/evidence-packs", async (request, reply) => {
    const body = parse(packBody, request.body);
    const period = "month" in body ? monthPeriod(body.month) : body;
    return passOn(reply, deps.packs.create(caller(request).authorization, module(request), period));
  });
  app.get<{ Params: { id: string } }>(
    "/api/v1/:module/evidence-packs/:id/download",
    async (request, reply) => {
      const response = await deps.packs.download(
        caller(request).authorization,
        module(request),
        request.params.id,
      );
      if (!response.ok || response.body === null) {
        const text = await response.text();
        return reply.code(response.status).type("application/json").send(text);
      }
      return reply
        .code(200)
        .type("application/gzip")
        .header("content-disposition", response.headers.get("content-disposition") ?? "attachment")
        .send(Readable.fromWeb(response.body));
    },
  );

  return api;
}
