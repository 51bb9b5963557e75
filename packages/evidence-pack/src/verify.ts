/**
 * Verifies an evidence pack against every rule of docs/evidence-pack.md "Verifying", in one pass
 * over the gzip stream and with bounded memory: manifest.json (≤ 1 MiB) and manifest.sig (64 bytes)
 * come first, so the signature is checked before any size is trusted; every later entry's tar size is
 * compared with the signed manifest before a byte of it is read, and data files are hashed as they
 * stream. The pack's own `signing_key` is only compared with the expected key, never used.
 *
 * Beyond the numbered rules it holds the archive to the spec's layout (gzip without name or time,
 * entries 0644, owner 0 with empty names, mtime 0), as tools/evidence-pack-verify.py does.
 *
 * Any malformed input gives `{ valid: false, reason }`; only an input that cannot be read at all (a
 * missing file) or an unusable expected key throws: the CLI's exit code 2.
 */
import { createHash } from "node:crypto";
import { open, type FileHandle } from "node:fs/promises";
import { Readable } from "node:stream";
import { pipeline } from "node:stream";
import { crc32, createGunzip } from "node:zlib";
import { z } from "zod";
import { canonicalJson } from "./canonical-json.ts";
import {
  MANIFEST_NAME,
  MAX_MANIFEST_BYTES,
  MAX_SUMS_BYTES,
  SIGNATURE_BYTES,
  SIGNATURE_NAME,
  SUMS_NAME,
  entryOrder,
  isPlainName,
  manifestSchema,
  sha256SumsText,
  type Manifest,
  type ManifestFile,
} from "./manifest.ts";
import { keyId, parsePublicKey, verify } from "./signing.ts";
import {
  ByteReader,
  MAX_TRAILING_ZEROS,
  layoutProblem,
  paddingOf,
  readHeader,
  type TarHeader,
} from "./ustar-reader.ts";

/** Bytes per read of the pack file. */
const READ_CHUNK_BYTES = 1024 * 1024;
/** Bytes per chunk of inflated output. */
const INFLATE_CHUNK_BYTES = 256 * 1024;

/** A pack as a file path or its bytes. */
export type PackInput = string | Uint8Array;

export interface VerifyOptions {
  /** The key the customer gave you (raw 32 bytes, or base64 / hex / PEM text), never the pack's own. */
  expectedPublicKey: Uint8Array | string;
  /** The previous pack of the chain: checked too, and linked to this one (rule 5). */
  previous?: PackInput | undefined;
}

export type VerifyResult =
  { valid: true; manifest: Manifest; manifestSha256: string } | { valid: false; reason: string };

/** An invalid pack: thrown inside the verifier, returned as its result. */
class PackInvalid extends Error {}

function fail(reason: string): never {
  throw new PackInvalid(reason);
}

export async function verifyPack(pack: PackInput, options: VerifyOptions): Promise<VerifyResult> {
  const key = expectedKey(options.expectedPublicKey);
  const result = await verifyOne(pack, key);
  if (!result.valid || options.previous === undefined) return result;
  const previous = await verifyOne(options.previous, key);
  if (!previous.valid) return { valid: false, reason: `previous pack: ${previous.reason}` };
  const broken = chainBreak(result.manifest, previous);
  return broken === null ? result : { valid: false, reason: broken };
}

function expectedKey(key: Uint8Array | string): Uint8Array {
  const raw = typeof key === "string" ? parsePublicKey(key) : key;
  if (raw.length !== 32) throw new RangeError("the expected public key must be 32 bytes");
  return raw;
}

/** Rule 5: the reason the chain is broken, or null. */
function chainBreak(
  manifest: Manifest,
  previous: { manifest: Manifest; manifestSha256: string },
): string | null {
  const link = manifest.previous;
  const before = previous.manifest;
  if (link === null) return "manifest.previous is null, but a previous pack was given";
  if (link.pack_id !== before.pack_id) {
    return `previous.pack_id is ${link.pack_id}, the previous pack's pack_id is ${before.pack_id}`;
  }
  if (link.manifest_sha256 !== previous.manifestSha256) {
    return "previous.manifest_sha256 is not the sha256 of the previous pack's manifest.json";
  }
  if (before.sequence !== manifest.sequence - 1) {
    return `previous pack has sequence ${before.sequence}, expected ${manifest.sequence - 1}`;
  }
  if (before.tenant !== manifest.tenant || before.module !== manifest.module) {
    return "previous pack is of another tenant or module";
  }
  return null;
}

