/**
 * The bytes of a pack's data file as they come out of ClickHouse: `key\tline\n` records (an
 * order-preserving sort key, then the row's JSON line), made canonical, spooled a range at a time to
 * temporary files and merged back into one ordered stream of lines (see sql.ts for why).
 */
import { isUtf8 } from "node:buffer";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { canonicalJson } from "@aiaudit/evidence-pack";

/** Ranges read at once, each by a ClickHouse session of its own (the engine's threads per range: 1). */
const RANGE_READERS = 2;
/** Bytes of the merge's read buffers, all ranges together (at most 256 KiB each, at least 16). */
const MERGE_READ_BYTES = 16 * 1024 * 1024;
/** Bytes of each block of merged lines. */
const OUT_BYTES = 1024 * 1024;
const NEWLINE = 0x0a;
const TAB = 0x09;

/** Where a range's records are: a region of a spool file. */
export interface SpooledRange {
  file: FileHandle;
  start: number;
  end: number;
}

/**
 * Reads ranges 0 … count − 1 into spool files under `dir`, RANGE_READERS at a time (each reader its
 * own file and ClickHouse session), so that the engine sorts one range while the next is written.
 */
export async function spoolRanges(
  dir: string,
  count: number,
  read: (range: number) => AsyncIterable<Buffer>,
): Promise<SpooledRange[]> {
  const files: FileHandle[] = [];
  const ranges: SpooledRange[] = [];
  let next = 0;
  let failed = false;
  /** Another reader failed: this one stops too. */
  const stopped = (): boolean => failed;
  const reader = async (file: FileHandle): Promise<void> => {
    let position = 0;
    for (let range = next++; range < count && !stopped(); range = next++) {
      const start = position;
      for await (const block of read(range)) {
        if (stopped()) break;
        await file.write(block, 0, block.length, position);
        position += block.length;
      }
      ranges[range] = { file, start, end: position };
    }
  };
  try {
    for (let i = 0; i < Math.min(RANGE_READERS, count); i++) {
      files.push(await open(join(dir, `ranges-${i}.spool`), "w+"));
    }
    const settled = await Promise.allSettled(
      files.map((file) =>
        reader(file).catch((err: unknown) => {
          failed = true;
          throw err;
        }),
      ),
    );
    for (const s of settled) if (s.status === "rejected") throw s.reason;
    return ranges;
  } catch (err) {
    await Promise.all(files.map((f) => f.close()));
    throw err;
  }
}

/** Blocks of whole lines (`\n`-terminated) out of chunks that may end anywhere. */
async function* wholeLines(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  let rest: Buffer | undefined;
  for await (const chunk of source) {
    const data = rest === undefined ? chunk : Buffer.concat([rest, chunk]);
    const last = data.lastIndexOf(NEWLINE);
    if (last < 0) {
      rest = data;
      continue;
    }
    rest = last + 1 < data.length ? data.subarray(last + 1) : undefined;
    yield data.subarray(0, last + 1);
  }
  if (rest !== undefined) throw new Error("ClickHouse output ended inside a row");
}

/** True when ClickHouse's JSON in `bytes` is canonical as it is (see the file comment). */
const copyable = (bytes: Buffer): boolean => bytes.indexOf("\\u") < 0 && isUtf8(bytes);

/** Like chdb's and the HTTP client's decoding of a result: invalid UTF-8 becomes U+FFFD. */
const decoder = new TextDecoder();

/** `key\tline\n` records with every line canonical. */
export async function* canonicalRecords(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const block of wholeLines(source)) {
    if (copyable(block)) {
      yield block;
      continue;
    }
    const out: Buffer[] = [];
    forEachRecord(block, (keyStart, lineStart, end) => {
      const line = block.subarray(lineStart, end);
      out.push(block.subarray(keyStart, lineStart));
      out.push(copyable(line) ? line : Buffer.from(canonicalJson(JSON.parse(decoder.decode(line))), "utf8"));
      out.push(Buffer.from("\n"));
    });
    yield Buffer.concat(out);
  }
}

/** Calls `fn(keyStart, lineStart, lineEnd)` for each `key\tline\n` record of a block (lineEnd at `\n`). */
function forEachRecord(block: Buffer, fn: (keyStart: number, lineStart: number, end: number) => void): void {
  for (let at = 0; at < block.length;) {
    const end = block.indexOf(NEWLINE, at);
    const tab = block.indexOf(TAB, at);
    if (tab < 0 || tab > end) throw new Error("ClickHouse output is not a sort key and a line");
    fn(at, tab + 1, end);
    at = end + 1;
  }
}

