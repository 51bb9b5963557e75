/**
 * Writes an evidence pack (docs/evidence-pack.md): stages every file (hashing it, counting its
 * lines, compressing it), builds SHA256SUMS and the manifest, signs the manifest's canonical bytes,
 * and writes a deterministic tar.gz: fixed entry order, every header field fixed (mode 0644, owner 0
 * with empty names, mtime 0), gzip without name or timestamp and with a fixed OS byte. The same
 * inputs give the same bytes on every run and platform running the same zlib.
 *
 * Each file's data is compressed as a segment of its own while it is staged (./tar-gzip.ts), so a
 * streamed file (an AsyncIterable, e.g. rows read from ClickHouse) is compressed while it is read,
 * on every core, and spooled, compressed, to a temporary file; the archive is then the segments in
 * order. Memory stays bounded by the block size, whatever the row count.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { crc32 } from "node:zlib";
import { z } from "zod";
import { canonicalJson, compareCodePoints } from "./canonical-json.ts";
import {
  MANIFEST_NAME,
  SIGNATURE_NAME,
  SUMS_NAME,
  entryOrder,
  isPlainName,
  manifestSchema,
  sha256SumsText,
  type Manifest,
  type PackModule,
} from "./manifest.ts";
import { keyId, keyPairFromSeed, sign } from "./signing.ts";
import {
  Crc32,
  END_OF_ARCHIVE,
  GZIP_HEADER,
  deflateSegment,
  gzipTrailer,
  paddingOf,
  deflateSegmentStream,
  ustarHeader,
} from "./tar-gzip.ts";

export interface PackFile {
  /** A plain top-level name; `.jsonl` files get a line count in the manifest. */
  name: string;
  /** The file's bytes, whole or streamed (spooled to a temporary file). */
  source: AsyncIterable<Buffer | string> | Buffer | string;
  /** The caller's own row count of a `.jsonl` file: checked against the line count, which is what counts. */
  rows?: number;
}

export interface WritePackOptions {
  module: PackModule;
  packId: string;
  tenant: string;
  /** Sorted (and deduplicated) into the manifest. */
  orgs: readonly string[];
  /** 1, 2, 3 … per tenant and module. */
  sequence: number;
  /** First instant covered. */
  periodStart: Date | number;
  /** Last instant covered, inclusive (`…T23:59:59.999Z`). */
  periodEnd: Date | number;
  /** Every data file; SHA256SUMS is added here. */
  files: readonly PackFile[];
  /** The 32-byte Ed25519 seed. */
  privateKey: Uint8Array;
  /** The previous pack of this tenant and module: null for sequence 1. */
  previous: { packId: string; manifestSha256: string } | null;
  pseudonymization: { keyId: string };
  producer: { name: string; version: string };
  /** Where streamed files are spooled. @default os.tmpdir() */
  spoolDir?: string;
}

export interface WrittenPack {
  manifest: Manifest;
  /** The exact bytes of manifest.json (what the signature covers). */
  manifestBytes: Buffer;
  /** sha256 hex of manifestBytes: the next pack's `previous.manifest_sha256`. */
  manifestSha256: string;
}

/** Bytes gathered before each write to the compressor. */
const SPOOL_BATCH_BYTES = 256 * 1024;
/** Bytes per read of a spool file into the archive. */
const SPOOL_READ_BYTES = 1024 * 1024;

interface StagedFile {
  name: string;
  sha256: string;
  bytes: number;
  rows: number | null;
  /** The data and its padding, compressed as one segment: in memory, or the path of its spool file. */
  segment: Buffer | { path: string };
  /** CRC-32 of the data and its padding. */
  crc: number;
}

/** Writes the pack into memory: for tests and small packs. */
export async function writePack(options: WritePackOptions): Promise<WrittenPack & { bytes: Buffer }> {
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const written = await buildPack(options, sink);
  return { ...written, bytes: Buffer.concat(chunks) };
}

