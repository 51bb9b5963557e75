/**
 * Where packs live: `<storeDir>/<tenant>/<module>/pack-<sequence>.tar.gz`, with `index.json` next
 * to them listing every pack's sequence, period, id and manifest sha256: the next sequence and the
 * previous link of the hash chain come from it, and a period asked for again is found in it. The
 * index is rewritten whole through a temporary file and a rename, so a crash leaves the old or the
 * new index, never half of one. One build per directory at a time within the process (a queue);
 * one packer process per store is assumed. A build killed midway leaves a `.partial` pack, a spool
 * directory, or a pack the index does not list yet: the next build of the directory removes the
 * first two and writes over the third (same sequence, same bytes).
 */
import { mkdir, readFile, readdir, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { tenantId } from "@aiaudit/config";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import type { PackModule } from "@aiaudit/evidence-pack";

export const INDEX_NAME = "index.json";

const HEX64 = /^[0-9a-f]{64}$/;
const entrySchema = z.strictObject({
  sequence: z.number().int().min(1),
  pack_id: z.string().min(1),
  period_start: z.string(),
  period_end: z.string(),
  file: z.string().regex(/^pack-\d+\.tar\.gz$/),
  manifest_sha256: z.string().regex(HEX64),
  previous: z
    .strictObject({ pack_id: z.string().min(1), manifest_sha256: z.string().regex(HEX64) })
    .nullable(),
});
const indexSchema = z.strictObject({ packs: z.array(entrySchema) });

export type IndexEntry = z.infer<typeof entrySchema>;
export type PackIndex = z.infer<typeof indexSchema>;

/** The tenant's directory for the module; the tenant id (config's rule) is safe as a directory name. */
export function packDir(storeDir: string, tenant: string, module: PackModule): string {
  if (!tenantId.safeParse(tenant).success) {
    throw new AiauditError(ErrorCodes.REQUEST_INVALID, `tenant ${JSON.stringify(tenant)} is not a tenant id`);
  }
  return join(storeDir, tenant, module);
}

export const packFileName = (sequence: number): string => `pack-${sequence}.tar.gz`;

export async function readIndex(dir: string): Promise<PackIndex> {
  let text: string;
  try {
    text = await readFile(join(dir, INDEX_NAME), "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return { packs: [] };
    throw err;
  }
  const parsed = indexSchema.safeParse(JSON.parse(text));
  if (!parsed.success) {
    throw new Error(`${join(dir, INDEX_NAME)} is not a pack index: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

export async function writeIndex(dir: string, index: PackIndex): Promise<void> {
  await mkdir(dir, { recursive: true });
  const path = join(dir, INDEX_NAME);
  const partial = `${path}.partial`;
  await writeFile(partial, `${JSON.stringify(index, null, 2)}\n`, { flush: true });
  await rename(partial, path);
}

/** Removes what a build killed midway left in `dir`: `*.partial` files and spool directories. */
export async function removeLeftovers(dir: string): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const leftovers = names.filter((name) => name.endsWith(".partial") || name.startsWith("aiaudit-pack-"));
  await Promise.all(leftovers.map((name) => rm(join(dir, name), { recursive: true, force: true })));
  return leftovers;
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `task` after every earlier task of the same directory has settled. */
export function serialized<T>(dir: string, task: () => Promise<T>): Promise<T> {
  const before = queues.get(dir) ?? Promise.resolve();
  const run = before.then(task, task);
  const settled = run.catch(() => undefined);
  queues.set(dir, settled);
  void settled.then(() => {
    if (queues.get(dir) === settled) queues.delete(dir);
  });
  return run;
}