/** The lines of records, keys dropped. */
export async function* linesOf(records: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
  for await (const block of records) {
    const out = Buffer.allocUnsafe(block.length);
    let n = 0;
    forEachRecord(block, (_key, lineStart, end) => {
      n += block.copy(out, n, lineStart, end + 1);
    });
    yield out.subarray(0, n);
  }
}

/** One range of the spool file, read a buffer at a time, positioned on a record. */
class RangeReader {
  readonly #file: FileHandle;
  #position: number;
  readonly #end: number;
  #buffer: Buffer;
  /** The valid bytes of #buffer. */
  view: Buffer;
  #next = 0;
  key = "";
  lineStart = 0;
  /** Just past the record's `\n`. */
  lineEnd = 0;

  constructor(file: FileHandle, start: number, end: number, bufferBytes: number) {
    this.#buffer = Buffer.allocUnsafe(bufferBytes);
    this.view = this.#buffer.subarray(0, 0);
    this.#file = file;
    this.#position = start;
    this.#end = end;
  }

  /** Moves to the next record in the buffer: true; false at the range's end; undefined: fill() first. */
  advance(): boolean | undefined {
    const newline = this.view.indexOf(NEWLINE, this.#next);
    if (newline < 0) {
      if (this.#position < this.#end) return undefined;
      if (this.#next < this.view.length) throw new Error("pack spool file ends inside a record");
      return false;
    }
    const tab = this.view.indexOf(TAB, this.#next);
    this.key = this.view.toString("latin1", this.#next, tab);
    this.lineStart = tab + 1;
    this.lineEnd = newline + 1;
    this.#next = newline + 1;
    return true;
  }

  /** Keeps the unread bytes and reads more after them (a larger buffer if a record needs it). */
  async fill(): Promise<void> {
    const kept = this.view.length - this.#next;
    if (kept * 2 > this.#buffer.length) {
      const larger = Buffer.allocUnsafe(this.#buffer.length * 2);
      this.view.copy(larger, 0, this.#next);
      this.#buffer = larger;
    } else {
      this.view.copy(this.#buffer, 0, this.#next);
    }
    const length = Math.min(this.#buffer.length - kept, this.#end - this.#position);
    const { bytesRead } = await this.#file.read(this.#buffer, kept, length, this.#position);
    if (bytesRead === 0) throw new Error("pack spool file is shorter than written");
    this.#position += bytesRead;
    this.view = this.#buffer.subarray(0, kept + bytesRead);
    this.#next = 0;
  }

  /** advance(), filling as needed. */
  async step(): Promise<boolean> {
    for (;;) {
      const moved = this.advance();
      if (moved !== undefined) return moved;
      await this.fill();
    }
  }
}

/**
 * The lines of every range, merged by sort key (a binary heap of the ranges' current records); closes
 * the spool files.
 */
export async function* merged(ranges: SpooledRange[]): AsyncGenerator<Buffer> {
  try {
    yield* mergedLines(ranges);
  } finally {
    await Promise.all([...new Set(ranges.map((r) => r.file))].map((f) => f.close()));
  }
}

async function* mergedLines(ranges: SpooledRange[]): AsyncGenerator<Buffer> {
  const heap: RangeReader[] = [];
  const share = Math.floor(MERGE_READ_BYTES / ranges.length);
  const bufferBytes = Math.min(256 * 1024, Math.max(16 * 1024, share));
  for (const { file, start, end } of ranges) {
    const reader = new RangeReader(file, start, end, bufferBytes);
    if (await reader.step()) heap.push(reader);
  }
  const before = (a: RangeReader, b: RangeReader): boolean => a.key < b.key;
  const siftDown = (from: number): void => {
    const item = heap[from];
    if (item === undefined) return;
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const l = heap[left] as RangeReader;
      const r = heap[right];
      const child = r !== undefined && before(r, l) ? right : left;
      const c = heap[child] as RangeReader;
      if (!before(c, item)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = item;
  };
  for (let i = (heap.length >> 1) - 1; i >= 0; i--) siftDown(i);

  let out = Buffer.allocUnsafe(OUT_BYTES);
  let n = 0;
  for (;;) {
    const top = heap[0];
    if (top === undefined) break;
    const length = top.lineEnd - top.lineStart;
    if (n + length > out.length) {
      if (n > 0) yield out.subarray(0, n);
      out = Buffer.allocUnsafe(Math.max(OUT_BYTES, length));
      n = 0;
    }
    n += top.view.copy(out, n, top.lineStart, top.lineEnd);
    let moved = top.advance();
    if (moved === undefined) moved = await top.step();
    if (!moved) {
      const last = heap.pop() as RangeReader;
      if (heap.length === 0) break;
      heap[0] = last;
    }
    siftDown(0);
  }
  if (n > 0) yield out.subarray(0, n);
}
