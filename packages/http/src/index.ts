/**
 * The tenant-scoped HTTP APIs' common ground (the packer's and the console's): fastify with its own
 * request log off, a bearer token of one tenant on every guarded route (`aiaudit tokens create`,
 * followed from the tenants topic), one telemetry line per request with the tenant and the token's
 * id (never the token), and errors as JSON `{error, message}`: a 4xx saying what is wrong, a 503
 * when the data is out of reach for now, a 500 naming the request id the log holds. Never a stack.
 */
import Fastify, {
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
} from "fastify";
import { ErrorCodes, isAiauditError } from "@aiaudit/errors";
import type { TenantDirectory } from "@aiaudit/tenants";

export class HttpError extends Error {
  readonly statusCode: number;
  readonly error: string;

  constructor(statusCode: number, error: string, message: string) {
    super(message);
    this.statusCode = statusCode;
    this.error = error;
  }
}

export const notFound = (what: string): HttpError => new HttpError(404, "NOT_FOUND", what);
export const badRequest = (message: string): HttpError =>
  new HttpError(400, ErrorCodes.REQUEST_INVALID, message);

/** Who sent a request, once its token was checked. */
export interface Caller {
  tenant: string;
  tokenId: string;
  /** The Authorization header, to pass on to another of our APIs. */
  authorization: string;
}

export interface RequestFields {
  method: string;
  route: string;
  status: number;
  tenant: string | null;
  tokenId: string | null;
  ms: number;
}

export interface TenantApiOptions {
  directory: TenantDirectory;
  /** The service's name in messages ("the packer failed …"). */
  service: string;
  /** @default 16 KiB */
  bodyLimit?: number;
  /** Whether a request needs a token. @default every request */
  guarded?(url: string): boolean;
  /** What to say of an unknown route. */
  routes: string;
  telemetry: {
    request(fields: RequestFields): void;
    internalError(fields: { method: string; url: string; requestId: string; err: unknown }): void;
  };
  /** An error of the service's own it answers otherwise; undefined: the usual rules. */
  answer?(err: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined;
}

export interface TenantApi {
  app: FastifyInstance;
  /** The caller of a guarded request (or of one a route authenticated with `authenticate`). */
  caller: (request: FastifyRequest) => Caller;
  /** The same, or undefined for a request nobody authenticated. */
  callerOrNone: (request: FastifyRequest) => Caller | undefined;
  /** Checks a token for a request outside the guarded routes (e.g. the dashboard's cookie). */
  authenticate: (request: FastifyRequest, authorization: string | undefined) => Caller | undefined;
}

export function createTenantApi(options: TenantApiOptions): TenantApi {
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimit ?? 16 * 1024, return503OnClosing: true });
  // JSON bodies (and forms, where a service adds their parser): any other content type is a 415.
  app.removeContentTypeParser("text/plain");
  const who = new WeakMap<FastifyRequest, Caller>();

  function authenticate(request: FastifyRequest, authorization: string | undefined): Caller | undefined {
    const auth = options.directory.authenticate(authorization);
    if (!auth.ok) return undefined;
    const found = { tenant: auth.tenant, tokenId: auth.tokenId, authorization: authorization ?? "" };
    who.set(request, found);
    return found;
  }

  app.addHook("onRequest", async (request, reply) => {
    if (options.guarded && !options.guarded(request.url)) return;
    const auth = options.directory.authenticate(request.headers.authorization);
    if (!auth.ok) {
      void reply.header("www-authenticate", 'Bearer realm="aiaudit"');
      throw new HttpError(401, "UNAUTHORIZED", auth.reason);
    }
    who.set(request, {
      tenant: auth.tenant,
      tokenId: auth.tokenId,
      authorization: request.headers.authorization ?? "",
    });
  });
  app.addHook("onResponse", async (request, reply) => {
    const auth = who.get(request);
    options.telemetry.request({
      method: request.method,
      route: request.routeOptions.url ?? "unknown",
      status: reply.statusCode,
      tenant: auth?.tenant ?? null,
      tokenId: auth?.tokenId ?? null,
      ms: Math.round(reply.elapsedTime),
    });
  });

  app.setNotFoundHandler((request) => {
    throw notFound(`no route ${request.method} ${request.url.split("?")[0]}: ${options.routes}`);
  });

  app.setErrorHandler((err: FastifyError | HttpError, request, reply) => {
    if (err instanceof HttpError) {
      return reply.code(err.statusCode).send({ error: err.error, message: err.message });
    }
    const own = options.answer?.(err, request, reply);
    if (own !== undefined) return own;
    if (isAiauditError(err, ErrorCodes.REQUEST_INVALID)) {
      return reply.code(400).send({ error: err.code, message: err.message });
    }
    // fastify's own refusals (a body that is not JSON, too large, a wrong content type) are 4xx.
    const status = err.statusCode;
    if (status !== undefined && status >= 400 && status < 500) {
      return reply.code(status).send({ error: err.code, message: err.message });
    }
    options.telemetry.internalError({ method: request.method, url: request.url, requestId: request.id, err });
    const retryable = isAiauditError(err) && err.retryable;
    return reply.code(retryable ? 503 : 500).send({
      error: retryable ? "UNAVAILABLE" : "INTERNAL",
      message: retryable
        ? `the ${options.service} cannot reach its data right now: try again later`
        : `the ${options.service} failed on this request; its log has the details (request id ${request.id})`,
    });
  });

  return {
    app,
    authenticate,
    callerOrNone: (request) => who.get(request),
    caller(request) {
      const auth = who.get(request);
      if (auth === undefined) throw new HttpError(401, "UNAUTHORIZED", "not authenticated");
      return auth;
    },
  };
}
