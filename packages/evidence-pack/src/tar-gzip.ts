/**
 * How the writer encodes the archive (docs/evidence-pack.md, "Layout"): POSIX ustar header blocks,
 * and one gzip member whose deflate stream is a series of segments, each compressed on its own.
 *
 * Every entry's header block is a segment, its data with its padding another, the end-of-archive
 * blocks the last. A segment is deflated (level 9) in blocks of DEFLATE_BLOCK_BYTES of its input,
 * as pigz does: each block with the 32 KiB of the segment before it as its preset dictionary (none
 * for the first), each ended by a sync flush (an empty stored block, so the next starts on a byte
 * boundary), the archive's very last block by deflate's final block. Concatenated, they are one
 * ordinary deflate stream. So a data file is compressed while it is read, before the manifest that
 * comes first in the archive exists, its blocks on every core at once, and the pack's bytes still
 * depend on its entries alone. The gzip trailer's CRC-32 is combined from the segments' own
 * (zlib's crc32_combine).
 */
import { promisify } from "node:util";
import { constants as zlibConstants, crc32, deflateRaw, deflateRawSync, type ZlibOptions } from "node:zlib";

/** Size of a tar block. */
export const BLOCK = 512;
/** The end-of-archive marker: two zero blocks. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);
/**
 * RFC 1952 header: deflate, no flags (no name, comment or extra field), MTIME 0, XFL 2 (level 9),
 * OS 3 (Unix) on every platform.
 */
export const GZIP_HEADER = Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 2, 3]);

/** Level, memory and strategy are fixed: others give other bytes. chunkSize only sizes buffers. */
const DEFLATE: ZlibOptions = {
  level: 9,
  memLevel: 8,
  strategy: zlibConstants.Z_DEFAULT_STRATEGY,
  chunkSize: 128 * 1024,
};
/** The largest size an 11-digit octal field holds; larger sizes are written in base-256 (as GNU tar). */
const MAX_OCTAL_SIZE = 0o77777777777;

/** Bytes of zero padding after an entry of `size` bytes. */
export function paddingOf(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

/** A ustar header block of a regular file: mode 0644, owner and group 0 with empty names, mtime 0. */
export function ustarHeader(name: string, size: number): Buffer {
  const block = Buffer.alloc(BLOCK);
  if (Buffer.byteLength(name) > 100) throw new RangeError(`tar entry name ${name} is over 100 bytes`);
  block.write(name, 0, "utf8");
  block.write("000644 \0", 100, "latin1");
  block.write("000000 \0", 108, "latin1");
  block.write("000000 \0", 116, "latin1");
  if (size <= MAX_OCTAL_SIZE) {
    block.write(`${size.toString(8).padStart(11, "0")} `, 124, "latin1");
  } else {
    block[124] = 0x80;
    let rest = size;
    for (let i = 135; i > 124; i--, rest = Math.floor(rest / 256)) block[i] = rest % 256;
  }
  block.write("00000000000 ", 136, "latin1");
  block.write("0", 156, "latin1");
  block.write("ustar\u000000", 257, "latin1");
  block.write("000000 \0", 329, "latin1");
  block.write("000000 \0", 337, "latin1");
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0;
  block.write(`${sum.toString(8).padStart(6, "0")} \0`, 148, "latin1");
  return block;
}

/** Input bytes per deflate block. */
export const DEFLATE_BLOCK_BYTES = 1024 * 1024;
/** Deflate's window: what a block may refer back to, its preset dictionary. */
const WINDOW_BYTES = 32 * 1024;
/** Blocks compressed at once (zlib runs them on libuv's thread pool). */
const BLOCKS_IN_FLIGHT = 4;

const deflateRawAsync = promisify(deflateRaw);

function blockOptions(dictionary: Buffer, final: boolean): ZlibOptions {
  const finishFlush = final ? zlibConstants.Z_FINISH : zlibConstants.Z_SYNC_FLUSH;
  return dictionary.length === 0 ? { ...DEFLATE, finishFlush } : { ...DEFLATE, finishFlush, dictionary };
}

/** One segment, compressed whole; `last` ends it (and the archive) with deflate's final block. */
export function deflateSegment(bytes: Buffer, last = false): Buffer {
  const out: Buffer[] = [];
  let at = 0;
  do {
    const end = Math.min(bytes.length, at + DEFLATE_BLOCK_BYTES);
    const dictionary = bytes.subarray(Math.max(0, at - WINDOW_BYTES), at);
    out.push(deflateRawSync(bytes.subarray(at, end), blockOptions(dictionary, last && end === bytes.length)));
    at = end;
  } while (at < bytes.length);
  return Buffer.concat(out);
}

/**
 * One segment compressed as it arrives: the same bytes as deflateSegment of all of it, with up to
 * BLOCKS_IN_FLIGHT blocks compressed at once. Never the archive's last segment.
 */
export async function* deflateSegmentStream(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  const inFlight: Promise<Buffer>[] = [];
  let block = Buffer.allocUnsafe(DEFLATE_BLOCK_BYTES);
  let filled = 0;
  let window = Buffer.alloc(0);
  let blocks = 0;
  const dispatch = (input: Buffer): void => {
    inFlight.push(deflateRawAsync(input, blockOptions(window, false)));
    window = Buffer.from(input.subarray(Math.max(0, input.length - WINDOW_BYTES)));
    blocks++;
  };
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length;) {
      const take = Math.min(chunk.length - at, DEFLATE_BLOCK_BYTES - filled);
      chunk.copy(block, filled, at, at + take);
      filled += take;
      at += take;
      if (filled === DEFLATE_BLOCK_BYTES) {
        dispatch(block);
        block = Buffer.allocUnsafe(DEFLATE_BLOCK_BYTES);
        filled = 0;
        if (inFlight.length >= BLOCKS_IN_FLIGHT) yield await (inFlight.shift() as Promise<Buffer>);
      }
    }
  }
  if (filled > 0 || blocks === 0) dispatch(block.subarray(0, filled));
  while (inFlight.length > 0) yield await (inFlight.shift() as Promise<Buffer>);
}