/** Writes the pack to `path` (through `path.partial`, renamed when complete). */
export async function writePackFile(
  path: string,
  options: WritePackOptions,
): Promise<WrittenPack & { size: number }> {
  const partial = `${path}.partial`;
  let size = 0;
  const out = createWriteStream(partial);
  const counter = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      size += chunk.length;
      callback(null, chunk);
    },
  });
  const done = pipeline(counter, out);
  try {
    const written = await buildPack(options, counter);
    await done;
    await rename(partial, path);
    return { ...written, size };
  } catch (err) {
    counter.destroy();
    await done.catch(() => undefined);
    await rm(partial, { force: true });
    throw err;
  }
}

async function buildPack(options: WritePackOptions, sink: Writable): Promise<WrittenPack> {
  checkFileNames(options.files);
  let spoolDir: string | undefined;
  const spool = async (): Promise<string> =>
    (spoolDir ??= await mkdtemp(join(options.spoolDir ?? tmpdir(), "aiaudit-pack-")));
  try {
    const staged: StagedFile[] = [];
    for (const file of options.files) staged.push(await stageFile(file, spool, staged.length));
    const sums = Buffer.from(sha256SumsText(staged), "utf8");
    staged.push(stagedBuffer(SUMS_NAME, sums));
    staged.sort((a, b) => compareCodePoints(a.name, b.name));

    const manifest = buildManifest(options, staged);
    const manifestBytes = Buffer.from(canonicalJson(manifest), "utf8");
    const signature = Buffer.from(sign(manifestBytes, options.privateKey));
    const byName = new Map(staged.map((f) => [f.name, f]));
    const entries = entryOrder(manifest.files).map((name) => {
      if (name === MANIFEST_NAME) return stagedBuffer(name, manifestBytes);
      if (name === SIGNATURE_NAME) return stagedBuffer(name, signature);
      const file = byName.get(name);
      if (file === undefined) throw new Error(`no staged file ${name}`);
      return file;
    });
    await pipeline(archive(entries), sink);
    const manifestSha256 = createHash("sha256").update(manifestBytes).digest("hex");
    return { manifest, manifestBytes, manifestSha256 };
  } finally {
    if (spoolDir !== undefined) await rm(spoolDir, { recursive: true, force: true });
  }
}

function checkFileNames(files: readonly PackFile[]): void {
  const seen = new Set<string>();
  for (const { name } of files) {
    if (!isPlainName(name))
      throw new RangeError(`evidence pack file name ${JSON.stringify(name)} is not plain`);
    if (name === MANIFEST_NAME || name === SIGNATURE_NAME || name === SUMS_NAME) {
      throw new RangeError(`evidence pack file name ${name} is reserved`);
    }
    if (seen.has(name)) throw new RangeError(`evidence pack file ${name} given twice`);
    seen.add(name);
  }
}

