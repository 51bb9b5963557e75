/**
 * The evidence-pack API (docs/evidence-pack.md "The API"), fastify with zod-checked input:
 *
 *   POST /api/v1/{copilot|openai}/evidence-packs          {"period_start": "…", "period_end": "…"}
 *   GET  /api/v1/{copilot|openai}/evidence-packs          the tenant's packs of the module
 *   GET  /api/v1/{copilot|openai}/evidence-packs/{id}     one pack's metadata
 *   GET  /api/v1/{copilot|openai}/evidence-packs/{id}/download
 *
 * Every request carries a bearer token of one tenant (`aiaudit tokens create`) and reaches only
 * that tenant's packs: another tenant's pack is "not found" (404), the same answer as a pack that
 * does not exist, so a token cannot even learn that it exists. The same period asked twice gives
 * the same pack (200 instead of 201). Bad input is a 4xx with a JSON message saying what is wrong;
 * a failure inside the packer is a 500 with a request id to find it in the log, never a stack.
 */
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import type { FastifyInstance, FastifyRequest } from "fastify";
import { z } from "zod";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import { createTenantApi, notFound } from "@aiaudit/http";
import type { PackModule } from "@aiaudit/evidence-pack";
import type { TenantDirectory } from "@aiaudit/tenants";
import type { BuiltPack, IndexEntry, PackRequest } from "./build.ts";
import { parsePeriod } from "./period.ts";
import { packDir, readIndex } from "./store.ts";
import type { Telemetry } from "./telemetry.ts";

/** The module's name in the path, and in the pack's manifest. */
const MODULE_PATHS: Record<string, PackModule> = { copilot: "copilot", openai: "openai_admin" };

const createBody = z.strictObject({
  period_start: z.string({
    error: "period_start is required: an RFC 3339 date-time, e.g. 2026-04-01T00:00:00Z",
  }),
  period_end: z.string({ error: "period_end is required: an RFC 3339 date-time, e.g. 2026-04-30T23:59:59Z" }),
});

const PACK_ID = /^[0-9a-f]{32}$/;

export interface ApiDeps {
  directory: TenantDirectory;
  storeDir: string;
  build(request: PackRequest): Promise<BuiltPack>;
  telemetry: Telemetry;
  /** @default Date.now */
  now?: () => number;
}

/** What the API says of a pack. */
export interface PackMetadata {
  pack_id: string;
  tenant: string;
  module: PackModule;
  sequence: number;
  period_start: string;
  period_end: string;
  file: string;
  bytes: number;
  manifest_sha256: string;
  previous: IndexEntry["previous"];
  download: string;
}

export function createApi(deps: ApiDeps): FastifyInstance {
  const now = deps.now ?? Date.now;
  const { app, caller } = createTenantApi({
    directory: deps.directory,
    service: "packer",
    routes: "see /api/v1/{copilot|openai}/evidence-packs",
    telemetry: deps.telemetry,
  });
  const tenantOf = (request: FastifyRequest): string => caller(request).tenant;
  const moduleOf = (request: FastifyRequest): { path: string; module: PackModule } => {
    const path = (request.params as { module: string }).module;
    const module = MODULE_PATHS[path];
    if (!module) throw notFound(`no module ${JSON.stringify(path)}: copilot or openai`);
    return { path, module };
  };

  async function metadata(
    tenant: string,
    path: string,
    module: PackModule,
    entry: IndexEntry,
  ): Promise<PackMetadata> {
    const file = join(packDir(deps.storeDir, tenant, module), entry.file);
    const { size } = await stat(file);
    return {
      pack_id: entry.pack_id,
      tenant,
      module,
      sequence: entry.sequence,
      period_start: entry.period_start,
      period_end: entry.period_end,
      file: entry.file,
      bytes: size,
      manifest_sha256: entry.manifest_sha256,
      previous: entry.previous,
      download: `/api/v1/${path}/evidence-packs/${entry.pack_id}/download`,
    };
  }

  async function entryOf(
    request: FastifyRequest,
  ): Promise<{ tenant: string; path: string; module: PackModule; entry: IndexEntry }> {
    const tenant = tenantOf(request);
    const { path, module } = moduleOf(request);
    const id = (request.params as { id: string }).id;
    const missing = notFound(`no evidence pack ${JSON.stringify(id)} in this tenant's ${path} packs`);
    if (!PACK_ID.test(id)) throw missing;
    const { packs } = await readIndex(packDir(deps.storeDir, tenant, module));
    const entry = packs.find((p) => p.pack_id === id);
    if (!entry) throw missing;
    return { tenant, path, module, entry };
  }

  app.post("/api/v1/:module/evidence-packs", async (request, reply) => {
    const tenant = tenantOf(request);
    const { path, module } = moduleOf(request);
    const body = createBody.safeParse(request.body);
    if (!body.success) {
      throw new AiauditError(
        ErrorCodes.REQUEST_INVALID,
        request.body === undefined || request.body === null
          ? 'the body must be JSON: {"period_start": "…", "period_end": "…"}'
          : z.prettifyError(body.error).replace(/\n/g, " "),
      );
    }
    const period = parsePeriod(body.data.period_start, body.data.period_end);
    if (period.endMs >= now()) {
      throw new AiauditError(
        ErrorCodes.REQUEST_INVALID,
        `period_end ${body.data.period_end} has not passed yet: a pack seals a period that is over`,
      );
    }
    const built = await deps.build({
      tenant,
      module,
      periodStart: body.data.period_start,
      periodEnd: body.data.period_end,
    });
    const { packs } = await readIndex(packDir(deps.storeDir, tenant, module));
    const entry = packs.find((p) => p.pack_id === built.manifest.pack_id);
    if (!entry) throw new Error(`pack ${built.manifest.pack_id} was built but is not in the index`);
    return reply.code(built.reused ? 200 : 201).send(await metadata(tenant, path, module, entry));
  });

  app.get("/api/v1/:module/evidence-packs", async (request) => {
    const tenant = tenantOf(request);
    const { path, module } = moduleOf(request);
    const { packs } = await readIndex(packDir(deps.storeDir, tenant, module));
    const sorted = [...packs].sort((a, b) => a.sequence - b.sequence);
    return { packs: await Promise.all(sorted.map((entry) => metadata(tenant, path, module, entry))) };
  });

  app.get("/api/v1/:module/evidence-packs/:id", async (request) => {
    const { tenant, path, module, entry } = await entryOf(request);
    return metadata(tenant, path, module, entry);
  });

  app.get("/api/v1/:module/evidence-packs/:id/download", async (request, reply) => {
    const { tenant, module, entry } = await entryOf(request);
    const file = join(packDir(deps.storeDir, tenant, module), entry.file);
    const { size } = await stat(file);
    return reply
      .header("content-type", "application/gzip")
      .header("content-length", size)
      .header("content-disposition", `attachment; filename="${entry.file}"`)
      .header("x-aiaudit-manifest-sha256", entry.manifest_sha256)
      .send(createReadStream(file));
  });

  return app;
}
