/**
 * The web dashboard, on the console's port beside the API (docs/console.md): server-rendered pages,
 * plain HTML forms, no script and nothing loaded from elsewhere, so it works on a network without
 * internet and in any browser. Routes (not under /api/):
 *
 *   GET  /                                   → /copilot when signed in, else /login
 *   GET  /login, POST /login, POST /logout   the API token as the session (session.ts)
 *   GET  /{copilot|openai}                   the module page; ?table=&page=&per_page=&sort=&order=
 *   POST /{module}/connect                   the connect form → the API's checks and probe
 *   POST /{module}/disconnect                {connection_id}
 *   POST /{module}/packs                     seal last month's evidence pack (through the packer)
 *   GET  /{module}/packs/{id}/download       the pack, streamed from the packer
 *   GET  /{module}/tables/{table}.csv        every row of a table, for the cookie session
 *   GET  /dashboard.css                      the stylesheet
 *   GET  anything else                       a 404 page (an unknown /api/ path: the API's JSON 404)
 *
 * Every module route checks the session cookie with the tenant directory; without a valid one it
 * redirects to /login. A secret typed into a connect form is never logged or written into a page.
 * Bad input is a 4xx page saying what is wrong, never a 500.
 */
import { Readable } from "node:stream";
import type { ReadableStream } from "node:stream/web";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { z } from "zod";
import { isAiauditError } from "@aiaudit/errors";
import { HttpError, type TenantApi } from "@aiaudit/http";
import { findTable, monthPeriod, problem, parse, sendCsv, type ApiDeps } from "../api.ts";
import { csvQuery, pageQuery } from "../schemas.ts";
import { series as daySeries, kpis as keyFigures, SERIES_DAYS } from "../source/kpis.ts";
import {
  connectCopilotBody,
  connectOpenaiBody,
  type ConnectResult,
  type ConnectionView,
} from "../source/connections.ts";
import { PackerUnreachableError } from "../source/packs.ts";
import { tablePage, tablesOf, UnknownColumnError, type Module } from "../source/tables.ts";
import { dayRange } from "./charts.ts";
import { compact, href, type Html } from "./html.ts";
import {
  errorPage,
  loginPage,
  modulePage,
  MODULES,
  PER_PAGE,
  type ConnectForm,
  type Notice,
  type PackList,
  type Viewer,
} from "./pages.ts";
import {
  endedSessionCookie,
  lastMonthOf,
  readCookie,
  SESSION_COOKIE,
  sameOrigin,
  sessionCookie,
} from "./session.ts";
import { STYLESHEET } from "./style.ts";

export interface DashboardDeps extends ApiDeps {
  /** Mark the session cookie Secure (HTTPS). */
  secureCookie: boolean;
}

const MODULE_NAMES = Object.keys(MODULES) as Module[];

/** A connection or pack id, as the redirects after a form put it in the query: nothing else is echoed. */
const idParam = (name: string) =>
  z.string().regex(/^[\w.-]{1,200}$/, `${name} must be a connection or pack id`);

/** What a module page may be asked: a table's page and order (pageQuery), and the notices after a redirect. */
const pageParams = pageQuery.extend({
  table: z.string().max(64).optional(),
  connected: idParam("connected").optional(),
  disconnected: idParam("disconnected").optional(),
  pack: idParam("pack").optional(),
});
const TABLE_PARAMS = ["page", "per_page", "sort", "order"];

/** The packer's list and pack answers, as far as the page shows them. */
const packEntry = z.object({
  pack_id: z.string(),
  sequence: z.number(),
  period_start: z.string(),
  period_end: z.string(),
  file: z.string(),
  bytes: z.number(),
});
const packListBody = z.object({ packs: z.array(packEntry) });
const errorBody = z.object({ message: z.string() });

const messageOf = (body: unknown, status: number): string => {
  const parsed = errorBody.safeParse(body);
  return parsed.success ? parsed.data.message : `the packer answered ${status}`;
};

/** A urlencoded form as fastify hands it over (the parser below), keeping string fields only. */
function formOf(body: unknown): Record<string, string> {
  const form: Record<string, string> = {};
  if (typeof body !== "object" || body === null) return form;
  for (const [name, value] of Object.entries(body)) if (typeof value === "string") form[name] = value;
  return form;
}