/** The CRC-32 and length (mod 2^32) of everything inflated: the gzip trailer. */
export function gzipTrailer(crc: number, length: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc >>> 0, 0);
  trailer.writeUInt32LE(length % 2 ** 32, 4);
  return trailer;
}

/** Running CRC-32 and length of the inflated bytes, segment after segment. */
export class Crc32 {
  crc = 0;
  length = 0;

  /** Bytes at hand. */
  update(bytes: Buffer): void {
    this.crc = crc32(bytes, this.crc);
    this.length += bytes.length;
  }

  /** Bytes whose own CRC-32 (from 0) and length are known. */
  append(crc: number, length: number): void {
    this.crc = crc32Combine(this.crc, crc, length);
    this.length += length;
  }
}

// crc32_combine as zlib 1.2.12+ computes it: multiply by x^(8·len2) modulo the CRC polynomial.
const POLY = 0xedb88320;

/** a·b modulo the polynomial (bit-reflected, as the CRC). */
function multModP(a: number, b: number): number {
  let m = 0x80000000;
  let p = 0;
  for (;;) {
    if ((a & m) !== 0) {
      p ^= b;
      if ((a & (m - 1)) === 0) break;
    }
    m >>>= 1;
    b = b & 1 ? (b >>> 1) ^ POLY : b >>> 1;
  }
  return p >>> 0;
}

/** x^(2^k) modulo the polynomial, k = 0…31. */
const X2N = (() => {
  const table: number[] = [];
  let p = 0x40000000; // x^1
  for (let k = 0; k < 32; k++, p = multModP(p, p)) table.push(p);
  return table;
})();

/** x^(n·2^k) modulo the polynomial. */
function x2nModP(n: number, k: number): number {
  let p = 0x80000000; // x^0
  for (; n > 0; n = Math.floor(n / 2), k++) if (n % 2 === 1) p = multModP(X2N[k % 32] ?? 0, p);
  return p;
}

/** The CRC-32 of A followed by B, from A's CRC, B's CRC and B's length. */
export function crc32Combine(crcA: number, crcB: number, lengthB: number): number {
  return (multModP(x2nModP(lengthB, 3), crcA) ^ crcB) >>> 0;
}
