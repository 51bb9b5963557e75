/**
 * The console's OpenAPI 3.1 document, generated from the same zod schemas that check the requests
 * (zod's own JSON Schema output), so the document cannot drift from what the API accepts.
 */
import { z } from "zod";
import { billingQuery, csvQuery, pageQuery, packBody } from "./schemas.ts";
import { connectCopilotBody, connectOpenaiBody } from "./source/connections.ts";
import { tablesOf } from "./source/tables.ts";

type Operation = {
  summary: string;
  body?: z.ZodType;
  query?: z.ZodObject;
  responses: Record<string, string>;
  produces?: string;
};

const json = (schema: z.ZodType, io: "input" | "output" = "input") => z.toJSONSchema(schema, { io });

function parameters(query: z.ZodObject | undefined, path: string) {
  const inPath = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({
    name: m[1],
    in: "path",
    required: true,
    schema:
      m[1] === "module"
        ? { type: "string", enum: ["copilot", "openai"] }
        : m[1] === "table"
          ? {
              type: "string",
              enum: [...new Set([...tablesOf("copilot"), ...tablesOf("openai")].map((t) => t.name))],
            }
          : { type: "string" },
  }));
  const inQuery = Object.entries(query?.shape ?? {}).map(([name, schema]) => ({
    name,
    in: "query",
    required: !(schema as z.ZodType).safeParse(undefined).success,
    schema: json(schema as z.ZodType),
  }));
  return [...inPath, ...inQuery];
}

const ERRORS = {
  "400": "bad input: {error, message} says what is wrong",
  "401": "no token, or one that is malformed, unknown or revoked",
};

const ROUTES: Record<string, Record<string, Operation>> = {
  "/api/v1/connections": {
    get: {
      summary: "the tenant's connections: state, last error, last and next pull",
      responses: { "200": "connections" },
    },
  },
  "/api/v1/copilot/connections": {
    post: {
      summary: "connect a GitHub organization or enterprise; the token is probed, sealed, never returned",
      body: connectCopilotBody,
      responses: {
        "201": "connected",
        "422": "GitHub refused the token: the message says which permission is missing",
      },
    },
  },
  "/api/v1/openai/connections": {
    post: {
      summary:
        "connect an OpenAI organization with an Organization Admin Key; probed, sealed, never returned",
      body: connectOpenaiBody,
      responses: { "201": "connected", "422": "OpenAI refused the key: the message says why" },
    },
  },
  "/api/v1/connections/{id}": {
    delete: {
      summary: "disconnect: ingest stops polling it",
      responses: { "204": "disconnected", "404": "no such connection" },
    },
  },
  "/api/v1/{module}/kpis": {
    get: {
      summary: "the module's key figures and day series (last 30 days)",
      responses: { "200": "kpis and series" },
    },
  },
  "/api/v1/{module}/tables": {
    get: { summary: "the module's tables and their columns", responses: { "200": "tables" } },
  },
  "/api/v1/{module}/tables/{table}": {
    get: {
      summary: "one page of a table, sorted by one of its columns",
      query: pageQuery,
      responses: { "200": "rows, total, page", "404": "no such table" },
    },
  },
  "/api/v1/{module}/tables/{table}.csv": {
    get: {
      summary: "every row of a table as CSV (RFC 4180; formula-like cells prefixed with ')",
      query: csvQuery,
      produces: "text/csv",
      responses: { "200": "CSV", "404": "no such table" },
    },
  },
  "/api/v1/billing": {
    get: {
      summary: "the tenant's bill for a month (docs/billing.md)",
      query: billingQuery,
      responses: { "200": "the bill" },
    },
  },
  "/api/v1/{module}/evidence-packs": {
    get: {
      summary: "the tenant's evidence packs of the module (from the packer)",
      responses: { "200": "packs" },
    },
    post: {
      summary: "seal a period, or a calendar month, into an evidence pack (through the packer)",
      body: packBody,
      responses: {
        "201": "built",
        "200": "the same period again: the same pack",
        "502": "the packer did not answer",
      },
    },
  },
  "/api/v1/{module}/evidence-packs/{id}/download": {
    get: {
      summary: "the pack file (through the packer)",
      produces: "application/gzip",
      responses: { "200": "the .tar.gz", "404": "no such pack of this tenant" },
    },
  },
};

export function openapiDocument(): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, operations] of Object.entries(ROUTES)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(operations)) {
      const responses: Record<string, unknown> = {};
      for (const [status, description] of Object.entries({ ...op.responses, ...ERRORS })) {
        responses[status] = { description };
      }
      paths[path][method] = {
        summary: op.summary,
        parameters: parameters(op.query, path),
        ...(op.body
          ? { requestBody: { required: true, content: { "application/json": { schema: json(op.body) } } } }
          : {}),
        responses,
        ...(op.produces ? { "x-produces": op.produces } : {}),
      };
    }
  }
  return {
    openapi: "3.1.0",
    info: { title: "aiaudit console API", version: "1" },
    components: { securitySchemes: { bearer: { type: "http", scheme: "bearer" } } },
    security: [{ bearer: [] }],
    paths,
  };
}
