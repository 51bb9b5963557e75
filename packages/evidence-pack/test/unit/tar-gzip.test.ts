import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { describe, it } from "node:test";
import { crc32, gunzipSync } from "node:zlib";
import * as tar from "tar-stream";
import {
  Crc32,
  END_OF_ARCHIVE,
  GZIP_HEADER,
  crc32Combine,
  deflateSegment,
  gzipTrailer,
  DEFLATE_BLOCK_BYTES,
  deflateSegmentStream,
  ustarHeader,
} from "../../src/tar-gzip.ts";
import { ByteReader, readHeader } from "../../src/ustar-reader.ts";

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk);
  return Buffer.concat(chunks);
}

/** tar-stream's header block for the writer's fixed fields. */
async function tarStreamHeader(name: string, size: number): Promise<Buffer> {
  const pack = tar.pack();
  const header = { name, size, mode: 0o644, uid: 0, gid: 0, uname: "", gname: "", mtime: new Date(0) };
  const entry = pack.entry(header, () => undefined); // destroyed once its header is out
  pack.on("error", () => undefined);
  const first = new Promise<Buffer>((resolve) => pack.once("data", (chunk) => resolve(chunk as Buffer)));
  const block = (await first).subarray(0, 512);
  entry.destroy();
  pack.destroy();
  return block;
}

describe("ustarHeader", () => {
  it("encodes the same block as tar-stream for the writer's fields", async () => {
    for (const [name, size] of [
      ["manifest.json", 0],
      ["manifest.sig", 64],
      ["events.jsonl", 5_213_000_123],
      ["max.jsonl", 0o77777777777],
      ["x".repeat(100), 511],
    ] as const) {
      assert.ok(ustarHeader(name, size).equals(await tarStreamHeader(name, size)), `${name} ${size}`);
    }
  });
  it("writes sizes beyond the octal field in base-256, which the reader reads back", async () => {
    const size = 10 * 2 ** 30 + 7; // 10 GiB: over 0o77777777777
    const header = ustarHeader("events.jsonl", size);
    assert.ok(header.equals(await tarStreamHeader("events.jsonl", size)));
    assert.equal(header[124], 0x80);
    const parsed = await readHeader(new ByteReader(Readable.from([header])));
    assert.deepEqual(parsed.kind === "file" && [parsed.name, parsed.size], ["events.jsonl", size]);
  });
  it("writes a UTF-8 name in the name field (tar-stream would add a pax header, which verifiers refuse)", async () => {
    const parsed = await readHeader(new ByteReader(Readable.from([ustarHeader("naïve.jsonl", 3)])));
    assert.deepEqual(parsed.kind === "file" && [parsed.name, parsed.size], ["naïve.jsonl", 3]);
  });
  it("refuses a name over 100 bytes", () => {
    assert.throws(() => ustarHeader("y".repeat(101), 0), /over 100 bytes/);
  });
});

describe("crc32Combine", () => {
  it("gives zlib's CRC-32 of the concatenation for random splits", () => {
    for (let i = 0; i < 200; i++) {
      const a = randomBytes(Math.floor(Math.random() * 3000));
      const b = randomBytes(i === 0 ? 0 : Math.floor(Math.random() * 3000));
      assert.equal(crc32Combine(crc32(a), crc32(b), b.length), crc32(Buffer.concat([a, b])));
    }
  });
  it("combines across lengths beyond 2^32 as a zero run of that length would", () => {
    // crc(A·0^n) computed by the combine must equal crc32 over n zeros continued from crc(A), for small n
    // checked directly, and be stable (not NaN or negative) for n > 2^32.
    const a = Buffer.from("evidence");
    const zeros = Buffer.alloc(70_000);
    assert.equal(crc32Combine(crc32(a), crc32(zeros), zeros.length), crc32(zeros, crc32(a)));
    const big = crc32Combine(crc32(a), 0x12345678, 2 ** 33 + 5);
    assert.ok(Number.isInteger(big) && big >= 0 && big < 2 ** 32);
  });
});

describe("segments", () => {
  it("concatenate into one gzip member that inflates to the bytes, with the trailer's CRC", async () => {
    const parts = [randomBytes(700), Buffer.alloc(0), Buffer.from("a".repeat(100_000)), randomBytes(40_000)];
    const running = new Crc32();
    const member: Buffer[] = [GZIP_HEADER];
    for (const [i, part] of parts.entries()) {
      if (i % 2 === 0) {
        member.push(deflateSegment(part));
        running.update(part);
      } else {
        member.push(await collect(deflateSegmentStream(Readable.from([part]))));
        running.append(crc32(part), part.length);
      }
    }
    member.push(deflateSegment(END_OF_ARCHIVE, true));
    running.update(END_OF_ARCHIVE);
    member.push(gzipTrailer(running.crc, running.length));
    assert.ok(gunzipSync(Buffer.concat(member)).equals(Buffer.concat([...parts, END_OF_ARCHIVE])));
  });
  it("compresses a segment to the same bytes whether whole or streamed in pieces, across blocks", async () => {
    const line = (i: number) => `{"row":${i % 97},"id":"${(i * 7919).toString(36)}"}\n`;
    const text = Buffer.from(Array.from({ length: 200_000 }, (_, i) => line(i)).join(""));
    for (const size of [0, 1, 511, DEFLATE_BLOCK_BYTES, 2 * DEFLATE_BLOCK_BYTES, text.length]) {
      const data = text.subarray(0, size);
      const pieces: Buffer[] = [];
      for (let at = 0, step = 1; at < data.length; at += step, step = 1 + ((step * 31) % 70_000)) {
        pieces.push(data.subarray(at, at + step));
      }
      const streamed = await collect(deflateSegmentStream(Readable.from(pieces)));
      const whole = deflateSegment(data);
      assert.ok(streamed.equals(whole), `${size} bytes`);
      const member = Buffer.concat([
        GZIP_HEADER,
        whole,
        deflateSegment(END_OF_ARCHIVE, true),
        gzipTrailer(crc32Combine(crc32(data), crc32(END_OF_ARCHIVE), END_OF_ARCHIVE.length), size + 1024),
      ]);
      assert.ok(gunzipSync(member).equals(Buffer.concat([data, END_OF_ARCHIVE])), `${size} bytes inflate`);
    }
    assert.ok(text.length > 3 * DEFLATE_BLOCK_BYTES);
  });
});
