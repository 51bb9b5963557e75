import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { gunzipSync } from "node:zlib";
import { verifyPack, writePack, writePackFile, type WritePackOptions } from "@aiaudit/evidence-pack";
import {
  OTHER_KEY,
  TEST_KEY,
  TEST_KEY_B64,
  chunked,
  goldenFiles,
  goldenOptions,
  packOf,
} from "../helpers.ts";

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "evidence-pack-test-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Names and sizes of a tar's entries, read from its headers. */
function tarListing(gz: Buffer): string[] {
  const tarBytes = gunzipSync(gz);
  const out: string[] = [];
  for (let at = 0; at + 512 <= tarBytes.length;) {
    const block = tarBytes.subarray(at, at + 512);
    if (block.every((b) => b === 0)) break;
    const field = (from: number, to: number): string =>
      block.toString("latin1", from, to).replace(/\0.*$/s, "");
    const size = parseInt(field(124, 136), 8);
    out.push(
      [
        field(0, 100),
        field(100, 108),
        field(108, 116),
        field(116, 124),
        field(136, 148),
        field(156, 157),
        field(265, 297),
        field(297, 329),
        size,
      ].join("|"),
    );
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

describe("writePack", () => {
  it("writes the same bytes twice for the same inputs", async () => {
    const a = await writePack(goldenOptions(1, null));
    const b = await writePack(goldenOptions(1, null));
    assert.ok(a.bytes.equals(b.bytes));
    assert.ok(a.manifestBytes.equals(b.manifestBytes));
  });
  it("writes the same bytes whether files are buffers or streams spooled to disk", async () => {
    const whole = await writePack(goldenOptions(1, null));
    const streamed = await writePack(goldenOptions(1, null, true));
    assert.ok(whole.bytes.equals(streamed.bytes));
  });
  it("writePackFile streams the same bytes to a file and leaves no spool or partial file", async () => {
    const path = join(dir, "pack-1.tar.gz");
    const spoolDir = await mkdtemp(join(dir, "spool-"));
    const written = await writePackFile(path, { ...goldenOptions(1, null, true), spoolDir });
    const inMemory = await writePack(goldenOptions(1, null));
    assert.ok((await readFile(path)).equals(inMemory.bytes));
    assert.equal(written.size, inMemory.bytes.length);
    assert.deepEqual(await readdir(spoolDir), []);
    assert.ok(!(await readdir(dir)).some((f) => f.endsWith(".partial")));
  });
  it("writes a gzip header without name or time and with a fixed OS byte", async () => {
    const { bytes } = await writePack(goldenOptions(1, null));
    assert.equal(bytes.subarray(0, 10).toString("hex"), "1f8b0800000000000203");
  });
  it("writes the entries in the spec's order with fixed header fields", async () => {
    const { bytes } = await writePack(goldenOptions(1, null));
    const listing = tarListing(bytes).map((line) => line.split("|"));
    assert.deepEqual(
      listing.map((l) => l[0]),
      [
        "manifest.json",
        "manifest.sig",
        "SHA256SUMS",
        "README.txt",
        "coverage.json",
        "events.jsonl",
        "kpis.json",
        "seats.jsonl",
      ],
    );
    for (const [, mode, uid, gid, mtime, type, uname, gname] of listing) {
      assert.deepEqual(
        [mode, uid, gid, mtime, type, uname, gname],
        ["000644 ", "000000 ", "000000 ", "00000000000 ", "0", "", ""],
      );
    }
  });
  it("describes every file in the manifest, SHA256SUMS included, with rows for .jsonl only", async () => {
    const { manifest, manifestBytes, manifestSha256 } = await writePack(goldenOptions(1, null));
    assert.deepEqual(
      manifest.files.map((f) => [f.name, f.rows]),
      [
        ["README.txt", null],
        ["SHA256SUMS", null],
        ["coverage.json", null],
        ["events.jsonl", 2],
        ["kpis.json", null],
        ["seats.jsonl", 2],
      ],
    );
    assert.equal(manifest.period_start, "2025-01-01T00:00:00.000Z");
    assert.equal(manifest.period_end, "2025-01-31T23:59:59.999Z");
    assert.equal(manifest.signing_key.public_key, TEST_KEY_B64);
    assert.equal(manifestSha256, createHash("sha256").update(manifestBytes).digest("hex"));
  });
  it("streams a 96 MiB file through the spool without holding it in memory", async () => {
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    chunk[chunk.length - 1] = 0x0a;
    const count = 1536;
    async function* rows(): AsyncGenerator<Buffer> {
      for (let i = 0; i < count; i++) yield await Promise.resolve(chunk);
    }
    const path = join(dir, "big.tar.gz");
    const rssBefore = process.memoryUsage().rss;
    const { manifest } = await writePackFile(path, {
      ...goldenOptions(1, null),
      files: goldenFiles(1).map(({ name, text }) =>
        name === "events.jsonl" ? { name, source: rows(), rows: count } : { name, source: text },
      ),
    });
    const growth = process.memoryUsage().rss - rssBefore;
    const size = chunk.length * count;
    assert.equal(manifest.files.find((f) => f.name === "events.jsonl")?.bytes, size);
    // zlib and allocator arenas take a few tens of MB whatever the size; the file itself is not held.
    assert.ok(growth < size * 0.7, `rss grew by ${growth} bytes for a ${size}-byte file`);
    assert.equal((await verifyPack(path, { expectedPublicKey: TEST_KEY.publicKey })).valid, true);
  });
  it("refuses inputs that would make an invalid pack", async () => {
    const base = goldenOptions(1, null);
    const bad: [string, Partial<WritePackOptions>][] = [
      ["reserved name", { files: [{ name: "SHA256SUMS", source: "x" }] }],
      ["path name", { files: [{ name: "a/b.txt", source: "x" }] }],
      [
        "duplicate",
        {
          files: [
            { name: "a.txt", source: "x" },
            { name: "a.txt", source: "y" },
          ],
        },
      ],
      ["unterminated jsonl", { files: [{ name: "a.jsonl", source: '{"a":1}' }] }],
      ["row count", { files: [{ name: "a.jsonl", source: "{}\n", rows: 2 }] }],
      ["sequence 2 without previous", { sequence: 2 }],
      ["previous on sequence 1", { previous: { packId: "p0", manifestSha256: "0".repeat(64) } }],
      ["period backwards", { periodEnd: 0 }],
      ["short key", { privateKey: new Uint8Array(16) }],
    ];
    for (const [what, change] of bad)
      await assert.rejects(writePack({ ...base, ...change }), RangeError, what);
  });
  it("refuses a failing stream and cleans up", async () => {
    async function* broken(): AsyncGenerator<string> {
      yield* chunked("{}\n", 1);
      throw new Error("source failed");
    }
    const path = join(dir, "broken.tar.gz");
    await assert.rejects(
      writePackFile(path, { ...goldenOptions(1, null), files: [{ name: "a.jsonl", source: broken() }] }),
      /source failed/,
    );
    assert.ok(!(await readdir(dir)).some((f) => f.startsWith("broken")));
  });
});

describe("chain", () => {
  it("pack 2 names pack 1, and verifies with it", async () => {
    const first = await writePack(goldenOptions(1, null));
    const second = await writePack(
      goldenOptions(2, { packId: first.manifest.pack_id, manifestSha256: first.manifestSha256 }),
    );
    assert.deepEqual(second.manifest.previous, {
      pack_id: "golden-pack-1",
      manifest_sha256: first.manifestSha256,
    });
    const result = await verifyPack(second.bytes, {
      expectedPublicKey: TEST_KEY.publicKey,
      previous: first.bytes,
    });
    assert.equal(result.valid, true);
  });
  it("a replaced predecessor breaks the chain", async () => {
    const first = await writePack(goldenOptions(1, null));
    const second = await writePack(
      goldenOptions(2, { packId: first.manifest.pack_id, manifestSha256: first.manifestSha256 }),
    );
    const replaced = await replacedFirst();
    const result = await verifyPack(second.bytes, {
      expectedPublicKey: TEST_KEY.publicKey,
      previous: replaced.bytes,
    });
    assert.deepEqual(result, {
      valid: false,
      reason: "previous.manifest_sha256 is not the sha256 of the previous pack's manifest.json",
    });
  });
  it("a predecessor with another id, sequence or signer breaks the chain", async () => {
    const first = await writePack(goldenOptions(1, null));
    const link = { packId: first.manifest.pack_id, manifestSha256: first.manifestSha256 };
    const second = await writePack(goldenOptions(2, link));
    const key = { expectedPublicKey: TEST_KEY.publicKey };
    const otherId = await writePack({ ...goldenOptions(1, null), packId: "someone-else" });
    assert.match(
      reasonOf(await verifyPack(second.bytes, { ...key, previous: otherId.bytes })),
      /previous\.pack_id/,
    );
    const third = await writePack({ ...goldenOptions(2, link), sequence: 3 });
    assert.match(
      reasonOf(await verifyPack(third.bytes, { ...key, previous: first.bytes })),
      /sequence 1, expected 2/,
    );
    const foreign = await writePack({ ...goldenOptions(1, null), privateKey: OTHER_KEY.privateKey });
    assert.match(
      reasonOf(await verifyPack(second.bytes, { ...key, previous: foreign.bytes })),
      /^previous pack: manifest\.sig/,
    );
    assert.match(
      reasonOf(await verifyPack(first.bytes, { ...key, previous: first.bytes })),
      /previous is null/,
    );
  });
});

/** Golden pack 1 with another README: same id, other manifest. */
async function replacedFirst(): Promise<{ bytes: Buffer }> {
  const files = goldenFiles(1).map((f) => (f.name === "README.txt" ? { ...f, text: "rewritten\n" } : f));
  return { bytes: await packOf(files, "golden-pack-1") };
}

function reasonOf(result: { valid: boolean; reason?: string }): string {
  assert.equal(result.valid, false);
  return result.reason ?? "";
}