async function verifyOne(pack: PackInput, key: Uint8Array): Promise<VerifyResult> {
  const { source, size, head, tail } = await openPack(pack);
  // Large output chunks: fewer trips through the async iteration below (zlib's default is 16 KiB).
  const gunzip = pipeline(source, createGunzip({ chunkSize: INFLATE_CHUNK_BYTES }), () => undefined);
  try {
    checkGzipHeader(head);
    const output = { crc: 0, bytes: 0 };
    async function* counted(): AsyncGenerator<Buffer> {
      for await (const chunk of gunzip as AsyncIterable<Buffer>) {
        output.crc = crc32(chunk, output.crc);
        output.bytes += chunk.length;
        yield chunk;
      }
    }
    const result = await readPack(new ByteReader(counted()), key);
    // Node's gunzip skips zeros after the member and inflates any further member without a word:
    // the stream must end at the first member's trailer, which must describe all that was inflated.
    const single =
      tail.length === 8 &&
      tail.readUInt32LE(0) === output.crc &&
      tail.readUInt32LE(4) === output.bytes % 2 ** 32;
    if (gunzip.bytesWritten !== size || !single) fail("data after the end of the gzip stream");
    return result;
  } catch (err) {
    if (err instanceof PackInvalid) return { valid: false, reason: err.message };
    if (isZlibError(err)) return { valid: false, reason: `not a complete gzip stream: ${err.message}` };
    throw err;
  } finally {
    gunzip.destroy();
  }
}

interface OpenedPack {
  source: Readable;
  size: number;
  /** The first 10 bytes: the gzip header. */
  head: Buffer;
  /** The last 8 bytes: the gzip trailer (CRC-32, length mod 2^32) when it is a single member. */
  tail: Buffer;
}

/** Opens the pack, throwing only when the file cannot be read. */
async function openPack(pack: PackInput): Promise<OpenedPack> {
  if (typeof pack !== "string") {
    const bytes = Buffer.from(pack);
    const tail = bytes.subarray(Math.max(0, bytes.length - 8));
    return { source: Readable.from([bytes]), size: bytes.length, head: bytes.subarray(0, 10), tail };
  }
  const handle = await open(pack, "r");
  try {
    const { size } = await handle.stat();
    const head = await readAt(handle, 0, 10);
    const tail = await readAt(handle, Math.max(0, size - 8), 8);
    const source = handle.createReadStream({ start: 0, highWaterMark: READ_CHUNK_BYTES });
    return { source, size, head, tail };
  } catch (err) {
    await handle.close();
    throw err;
  }
}

async function readAt(handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const { buffer, bytesRead } = await handle.read({ buffer: Buffer.alloc(length), position });
  return buffer.subarray(0, bytesRead);
}

/** RFC 1952 §2.3 fixed header: deflate, no flags (no file name), modification time 0 (the spec's layout). */
function checkGzipHeader(head: Buffer): void {
  if (head.length < 10 || head[0] !== 0x1f || head[1] !== 0x8b) fail("not a gzip stream");
  if (head[2] !== 8) fail("gzip stream: compression method is not deflate");
  if (head[3] !== 0) fail("gzip header has flags set (a file name, comment or extra field)");
  if (head.readUInt32LE(4) !== 0) fail("gzip header modification time is not 0");
}

function isZlibError(err: unknown): err is Error {
  const code: unknown = err instanceof Error ? (err as NodeJS.ErrnoException).code : undefined;
  return typeof code === "string" && code.startsWith("Z_");
}

async function readPack(reader: ByteReader, key: Uint8Array): Promise<VerifyResult> {
  const manifestBytes = await readWholeEntry(reader, MANIFEST_NAME, MAX_MANIFEST_BYTES, "first");
  const signature = await readWholeEntry(reader, SIGNATURE_NAME, SIGNATURE_BYTES, "second");
  if (signature.length !== SIGNATURE_BYTES) fail(`${SIGNATURE_NAME} is not ${SIGNATURE_BYTES} bytes`);
  if (!verify(signature, manifestBytes, key)) {
    fail(`${SIGNATURE_NAME} does not verify over ${MANIFEST_NAME} with the expected public key`);
  }
  const manifest = parseManifest(manifestBytes);
  const expectedB64 = Buffer.from(key).toString("base64");
  if (manifest.signing_key.public_key !== expectedB64 || manifest.signing_key.key_id !== keyId(key)) {
    fail("manifest.signing_key is not the expected public key");
  }

  const files = new Map(manifest.files.map((f) => [f.name, f]));
  const order = entryOrder(manifest.files);
  const listed = new Set(order);
  const seen = new Set([MANIFEST_NAME, SIGNATURE_NAME]);
  for (const expected of order.slice(2)) {
    const header = await readHeader(reader);
    if (header.kind === "end") fail(`missing file ${expected}`);
    const entry = regularFile(header, seen, listed);
    if (entry.name !== expected) {
      fail(
        `expected ${expected} next, found ${entry.name}: a file is missing or the entries are out of order`,
      );
    }
    seen.add(entry.name);
    const file = files.get(entry.name);
    if (file === undefined) fail(`no manifest entry for ${entry.name}`);
    await checkFile(reader, entry.size, file, manifest);
  }
  const last = await readHeader(reader);
  if (last.kind !== "end") {
    fail(`unexpected entry ${JSON.stringify(regularFile(last, seen).name)} (not in manifest.files)`);
  }
  if (!(await reader.restIsZeros(MAX_TRAILING_ZEROS))) fail("data after the end of the tar archive");
  return {
    valid: true,
    manifest,
    manifestSha256: createHash("sha256").update(manifestBytes).digest("hex"),
  };
}

