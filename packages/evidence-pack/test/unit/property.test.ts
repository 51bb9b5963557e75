import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { verifyPack } from "@aiaudit/evidence-pack";
import { TEST_KEY, packOf, prng } from "../helpers.ts";

const key = { expectedPublicKey: TEST_KEY.publicKey };
/**
 * Gzip header bytes 8 and 9 (XFL, OS: RFC 1952 §2.3) are read by no decompressor and covered by no
 * checksum or signature, and the spec fixes neither: the verifier accepts any value there.
 */
const UNCHECKED = new Set([8, 9]);

/** The Copilot pack's files with random contents: .jsonl with random rows, others random text. */
function randomFiles(random: () => number): { name: string; text: string }[] {
  const pick = (n: number): number => Math.floor(random() * n);
  const word = (): string =>
    Array.from({ length: 1 + pick(12) }, () => "abcdefghijklmnopqrstuvwxyz0123456789_-/é"[pick(40)]).join("");
  return ["README.txt", "coverage.json", "events.jsonl", "kpis.json", "seats.jsonl"].map((name) => {
    if (!name.endsWith(".jsonl")) return { name, text: Array.from({ length: pick(200) }, word).join(" ") };
    const rows = Array.from(
      { length: pick(40) },
      (_, i) => `${JSON.stringify({ i, v: word(), n: pick(1e9) })}\n`,
    );
    return { name, text: rows.join("") };
  });
}

describe("random packs (seeded)", () => {
  const random = prng(20250101);
  for (let i = 0; i < 30; i++) {
    const files = randomFiles(random);
    const offsetDraw = random();
    const maskDraw = random();
    it(`pack ${i} (${files.length} files) verifies, and with one byte flipped does not`, async () => {
      const bytes = await packOf(files, `random-${i}`);
      assert.equal((await verifyPack(bytes, key)).valid, true);
      let at = Math.floor(offsetDraw * bytes.length);
      while (UNCHECKED.has(at)) at = (at + 7) % bytes.length;
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] ?? 0) ^ (1 + Math.floor(maskDraw * 255));
      const result = await verifyPack(flipped, key);
      assert.equal(result.valid, false, `flipping byte ${at} of ${bytes.length} still verified`);
    });
  }

  it("every single-byte flip of one pack fails, except the 2 unchecked gzip header bytes", async () => {
    const bytes = await packOf(randomFiles(prng(7)), "random-all-flips");
    const failures: number[] = [];
    for (let at = 0; at < bytes.length; at++) {
      const flipped = Buffer.from(bytes);
      flipped[at] = (flipped[at] ?? 0) ^ 0xff;
      if ((await verifyPack(flipped, key)).valid !== UNCHECKED.has(at)) failures.push(at);
    }
    assert.deepEqual(failures, []);
  });
});