/** What the connect forms send, as the API's bodies; empty optional fields are left out. */
const copilotBody = (f: Record<string, string>) => ({
  kind: f.kind ?? "organization",
  slug: f.slug,
  token: f.token,
  ...(f.base_url ? { base_url: f.base_url } : {}),
  keep_usage_content: f.keep_usage_content === "on",
});
const openaiBody = (f: Record<string, string>) => ({
  org_id: f.org_id,
  ...(f.name?.trim() ? { name: f.name } : {}),
  admin_key: f.admin_key,
  ...(f.base_url ? { base_url: f.base_url } : {}),
});
/** The fields a failed attempt shows again: everything but the secret. */
const SHOWN: Record<Module, readonly string[]> = {
  copilot: ["kind", "slug", "base_url", "keep_usage_content"],
  openai: ["org_id", "name", "base_url"],
};
const shownValues = (module: Module, f: Record<string, string>): Record<string, string> =>
  Object.fromEntries(SHOWN[module].flatMap((name) => (f[name] === undefined ? [] : [[name, f[name]]])));

const connectionName = (c: ConnectionView): string => c.display_name ?? c.slug;

export function registerDashboard(api: TenantApi, deps: DashboardDeps): void {
  const { app, caller } = api;
  const now = deps.now ?? Date.now;

  const viewerOf = (request: FastifyRequest): Viewer | undefined => {
    const auth = api.callerOrNone(request);
    return (
      auth && { tenant: auth.tenant, tenantName: deps.directory.tenant(auth.tenant)?.display_name ?? null }
    );
  };

  const sendPage = (reply: FastifyReply, page: Html, status = 200): FastifyReply =>
    reply.code(status).type("text/html; charset=utf-8").send(compact(page));

  async function listPacks(authorization: string, module: Module): Promise<PackList> {
    try {
      const { status, body } = await deps.packs.list(authorization, module);
      if (status !== 200) return { ok: false, message: messageOf(body, status) };
      const parsed = packListBody.safeParse(body);
      return parsed.success
        ? { ok: true, packs: parsed.data.packs }
        : { ok: false, message: "the packer's answer is not a list of packs" };
    } catch (err) {
      if (err instanceof PackerUnreachableError) return { ok: false, message: err.message };
      throw err;
    }
  }

  /** The module page, read fresh: figures, series, each table's page, connections, packs. */
  async function renderModule(
    request: FastifyRequest,
    reply: FastifyReply,
    module: Module,
    extras: { status?: number; notice?: Notice; form?: ConnectForm; query?: unknown } = {},
  ): Promise<FastifyReply> {
    const auth = caller(request);
    const raw = (extras.query ?? {}) as Record<string, unknown>;
    const q = parse(pageParams, raw);
    const specs = tablesOf(module);
    if (q.table !== undefined && !specs.some((s) => s.name === q.table)) {
      throw new HttpError(
        400,
        "REQUEST_INVALID",
        `table: no table ${JSON.stringify(q.table)} in ${module}: ${specs.map((s) => s.name).join(", ")}`,
      );
    }
    if (q.table === undefined && TABLE_PARAMS.some((name) => name in raw)) {
      throw new HttpError(
        400,
        "REQUEST_INVALID",
        "table is required with page, per_page, sort or order: the table they apply to",
      );
    }
    const [figures, days, pages, packs] = await Promise.all([
      keyFigures(deps.ch, auth.tenant, module),
      daySeries(deps.ch, auth.tenant, module),
      Promise.all(
        specs.map(async (spec) => ({
          spec,
          page: await tablePage(
            deps.ch,
            auth.tenant,
            spec,
            spec.name === q.table
              ? { page: q.page, perPage: q.per_page, sort: q.sort, order: q.order }
              : { page: 1, perPage: PER_PAGE },
          ),
        })),
      ),
      listPacks(auth.authorization, module),
    ]);
    const connections = deps.connections.list(auth.tenant).filter((c) => c.module === module);
    return sendPage(
      reply,
      modulePage({
        module,
        viewer: viewerOf(request) ?? { tenant: auth.tenant, tenantName: null },
        kpis: figures,
        series: days,
        days: dayRange(now(), SERIES_DAYS),
        tables: pages,
        connections,
        form: extras.form ?? { values: {} },
        notice: extras.notice ?? noticeOf(auth.tenant, q, packs),
        packs,
        lastMonth: lastMonthOf(now()),
      }),
      extras.status,
    );
  }

  /** What the redirect after a form says: connected, disconnected, pack ready. */
  function noticeOf(tenant: string, q: z.infer<typeof pageParams>, packs: PackList): Notice | undefined {
    if (q.connected !== undefined) {
      const c = deps.connections.get(tenant, q.connected);
      if (c === undefined) return undefined;
      return {
        kind: "ok",
        text: `${connectionName(c)}: connected. The secret is sealed and is not shown again. The first pull starts now; the figures and tables fill once it is in.`,
      };
    }
    if (q.disconnected !== undefined)
      return { kind: "ok", text: `${q.disconnected}: disconnected; it is no longer pulled.` };
    if (q.pack !== undefined && packs.ok) {
      const p = packs.packs.find((x) => x.pack_id === q.pack);
      if (p !== undefined) {
        return {
          kind: "ok",
          text: `Evidence pack ${p.sequence} (${p.file}) is sealed: download it from the list below.`,
        };
      }
    }
    return undefined;
  }

  async function connect(
    request: FastifyRequest,
    reply: FastifyReply,
    module: Module,
    attempt: (tenant: string, form: Record<string, string>) => Promise<ConnectResult | string>,
  ): Promise<FastifyReply> {
    const { tenant } = caller(request);
    const form = formOf(request.body);
    const values = shownValues(module, form);
    const result = await attempt(tenant, form);
    if (typeof result === "string")
      return renderModule(request, reply, module, { status: 400, form: { values, error: result } });
    if (!result.ok) {
      return renderModule(request, reply, module, {
        status: result.status,
        form: { values, error: result.message },
      });
    }
    const { connection_id: connectionId } = result.connection;
    deps.telemetry.connected({ tenant, connectionId, module });
    return reply.redirect(`${href(`/${module}`, { connected: connectionId })}#connections`, 303);
  }

  void app.register(async (scope) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 16 * 1024 },
      (_request, body, done) => {
        done(null, Object.fromEntries(new URLSearchParams(String(body))));
      },
    );

    scope.addHook("onSend", async (_request, reply, payload) => {
      void reply
        .header(
          "content-security-policy",
          "default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        )
        .header("x-content-type-options", "nosniff")
        .header("x-frame-options", "DENY")
        .header("referrer-policy", "same-origin");
      if (!reply.hasHeader("cache-control")) void reply.header("cache-control", "no-store");
      return payload;
    });

    // Cross-site form posts are refused before anything else runs (login included).
    scope.addHook("onRequest", (request, _reply, done) => {
      if (request.method === "POST" && !sameOrigin(request.headers)) {
        done(
          new HttpError(
            403,
            "FORBIDDEN",
            "this form was sent from another site: open the console and try again",
          ),
        );
        return;
      }
      done();
    });

    scope.setErrorHandler((err: FastifyError | Error, request, reply) => {
      // An /api/ path reaches this scope only through the catch-all below: its errors (the API's
      // token check) are the API's, answered in JSON by the app's handler, which a throw hands on to.
      if (request.url.startsWith("/api/")) throw err;
      const send = (status: number, message: string) =>
        sendPage(reply, errorPage(status, message, viewerOf(request)), status);
      if (err instanceof HttpError) return send(err.statusCode, err.message);
      if (err instanceof UnknownColumnError) return send(400, err.message);
      if (isAiauditError(err, "REQUEST_INVALID")) return send(400, err.message);
      if (err instanceof PackerUnreachableError) {
        deps.telemetry.internalError({
          method: request.method,
          url: request.url,
          requestId: request.id,
          err,
        });
        return send(502, err.message);
      }
      const status = "statusCode" in err ? err.statusCode : undefined;
      if (typeof status === "number" && status >= 400 && status < 500) return send(status, err.message);
      deps.telemetry.internalError({ method: request.method, url: request.url, requestId: request.id, err });
      return send(500, `the console failed; request id ${request.id} is in its log`);
    });

    /** The session's token when the directory accepts it, with `who` set for the request. */
    const signIn = (request: FastifyRequest, token: string | undefined): boolean => {
      if (token === undefined || /\s/.test(token)) return false;
      return api.authenticate(request, `Bearer ${token}`) !== undefined;
    };
    const session = (request: FastifyRequest): boolean =>
      signIn(request, readCookie(request.headers.cookie, SESSION_COOKIE));

    scope.get("/dashboard.css", async (_request, reply) =>
      reply.type("text/css; charset=utf-8").header("cache-control", "public, max-age=3600").send(STYLESHEET),
    );

    scope.get("/", async (request, reply) => reply.redirect(session(request) ? "/copilot" : "/login", 303));

    scope.get("/login", async (_request, reply) => sendPage(reply, loginPage()));

    scope.post("/login", async (request, reply) => {
      const token = formOf(request.body).token?.trim() ?? "";
      if (token === "") return sendPage(reply, loginPage("enter an API token (aat_…)"), 401);
      const auth = /\s/.test(token)
        ? ({ ok: false, reason: "the token is not an aiaudit API token (aat_…)" } as const)
        : deps.directory.authenticate(`Bearer ${token}`);
      if (!auth.ok) return sendPage(reply, loginPage(auth.reason.replace(/bearer token/g, "token")), 401);
      api.authenticate(request, `Bearer ${token}`);
      return reply.header("set-cookie", sessionCookie(token, deps.secureCookie)).redirect("/copilot", 303);
    });

    scope.post("/logout", async (_request, reply) =>
      reply.header("set-cookie", endedSessionCookie(deps.secureCookie)).redirect("/login", 303),
    );

    // Any other page is an HTML 404 (with the header when signed in). The API's not-found handler
    // (packages/http) is the app's, for the prefix "/", so it cannot be set again for this scope:
    // a catch-all route does it, and hands an unknown /api/ path back to that handler (JSON 404).
    // Only GET, so that no body is parsed here for another method.
    scope.get("/*", async (request, reply) => {
      if (request.url.startsWith("/api/")) {
        reply.callNotFound();
        return reply;
      }
      session(request);
      throw new HttpError(404, "NOT_FOUND", `there is no page ${request.url.split("?")[0] ?? ""}`);
    });

    await scope.register((guarded, _options, registered) => {
      guarded.addHook("preHandler", async (request, reply) => {
        if (session(request)) return;
        const cleared = request.headers.cookie?.includes(`${SESSION_COOKIE}=`) ?? false;
        if (cleared) void reply.header("set-cookie", endedSessionCookie(deps.secureCookie));
        return reply.redirect("/login", 303);
      });

      for (const module of MODULE_NAMES) {
        guarded.get(`/${module}`, async (request, reply) =>
          renderModule(request, reply, module, { query: request.query }),
        );

        guarded.post(`/${module}/connect`, async (request, reply) =>
          connect(request, reply, module, async (tenant, form) => {
            if (module === "copilot") {
              const body = connectCopilotBody.safeParse(copilotBody(form));
              return body.success ? deps.connections.connectCopilot(tenant, body.data) : problem(body.error);
            }
            const body = connectOpenaiBody.safeParse(openaiBody(form));
            return body.success ? deps.connections.connectOpenai(tenant, body.data) : problem(body.error);
          }),
        );

        guarded.post(`/${module}/disconnect`, async (request, reply) => {
          const { tenant } = caller(request);
          const id = formOf(request.body).connection_id ?? "";
          if (
            deps.connections.get(tenant, id)?.module !== module ||
            !(await deps.connections.disconnect(tenant, id))
          ) {
            throw new HttpError(
              404,
              "NOT_FOUND",
              `no ${MODULES[module].vendor} connection ${JSON.stringify(id)}`,
            );
          }
          deps.telemetry.disconnected({ tenant, connectionId: id });
          return reply.redirect(`${href(`/${module}`, { disconnected: id })}#connections`, 303);
        });

        guarded.post(`/${module}/packs`, async (request, reply) => {
          const month = lastMonthOf(now());
          const failed = (status: number, message: string) =>
            renderModule(request, reply, module, {
              status,
              notice: { kind: "error", text: `No evidence pack for ${month}: ${message}` },
            });
          let answer;
          try {
            answer = await deps.packs.create(caller(request).authorization, module, monthPeriod(month));
          } catch (err) {
            if (!(err instanceof PackerUnreachableError)) throw err;
            deps.telemetry.internalError({
              method: request.method,
              url: request.url,
              requestId: request.id,
              err,
            });
            return failed(502, err.message);
          }
          const pack = packEntry.safeParse(answer.body);
          if ((answer.status === 200 || answer.status === 201) && pack.success) {
            return reply.redirect(`${href(`/${module}`, { pack: pack.data.pack_id })}#packs`, 303);
          }
          const status = answer.status >= 400 && answer.status < 500 ? answer.status : 502;
          return failed(status, messageOf(answer.body, answer.status));
        });

        guarded.get<{ Params: { id: string } }>(`/${module}/packs/:id/download`, async (request, reply) => {
          const response = await deps.packs.download(
            caller(request).authorization,
            module,
            request.params.id,
          );
          if (!response.ok || response.body === null) {
            let body: unknown;
            try {
              body = await response.json();
            } catch {
              body = undefined;
            }
            throw new HttpError(
              response.status >= 400 ? response.status : 502,
              "PACK",
              messageOf(body, response.status),
            );
          }
          const length = response.headers.get("content-length");
          if (length !== null) void reply.header("content-length", length);
          return reply
            .code(200)
            .type("application/gzip")
            .header("content-disposition", response.headers.get("content-disposition") ?? "attachment")
            .send(Readable.fromWeb(response.body as ReadableStream<Uint8Array>));
        });

        guarded.get<{ Params: { table: string } }>(`/${module}/tables/:table`, async (request, reply) => {
          const { spec, csv } = findTable(module, request.params.table);
          if (!csv)
            throw new HttpError(
              404,
              "NOT_FOUND",
              `the table ${spec.title} is on the ${MODULES[module].title} page; add .csv to download it`,
            );
          return sendCsv(reply, deps.ch, caller(request).tenant, spec, parse(csvQuery, request.query));
        });
      }
      registered();
    });
  });
}
