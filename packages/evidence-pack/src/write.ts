/**
 * Writes an evidence pack (docs/evidence-pack.md): stages every file (hashing it, counting its
 * lines), builds SHA256SUMS and the manifest, signs the manifest's canonical bytes, and writes a
 * deterministic tar.gz: fixed entry order, every header field fixed (mode 0644, owner 0 with empty
 * names, mtime 0), gzip without name or timestamp and with a fixed OS byte. The same inputs give the
 * same bytes on every run and platform running the same zlib.
 *
 * A tar header carries the entry's size, so a streamed file (an AsyncIterable, e.g. rows read from
 * ClickHouse) is spooled to a temporary file while it is hashed, then copied in: memory stays bounded
 * by the chunk size, whatever the row count.
 */
import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { mkdtemp, rename, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Transform, Writable, type TransformCallback } from "node:stream";
import { pipeline } from "node:stream/promises";
import { constants as zlibConstants, createGzip } from "node:zlib";
import * as tar from "tar-stream";
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

/** Gzip level, fixed: another level gives other bytes. */
const GZIP_LEVEL = 9;
/** RFC 1952 OS byte: zlib writes its build platform's (3 on Unix, 10 on Windows); we always write 3. */
const GZIP_OS_UNIX = 3;
/** Bytes gathered before each write to a spool file. */
const SPOOL_BATCH_BYTES = 256 * 1024;
/** Bytes per read of a spool file into the archive (fewer, larger chunks through tar and gzip). */
const SPOOL_READ_BYTES = 1024 * 1024;
/** Output buffer of the gzip stream (zlib's default is 16 KiB). */
const GZIP_CHUNK_BYTES = 128 * 1024;
const ENTRY_HEADER = {
  mode: 0o644,
  uid: 0,
  gid: 0,
  uname: "",
  gname: "",
  mtime: new Date(0),
  type: "file",
} as const;

interface StagedFile {
  name: string;
  sha256: string;
  bytes: number;
  rows: number | null;
  /** In memory, or the path of its spool file. */
  content: Buffer | { path: string };
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
    await writeArchive(entries, sink);
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

/** Running sha256, size and line count of a file's bytes. */
class FileStats {
  readonly #hash = createHash("sha256");
  bytes = 0;
  lines = 0;
  lastByte = -1;

  add(chunk: Buffer): void {
    this.#hash.update(chunk);
    this.bytes += chunk.length;
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) this.lines++;
    if (chunk.length > 0) this.lastByte = chunk[chunk.length - 1] ?? -1;
  }

  digest(): string {
    return this.#hash.digest("hex");
  }
}

function stagedBuffer(name: string, content: Buffer): StagedFile {
  const stats = new FileStats();
  stats.add(content);
  return finishStaging(name, stats, content);
}

async function stageFile(file: PackFile, spool: () => Promise<string>, index: number): Promise<StagedFile> {
  let staged: StagedFile;
  if (typeof file.source === "string" || Buffer.isBuffer(file.source)) {
    staged = stagedBuffer(file.name, Buffer.from(file.source));
  } else {
    const path = join(await spool(), `${index}.spool`);
    const stats = new FileStats();
    const source = file.source;
    // Rows arrive as many small chunks: batch them so the spool file gets few large writes.
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
      if (size > 0) yield Buffer.concat(batch, size);
    }
    await pipeline(hashed, createWriteStream(path));
    staged = finishStaging(file.name, stats, { path });
  }
  if (file.rows !== undefined && file.rows !== staged.rows) {
    throw new RangeError(`${file.name}: ${staged.rows ?? "no"} lines written, ${file.rows} rows expected`);
  }
  return staged;
}

function finishStaging(name: string, stats: FileStats, content: StagedFile["content"]): StagedFile {
  const jsonl = name.endsWith(".jsonl");
  if (jsonl && stats.bytes > 0 && stats.lastByte !== 0x0a) {
    throw new RangeError(`${name}: the last line of a .jsonl file must end with a newline`);
  }
  return { name, sha256: stats.digest(), bytes: stats.bytes, rows: jsonl ? stats.lines : null, content };
}

async function writeArchive(entries: readonly StagedFile[], sink: Writable): Promise<void> {
  const pack = tar.pack();
  // chunkSize only sizes the output buffers (fewer callbacks): deflate's bytes do not depend on it.
  const gzip = createGzip({
    level: GZIP_LEVEL,
    memLevel: 8,
    strategy: zlibConstants.Z_DEFAULT_STRATEGY,
    chunkSize: GZIP_CHUNK_BYTES,
  });
  const done = pipeline(pack, gzip, fixedGzipHeader(), sink);
  const add = async (): Promise<void> => {
    for (const entry of entries) await addEntry(pack, entry);
    pack.finalize();
  };
  await Promise.all([done, add()]);
}

function addEntry(pack: tar.Pack, file: StagedFile): Promise<void> {
  const header = { ...ENTRY_HEADER, name: file.name, size: file.bytes };
  return new Promise((resolve, reject) => {
    const callback = (err?: Error | null): void => (err ? reject(err) : resolve());
    if (Buffer.isBuffer(file.content)) {
      pack.entry(header, file.content, callback);
      return;
    }
    const entry = pack.entry(header, callback);
    pipeline(createReadStream(file.content.path, { highWaterMark: SPOOL_READ_BYTES }), entry).catch(reject);
  });
}

/**
 * Checks zlib's 10-byte gzip header (RFC 1952 §2.3: no FNAME/FEXTRA flags, MTIME 0, which Node
 * always writes) and sets the OS byte, the one field that depends on the platform.
 */
function fixedGzipHeader(): Transform {
  let offset = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      let out = chunk;
      if (offset < 10) {
        out = Buffer.from(chunk);
        for (let i = 0; i < out.length && offset + i < 10; i++) {
          const at = offset + i;
          if (at === 9) out[i] = GZIP_OS_UNIX;
          else if (at >= 3 && at <= 7 && out[i] !== 0) {
            callback(new Error("zlib wrote a gzip header with flags or a timestamp"));
            return;
          }
        }
      }
      offset += chunk.length;
      callback(null, out);
    },
  });
}