/**
 * The name and size of a regular, plain, first-seen entry (listed in `listed` when given); fails
 * otherwise. `seen` holds the names read so far.
 */
function regularFile(
  header: TarHeader,
  seen: ReadonlySet<string>,
  listed?: ReadonlySet<string>,
): { name: string; size: number } {
  if (header.kind === "invalid") fail(header.reason);
  if (header.kind === "end") fail("tar archive ended early");
  const shown = JSON.stringify(header.name);
  if (header.kind === "other") fail(`entry ${shown} is ${header.what}, not a regular file`);
  if (!isPlainName(header.name)) fail(`entry name ${shown} is not a plain file name`);
  const problem = layoutProblem(header.fields);
  if (problem !== null) fail(`entry ${shown} ${problem}`);
  if (seen.has(header.name)) fail(`duplicate entry ${shown}`);
  if (listed !== undefined && !listed.has(header.name))
    fail(`unexpected entry ${shown} (not in manifest.files)`);
  return { name: header.name, size: header.size };
}

/** manifest.json or manifest.sig: read whole, within `max` bytes. */
async function readWholeEntry(
  reader: ByteReader,
  name: string,
  max: number,
  position: string,
): Promise<Buffer> {
  const { name: found, size } = regularFile(await readHeader(reader), new Set());
  if (found !== name) fail(`the ${position} entry must be ${name}, found ${JSON.stringify(found)}`);
  if (size > max) fail(`${name} is ${size} bytes, more than the ${max} allowed`);
  return readBody(reader, name, size);
}

async function readBody(reader: ByteReader, name: string, size: number): Promise<Buffer> {
  const body = await reader.read(size);
  if (body === null) fail(`${name} is truncated`);
  const copy = Buffer.from(body);
  await skipPadding(reader, name, size);
  return copy;
}

async function skipPadding(reader: ByteReader, name: string, size: number): Promise<void> {
  if ((await reader.read(paddingOf(size))) === null) fail(`${name} is truncated`);
}

function parseManifest(bytes: Buffer): Manifest {
  let parsed: unknown;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true }).decode(bytes);
    parsed = JSON.parse(text);
  } catch {
    fail(`${MANIFEST_NAME} is not UTF-8 JSON`);
  }
  let canonical: string | undefined;
  try {
    canonical = canonicalJson(parsed);
  } catch {
    canonical = undefined;
  }
  if (canonical !== text) fail(`${MANIFEST_NAME} is not canonical JSON`);
  const result = manifestSchema.safeParse(parsed);
  if (!result.success)
    fail(`${MANIFEST_NAME} is not a schema_version 2 manifest: ${z.prettifyError(result.error)}`);
  return result.data;
}

/** Rule 4 for one entry: size (before reading), sha256, line count; SHA256SUMS's own content. */
async function checkFile(
  reader: ByteReader,
  size: number,
  file: ManifestFile,
  manifest: Manifest,
): Promise<void> {
  if (size !== file.bytes)
    fail(`${file.name} is ${size} bytes in the archive, ${file.bytes} in the manifest`);
  if (file.name === SUMS_NAME) {
    if (size > MAX_SUMS_BYTES) fail(`${SUMS_NAME} is more than ${MAX_SUMS_BYTES} bytes`);
    const body = await readBody(reader, SUMS_NAME, size);
    checkDigest(file, createHash("sha256").update(body).digest("hex"));
    if (!body.equals(Buffer.from(sha256SumsText(manifest.files), "utf8"))) {
      fail(`${SUMS_NAME} does not list exactly the manifest's files with their sha256`);
    }
    return;
  }
  const hash = createHash("sha256");
  let lines = 0;
  let lastByte = -1;
  const complete = await reader.stream(size, (chunk) => {
    hash.update(chunk);
    for (let i = chunk.indexOf(0x0a); i >= 0; i = chunk.indexOf(0x0a, i + 1)) lines++;
    if (chunk.length > 0) lastByte = chunk[chunk.length - 1] ?? -1;
  });
  if (!complete) fail(`${file.name} is truncated`);
  await skipPadding(reader, file.name, size);
  checkDigest(file, hash.digest("hex"));
  if (file.rows !== null) {
    if (size > 0 && lastByte !== 0x0a) fail(`${file.name}: the last line does not end with a newline`);
    if (lines !== file.rows) fail(`${file.name} has ${lines} lines, the manifest says ${file.rows} rows`);
  }
}

function checkDigest(file: ManifestFile, sha256: string): void {
  if (sha256 !== file.sha256)
    fail(`${file.name}: sha256 ${sha256} does not match the manifest's ${file.sha256}`);
}
