import assert from "node:assert/strict";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { gunzipSync, gzipSync } from "node:zlib";
import { verifyPack } from "@aiaudit/evidence-pack";
import { OTHER_KEY, TEST_KEY, badPacks, entriesOf, makeParts, tarGz } from "../helpers.ts";

const key = { expectedPublicKey: TEST_KEY.publicKey };
const cases = await badPacks();

describe("verifyPack rejects", () => {
  it("(the hand-built pack they all start from is valid)", async () => {
    const result = await verifyPack(await tarGz(entriesOf(makeParts())), key);
    assert.equal(result.valid, true, JSON.stringify(result));
  });
  for (const bad of cases) {
    it(`${bad.name}, naming the problem`, async () => {
      assert.match(reasonOf(await verifyPack(bad.bytes, key)), bad.reason);
    });
  }

  it("an entry far larger than the manifest says, without reading it", async () => {
    const huge = cases.find((c) => c.name === "entry far larger than the manifest says");
    assert.ok(huge);
    assert.ok(gunzipSync(huge.bytes).length > 50_000_000);
    const rssBefore = process.memoryUsage().rss;
    const started = performance.now();
    const result = await verifyPack(huge.bytes, key);
    const elapsed = performance.now() - started;
    const growth = process.memoryUsage().rss - rssBefore;
    assert.equal(result.valid, false);
    assert.ok(growth < 10 * 1024 * 1024, `rss grew by ${growth} bytes`);
    // Inflating 50 MB takes far longer than stopping at the entry's header.
    assert.ok(elapsed < 100, `took ${elapsed} ms`);
  });
  it("a manifest.json over 1 MiB, from its header", async () => {
    const result = await verifyPack(await tarGz([{ name: "manifest.json", zeros: 2 * 1024 * 1024 }]), key);
    assert.deepEqual(result, {
      valid: false,
      reason: "manifest.json is 2097152 bytes, more than the 1048576 allowed",
    });
  });
  it("a manifest.sig that is not 64 bytes", async () => {
    const parts = makeParts();
    const entries = entriesOf(parts).map((e) =>
      e.name === "manifest.sig" ? { ...e, body: parts.sig.subarray(0, 63) } : e,
    );
    assert.match(reasonOf(await verifyPack(await tarGz(entries), key)), /manifest\.sig is not 64 bytes/);
  });
  it("a pax extended header, which a lenient extractor would apply silently", async () => {
    const entries = entriesOf(makeParts());
    const withPax = [
      ...entries.slice(0, 3),
      { name: "PaxHeader", type: "pax-header" as const, body: Buffer.alloc(0) },
      ...entries.slice(3),
    ];
    assert.match(
      reasonOf(await verifyPack(await tarGz(withPax), key)),
      /pax extended header, not a regular file/,
    );
  });
  it("a manifest that is signed but not schema_version 2", async () => {
    const parts = makeParts({ edit: (m) => (m.schema_version = 3) });
    assert.match(
      reasonOf(await verifyPack(await tarGz(entriesOf(parts)), key)),
      /not a schema_version 2 manifest/,
    );
  });
  it("bytes that are not gzip at all", async () => {
    assert.match(reasonOf(await verifyPack(Buffer.from("not a pack"), key)), /not a gzip stream/);
    assert.match(reasonOf(await verifyPack(gzipSync(Buffer.from("x".repeat(700))), key)), /tar/);
  });
  it("garbage, zeros or another member after the gzip stream", async () => {
    const valid = await tarGz(entriesOf(makeParts()));
    assert.match(reasonOf(await verifyPack(Buffer.concat([valid, Buffer.from("junk")]), key)), /gzip/);
    assert.match(
      reasonOf(await verifyPack(Buffer.concat([valid, Buffer.alloc(3)]), key)),
      /after the end of the gzip stream/,
    );
    const zerosMember = gzipSync(Buffer.alloc(512));
    assert.match(
      reasonOf(await verifyPack(Buffer.concat([valid, zerosMember]), key)),
      /after the end of the gzip stream/,
    );
  });
  it("a gzip header with a timestamp or a file name", async () => {
    const valid = await tarGz(entriesOf(makeParts()));
    const stamped = Buffer.from(valid);
    stamped.writeUInt32LE(1_700_000_000, 4);
    assert.match(reasonOf(await verifyPack(stamped, key)), /modification time is not 0/);
    const named = gzipSync(gunzipSync(valid));
    named[3] = 0x08;
    assert.match(reasonOf(await verifyPack(named, key)), /flags set/);
  });
  it("an entry whose mode, owner or time is not the layout's", async () => {
    const tarBytes = gunzipSync(await tarGz(entriesOf(makeParts())));
    // Patch README.txt's header: mode 0755, checksum recomputed.
    let at = 0;
    while (tarBytes.toString("latin1", at, at + 11) !== "README.txt\0") at += 512;
    const header = tarBytes.subarray(at, at + 512);
    header.write("000755 \0", 100, "latin1");
    header.fill(0x20, 148, 156);
    let sum = 0;
    for (const b of header) sum += b;
    header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "latin1");
    assert.match(reasonOf(await verifyPack(gzipSync(tarBytes), key)), /"README\.txt" has mode 755, not 644/);
  });
  it("a pack checked against another expected key", async () => {
    const valid = await tarGz(entriesOf(makeParts()));
    assert.match(
      reasonOf(await verifyPack(valid, { expectedPublicKey: OTHER_KEY.publicKey })),
      /does not verify/,
    );
  });
});

describe("verifyPack throws (unusable input, not an invalid pack)", () => {
  it("for a file that cannot be read", async () => {
    const dir = await mkdtemp(join(tmpdir(), "evidence-pack-"));
    try {
      await assert.rejects(verifyPack(join(dir, "absent.tar.gz"), key), { code: "ENOENT" });
      await writeFile(join(dir, "pack.tar.gz"), await tarGz(entriesOf(makeParts())));
      assert.equal((await verifyPack(join(dir, "pack.tar.gz"), key)).valid, true);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
  it("for an expected key that cannot be parsed", async () => {
    await assert.rejects(verifyPack(Buffer.alloc(0), { expectedPublicKey: "not a key" }), RangeError);
    await assert.rejects(verifyPack(Buffer.alloc(0), { expectedPublicKey: new Uint8Array(31) }), RangeError);
  });
});

function reasonOf(result: { valid: boolean; reason?: string }): string {
  assert.equal(result.valid, false);
  return result.reason ?? "";
}