function buildManifest(options: WritePackOptions, files: readonly StagedFile[]): Manifest {
  const { publicKey } = keyPairFromSeed(options.privateKey);
  const candidate = {
    schema_version: 2,
    module: options.module,
    pack_id: options.packId,
    tenant: options.tenant,
    orgs: [...new Set(options.orgs)].sort(compareCodePoints),
    sequence: options.sequence,
    period_start: new Date(options.periodStart).toISOString(),
    period_end: new Date(options.periodEnd).toISOString(),
    files: files.map(({ name, sha256, bytes, rows }) => ({ name, sha256, bytes, rows })),
    signing_key: {
      alg: "Ed25519",
      key_id: keyId(publicKey),
      public_key: Buffer.from(publicKey).toString("base64"),
    },
    previous:
      options.previous === null
        ? null
        : { pack_id: options.previous.packId, manifest_sha256: options.previous.manifestSha256 },
    pseudonymization: { scheme: "HMAC-SHA256", key_id: options.pseudonymization.keyId },
    producer: { name: options.producer.name, version: options.producer.version },
  };
  const parsed = manifestSchema.safeParse(candidate);
  if (!parsed.success) {
    throw new RangeError(`evidence pack manifest would be invalid: ${z.prettifyError(parsed.error)}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Running sha256, size, line count and CRC-32 of a file's bytes. */
class FileStats {
  readonly #hash = createHash("sha256");
  bytes = 0;
  lines = 0;
  lastByte = -1;
  crc = 0;

  add(chunk: Buffer): void {
    this.#hash.update(chunk);
    this.crc = crc32(chunk, this.crc);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) this.lines++;
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1] ?? -1;
  }

  /** The tar padding after the data (not part of the file: only in its segment and CRC). */
  padding(): Buffer {
    const padding = Buffer.alloc(paddingOf(this.bytes));
    this.crc = crc32(padding, this.crc);
    return padding;
  }

  digest(): string {
    return this.#hash.digest("hex");
  }
}

function stagedBuffer(name: string, content: Buffer): StagedFile {
  const stats = new FileStats();
  stats.add(content);
  const segment = deflateSegment(Buffer.concat([content, stats.padding()]));
  return finishStaging(name, stats, segment);
}

async function stageFile(file: PackFile, spool: () => Promise<string>, index: number): Promise<StagedFile> {
  let staged: StagedFile;
  if (typeof file.source === "string" || Buffer.isBuffer(file.source)) {
    staged = stagedBuffer(file.name, Buffer.from(file.source));
  } else {
    const path = join(await spool(), `${index}.deflate`);
    const stats = new FileStats();
    const source = file.source;
    // Rows arrive as many small chunks: batch them so the compressor gets few large writes.
    async function* hashed(): AsyncGenerator<Buffer> {
      let batch: Buffer[] = [];
      let size = 0;
      for await (const chunk of source) {
        const bytes = typeof chunk === "string" ? Buffer.from(chunk, "utf8") : chunk;
        stats.add(bytes);
        if (size === 0 && bytes.length >= SPOOL_BATCH_BYTES) {
          yield bytes; // already large: written as it is, not copied
          continue;
        }
        batch.push(bytes);
        size += bytes.length;
        if (size >= SPOOL_BATCH_BYTES) {
          yield Buffer.concat(batch, size);
          batch = [];
          size = 0;
        }
      }
      batch.push(stats.padding());
      yield Buffer.concat(batch);
    }
    await pipeline(hashed, deflateSegmentStream, createWriteStream(path));
    staged = finishStaging(file.name, stats, { path });
  }
  if (file.rows !== undefined && file.rows !== staged.rows) {
    throw new RangeError(`${file.name}: ${staged.rows ?? "no"} lines written, ${file.rows} rows expected`);
  }
  return staged;
}

function finishStaging(name: string, stats: FileStats, segment: StagedFile["segment"]): StagedFile {
  const jsonl = name.endsWith(".jsonl");
  if (jsonl && stats.bytes > 0 && stats.lastByte !== 0x0a) {
    throw new RangeError(`${name}: the last line of a .jsonl file must end with a newline`);
  }
  const rows = jsonl ? stats.lines : null;
  return { name, sha256: stats.digest(), bytes: stats.bytes, rows, segment, crc: stats.crc };
}

/** The gzip member: its header, each entry's header and data segments, the end blocks, the trailer. */
async function* archive(entries: readonly StagedFile[]): AsyncGenerator<Buffer> {
  const inflated = new Crc32();
  yield GZIP_HEADER;
  for (const entry of entries) {
    const header = ustarHeader(entry.name, entry.bytes);
    inflated.update(header);
    yield deflateSegment(header);
    inflated.append(entry.crc, entry.bytes + paddingOf(entry.bytes));
    if (Buffer.isBuffer(entry.segment)) yield entry.segment;
    else yield* createReadStream(entry.segment.path, { highWaterMark: SPOOL_READ_BYTES });
  }
  inflated.update(END_OF_ARCHIVE);
  yield deflateSegment(END_OF_ARCHIVE, true);
  yield gzipTrailer(inflated.crc, inflated.length);
}
