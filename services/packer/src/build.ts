/**
 * Builds the evidence pack of one tenant, module and period (docs/evidence-pack.md, docs/design.md
 * §5): rows streamed out of ClickHouse into @aiaudit/evidence-pack's writer (bounded memory), the
 * next sequence of the tenant and module chained to the last pack, the file written atomically into
 * the store. The pack id is derived from the tenant, module, period and sequence, and every file's
 * bytes from the data, so re-packing a period over the same data gives the same bytes. A period
 * already packed is returned as it is (`reused`), never packed under a new sequence; if its file
 * has gone missing it is re-packed in place and must come out identical.
 */
import { createHash } from "node:crypto";
import { access, mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { z } from "zod";
import { bill } from "@aiaudit/billing";
import type { ClickHouse } from "@aiaudit/clickhouse";
import { tenantId } from "@aiaudit/config";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";
import {
  MODULES,
  canonicalJson,
  keyPairFromSeed,
  verifyPack,
  writePackFile,
  type Manifest,
  type PackFile,
  type PackModule,
} from "@aiaudit/evidence-pack";
import { jsonFile, type ModuleContent } from "./content.ts";
import { copilotContent } from "./copilot.ts";
import { openaiContent } from "./openai.ts";
import { parsePeriod, utcDays, type Period } from "./period.ts";
import { readmeText } from "./readme.ts";
import type { Scope } from "./sql.ts";
import {
  packDir,
  packFileName,
  readIndex,
  removeLeftovers,
  serialized,
  writeIndex,
  type IndexEntry,
} from "./store.ts";

export { parsePeriod, utcDays, type Period } from "./period.ts";
export { INDEX_NAME, readIndex, type IndexEntry, type PackIndex } from "./store.ts";

export interface PackRequest {
  tenant: string;
  module: PackModule;
  /** RFC 3339: the first instant covered. */
  periodStart: string;
  /** RFC 3339: the last second covered, inclusive to its end (`…T23:59:59Z` covers `…T23:59:59.999Z`). */
  periodEnd: string;
}

export interface BuildOptions {
  /** Root of the pack store: packs go to `<storeDir>/<tenant>/<module>/pack-<sequence>.tar.gz`. */
  storeDir: string;
  /** The tenant's 32-byte Ed25519 signing seed. */
  privateKey: Uint8Array;
  producer: { name: string; version: string };
  /**
   * Public keys of earlier signing keys: a pack signed before a key rotation is returned again
   * when it verifies with one of them.
   */
  previousPublicKeys?: readonly Uint8Array[];
  /**
   * The pseudonymization key id the manifest names. @default the distinct `pseudonym_key_id`s of
   * the period's rows, joined by "," ("none" when the period has no rows)
   */
  pseudonymKeyId?: string;
}

export interface BuiltPack {
  path: string;
  manifest: Manifest;
  /** sha256 hex of the pack's manifest.json: the next pack's `previous.manifest_sha256`. */
  manifestSha256: string;
  /** True when the period had been packed before and that pack is returned. */
  reused: boolean;
}

const requestSchema = z.strictObject({
  tenant: tenantId,
  module: z.enum(MODULES),
  periodStart: z.string(),
  periodEnd: z.string(),
});

/** What each data file holds, for README.txt. */
const FILE_ABOUT: Record<string, string> = {
  "seats.jsonl": "every Copilot seat of every complete seat snapshot taken in the period",
  "events.jsonl": "every audit-log event of the period, once each",
  "usage_records.jsonl": "every Copilot agent request and response record of the period",
  "daily_seats.jsonl": "the seat count of each day (its last snapshot)",
  "users.jsonl": "every user of every complete users snapshot taken in the period",
  "projects.jsonl": "every project of every complete projects snapshot taken in the period",
  "service_accounts.jsonl": "every service account of every complete snapshot taken in the period",
  "api_keys.jsonl": "every project and admin API key of every complete key snapshot taken in the period",
};

/** The pack id: a function of tenant, module, period and sequence only, so a re-pack keeps it. */
export function packId(tenant: string, module: PackModule, period: Period, sequence: number): string {
  const key = canonicalJson({
    module,
    period_end: new Date(period.endMs).toISOString(),
    period_start: new Date(period.startMs).toISOString(),
    sequence,
    tenant,
  });
  return createHash("sha256").update(key, "utf8").digest("hex").slice(0, 32);
}

export async function buildPack(
  ch: ClickHouse,
  request: PackRequest,
  options: BuildOptions,
): Promise<BuiltPack> {
  const parsed = requestSchema.safeParse(request);
  if (!parsed.success) {
    throw new AiauditError(
      ErrorCodes.REQUEST_INVALID,
      `invalid pack request: ${z.prettifyError(parsed.error)}`,
      { cause: parsed.error },
    );
  }
  const { tenant, module } = parsed.data;
  const period = parsePeriod(parsed.data.periodStart, parsed.data.periodEnd);
  const dir = packDir(options.storeDir, tenant, module);
  await mkdir(dir, { recursive: true });
  return serialized(dir, async () => {
    await removeLeftovers(dir);
    const index = await readIndex(dir);
    const periodStart = new Date(period.startMs).toISOString();
    const periodEnd = new Date(period.endMs).toISOString();
    const existing = index.packs.find((p) => p.period_start === periodStart && p.period_end === periodEnd);
    if (existing !== undefined) return existingPack(ch, { tenant, module, period }, dir, existing, options);

    const last = index.packs.reduce<IndexEntry | undefined>(
      (a, p) => (a === undefined || p.sequence > a.sequence ? p : a),
      undefined,
    );
    const sequence = (last?.sequence ?? 0) + 1;
    const previous = last ? { pack_id: last.pack_id, manifest_sha256: last.manifest_sha256 } : null;
    const path = join(dir, packFileName(sequence));
    const written = await writeOne(ch, { tenant, module, period }, sequence, previous, path, options);
    index.packs.push({
      sequence,
      pack_id: written.manifest.pack_id,
      period_start: periodStart,
      period_end: periodEnd,
      file: packFileName(sequence),
      manifest_sha256: written.manifestSha256,
      previous,
    });
    await writeIndex(dir, index);
    return { path, ...written, reused: false };
  });
}

interface Target {
  tenant: string;
  module: PackModule;
  period: Period;
}

/** A pack the index lists: checked and returned, or re-packed in place when its file is gone. */
async function existingPack(
  ch: ClickHouse,
  target: Target,
  dir: string,
  entry: IndexEntry,
  options: BuildOptions,
): Promise<BuiltPack> {
  const path = join(dir, entry.file);
  const present = await access(path).then(
    () => true,
    () => false,
  );
  if (!present) {
    const written = await writeOne(ch, target, entry.sequence, entry.previous, path, options);
    if (written.manifestSha256 !== entry.manifest_sha256) {
      await rm(path, { force: true });
      throw new Error(
        `${path} was missing and re-packing it gave another manifest (sha256 ${written.manifestSha256}, ` +
          `the chain holds ${entry.manifest_sha256}): the data of the period changed since it was packed`,
      );
    }
    return { path, ...written, reused: false };
  }
  // Packs signed before a key rotation verify with the key that signed them.
  const keys = [keyPairFromSeed(options.privateKey).publicKey, ...(options.previousPublicKeys ?? [])];
  let result = await verifyPack(path, { expectedPublicKey: keys[0] as Uint8Array });
  for (const key of keys.slice(1)) {
    if (result.valid) break;
    result = await verifyPack(path, { expectedPublicKey: key });
  }
  if (!result.valid) throw new Error(`${path} in the pack store is not a valid pack: ${result.reason}`);
  if (result.manifestSha256 !== entry.manifest_sha256) {
    throw new Error(`${path} is not the pack the index lists (its manifest sha256 differs)`);
  }
  return { path, manifest: result.manifest, manifestSha256: result.manifestSha256, reused: true };
}

async function writeOne(
  ch: ClickHouse,
  target: Target,
  sequence: number,
  previous: IndexEntry["previous"],
  path: string,
  options: BuildOptions,
): Promise<{ manifest: Manifest; manifestSha256: string }> {
  const spoolDir = join(options.storeDir, target.tenant, target.module);
  const scope: Scope = { ch, tenant: target.tenant, period: target.period, spoolDir };
  const content: ModuleContent =
    target.module === "copilot" ? await copilotContent(scope) : await openaiContent(scope);
  const files = await withBilling(ch, target, content.files);
  const readme = readmeText({
    tenant: target.tenant,
    module: target.module,
    sequence,
    periodStart: new Date(target.period.startMs).toISOString(),
    periodEnd: new Date(target.period.endMs).toISOString(),
    files: files
      .filter((f) => f.name.endsWith(".jsonl"))
      .map((f) => ({ name: f.name, about: FILE_ABOUT[f.name] ?? "" })),
  });
  const written = await writePackFile(path, {
    module: target.module,
    packId: packId(target.tenant, target.module, target.period, sequence),
    tenant: target.tenant,
    orgs: content.orgs,
    sequence,
    periodStart: target.period.startMs,
    periodEnd: target.period.endMs,
    files: [...files, { name: "README.txt", source: readme }],
    privateKey: options.privateKey,
    previous: previous && { packId: previous.pack_id, manifestSha256: previous.manifest_sha256 },
    pseudonymization: {
      keyId: options.pseudonymKeyId ?? (content.pseudonymKeyIds.join(",") || "none"),
    },
    producer: options.producer,
    spoolDir,
  });
  return { manifest: written.manifest, manifestSha256: written.manifestSha256 };
}

/**
 * kpis.json with the module's `billing`: what `aiaudit billing` computes (@aiaudit/billing, default
 * prices) over the UTC days the period touches, so the pack carries the figures the invoice used.
 */
async function withBilling(ch: ClickHouse, target: Target, files: PackFile[]): Promise<PackFile[]> {
  const days = utcDays(target.period);
  const b = await bill(ch, target.tenant, { from: days[0] ?? "", to: days.at(-1) ?? "" });
  const common = { currency: b.currency, from: b.from, to: b.to, days: b.days };
  const billing =
    target.module === "copilot"
      ? { ...common, ...b.copilot }
      : {
          ...common,
          ...b.openai,
          amount_cents: b.openai.users.amount_cents + b.openai.active_projects.amount_cents,
        };
  return files.map((f) => {
    if (f.name !== "kpis.json" || typeof f.source !== "string") return f;
    return jsonFile("kpis.json", { ...(JSON.parse(f.source) as object), billing });
  });
}
