/**
 * A strict, pull-based reader of a POSIX ustar stream, for the verifier: it hands out headers and
 * reads an entry's bytes only when asked, so the caller decides, from a header's size, whether to read
 * at all (an entry is never buffered past the size the manifest allows). tar-stream's extractor is not
 * used here because it silently applies pax and GNU long-name headers to the next entry; a verifier
 * must see them as the non-regular entries they are.
 */
import { BLOCK } from "./tar-gzip.ts";

export { paddingOf } from "./tar-gzip.ts";

/**
 * Zero padding accepted after the end-of-archive blocks (GNU tar pads to 10240-byte records); the
 * same bound as tools/evidence-pack-verify.py. More is a bomb, however well it compresses.
 */
export const MAX_TRAILING_ZEROS = 1024 * 1024;

const TYPES: Record<string, string> = {
  "1": "a hard link",
  "2": "a symbolic link",
  "3": "a character device",
  "4": "a block device",
  "5": "a directory",
  "6": "a FIFO",
  "7": "a contiguous file",
  g: "a pax global header",
  x: "a pax extended header",
  L: "a GNU long name",
  K: "a GNU long link name",
};

export type TarHeader =
  | { kind: "file"; name: string; size: number; fields: LayoutFields }
  /** A well-formed header of anything but a regular file: `what` says what it is. */
  | { kind: "other"; name: string; what: string }
  | { kind: "end" }
  | { kind: "invalid"; reason: string };

/** The header fields the spec's layout fixes: mode 0644, owner 0 with empty names, mtime 0. */
export interface LayoutFields {
  mode: number | null;
  uid: number | null;
  gid: number | null;
  mtime: number | null;
  uname: string | null;
  gname: string | null;
}

/** Why an entry's header fields break the layout, or null. */
export function layoutProblem(f: LayoutFields): string | null {
  if (f.mode !== 0o644) return `has mode ${f.mode === null ? "?" : f.mode.toString(8)}, not 644`;
  if (f.uid !== 0 || f.gid !== 0 || f.uname !== "" || f.gname !== "") {
    return "has an owner or group other than 0 with empty names";
  }
  if (f.mtime !== 0) return "has a modification time other than 0";
  return null;
}

/** Bytes of an async stream, pulled exactly as far as asked. */
export class ByteReader {
  readonly #source: AsyncIterator<Buffer>;
  #pending: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Buffer>) {
    this.#source = source[Symbol.asyncIterator]();
  }

  async #pull(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#source.next();
    if (next.done === true) {
      this.#done = true;
      return false;
    }
    this.#pending = this.#pending.length === 0 ? next.value : Buffer.concat([this.#pending, next.value]);
    return true;
  }

  /** Exactly `n` bytes, or null when the stream ends first. */
  async read(n: number): Promise<Buffer | null> {
    while (this.#pending.length < n) if (!(await this.#pull())) return null;
    const out = this.#pending.subarray(0, n);
    this.#pending = this.#pending.subarray(n);
    return out;
  }

  /** Feeds `n` bytes to `onChunk` piece by piece; false when the stream ends first. */
  async stream(n: number, onChunk: (chunk: Buffer) => void): Promise<boolean> {
    let left = n;
    while (left > 0) {
      if (this.#pending.length === 0 && !(await this.#pull())) return false;
      const take = Math.min(left, this.#pending.length);
      onChunk(this.#pending.subarray(0, take));
      this.#pending = this.#pending.subarray(take);
      left -= take;
    }
    return true;
  }

  /** Whether the rest of the stream is at most `limit` zero bytes (read to its end). */
  async restIsZeros(limit: number): Promise<boolean> {
    let seen = 0;
    for (;;) {
      if (this.#pending.length > 0) {
        seen += this.#pending.length;
        if (seen > limit || this.#pending.some((b) => b !== 0)) return false;
        this.#pending = Buffer.alloc(0);
      }
      if (!(await this.#pull())) return true;
    }
  }
}

/** Reads and checks the next header block. */
export async function readHeader(reader: ByteReader): Promise<TarHeader> {
  const block = await reader.read(BLOCK);
  if (block === null)
    return { kind: "invalid", reason: "tar archive ends without its end-of-archive blocks" };
  if (block.every((b) => b === 0)) {
    const second = await reader.read(BLOCK);
    if (second === null || second.some((b) => b !== 0)) {
      return { kind: "invalid", reason: "tar archive does not end with two zero blocks" };
    }
    return { kind: "end" };
  }
  return parseHeader(block);
}

function parseHeader(block: Buffer): TarHeader {
  const stored = parseOctal(block.subarray(148, 156));
  let sum = 8 * 0x20;
  for (let i = 0; i < BLOCK; i++) if (i < 148 || i >= 156) sum += block[i] ?? 0;
  if (stored !== sum) return { kind: "invalid", reason: "tar header checksum mismatch" };
  if (block.toString("latin1", 257, 265) !== "ustar\u000000") {
    return { kind: "invalid", reason: "tar header is not POSIX ustar" };
  }
  const name = joinName(text(block.subarray(345, 500)), text(block.subarray(0, 100)));
  if (name === null) return { kind: "invalid", reason: "tar entry name is not UTF-8" };
  const flag = block[156] ?? 0;
  if (flag !== 0 && flag !== 0x30) {
    const char = String.fromCharCode(flag);
    return { kind: "other", name, what: TYPES[char] ?? `of unknown type ${JSON.stringify(char)}` };
  }
  const size = parseSize(block.subarray(124, 136));
  if (size === null) return { kind: "invalid", reason: `tar entry ${JSON.stringify(name)} has no size` };
  const fields: LayoutFields = {
    mode: parseOctal(block.subarray(100, 108)),
    uid: parseOctal(block.subarray(108, 116)),
    gid: parseOctal(block.subarray(116, 124)),
    mtime: parseOctal(block.subarray(136, 148)),
    uname: text(block.subarray(265, 297)),
    gname: text(block.subarray(297, 329)),
  };
  return { kind: "file", name, size, fields };
}

function joinName(prefix: string | null, name: string | null): string | null {
  if (prefix === null || name === null) return null;
  return prefix === "" ? name : `${prefix}/${name}`;
}

/** A NUL-terminated UTF-8 field; null when not UTF-8. */
function text(field: Buffer): string | null {
  const end = field.indexOf(0);
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(end < 0 ? field : field.subarray(0, end));
  } catch {
    return null;
  }
}

/** The size field: octal, or base-256 (GNU, 0x80 then 11 big-endian bytes) beyond 8 GiB. */
function parseSize(field: Buffer): number | null {
  if (field[0] !== 0x80) return parseOctal(field);
  let size = 0;
  for (const byte of field.subarray(1)) size = size * 256 + byte;
  return Number.isSafeInteger(size) ? size : null;
}

/** An octal field (digits, then NUL or space padding); null for anything else. */
function parseOctal(field: Buffer): number | null {
  const digits = field
    .toString("latin1")
    .replace(/^ +/, "")
    .replace(/[ \u0000]+$/, "");
  if (!/^[0-7]{1,12}$/.test(digits)) return null;
  return parseInt(digits, 8);
}
