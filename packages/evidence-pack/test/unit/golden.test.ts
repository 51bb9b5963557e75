import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, it } from "node:test";
import { verifyPack, writePack } from "@aiaudit/evidence-pack";
import { GOLDEN_DIR, TEST_KEY_B64, goldenOptions } from "../helpers.ts";

/** Set to regenerate the golden packs after a deliberate format change (then review the diff). */
const UPDATE = process.env.AIAUDIT_UPDATE_GOLDEN === "1";

async function goldenPair(): Promise<{ first: Buffer; second: Buffer }> {
  const first = await writePack(goldenOptions(1, null));
  const second = await writePack(
    goldenOptions(2, { packId: first.manifest.pack_id, manifestSha256: first.manifestSha256 }),
  );
  return { first: first.bytes, second: second.bytes };
}

describe("golden packs", () => {
  it("writing the same inputs reproduces pack-1.tar.gz and pack-2.tar.gz byte for byte", async () => {
    const { first, second } = await goldenPair();
    if (UPDATE) {
      await writeFile(join(GOLDEN_DIR, "pack-1.tar.gz"), first);
      await writeFile(join(GOLDEN_DIR, "pack-2.tar.gz"), second);
    }
    assert.ok(first.equals(await readFile(join(GOLDEN_DIR, "pack-1.tar.gz"))), "pack-1.tar.gz differs");
    assert.ok(second.equals(await readFile(join(GOLDEN_DIR, "pack-2.tar.gz"))), "pack-2.tar.gz differs");
  });
  it("verify with the README's public key, pack 2 chained to pack 1", async () => {
    const readme = await readFile(join(GOLDEN_DIR, "README.md"), "utf8");
    assert.ok(readme.includes(TEST_KEY_B64), "README.md names the public key");
    const first = join(GOLDEN_DIR, "pack-1.tar.gz");
    const second = join(GOLDEN_DIR, "pack-2.tar.gz");
    const one = await verifyPack(first, { expectedPublicKey: TEST_KEY_B64 });
    const two = await verifyPack(second, { expectedPublicKey: TEST_KEY_B64, previous: first });
    if (!one.valid || !two.valid) assert.fail(`golden packs invalid: ${JSON.stringify([one, two])}`);
    assert.equal(two.manifest.previous?.manifest_sha256, one.manifestSha256);
    assert.equal(two.manifest.sequence, 2);
  });
  it("pack 1 is not a valid predecessor of itself, nor pack 2 of pack 1", async () => {
    const first = join(GOLDEN_DIR, "pack-1.tar.gz");
    const second = join(GOLDEN_DIR, "pack-2.tar.gz");
    assert.equal(
      (await verifyPack(second, { expectedPublicKey: TEST_KEY_B64, previous: second })).valid,
      false,
    );
    assert.equal(
      (await verifyPack(first, { expectedPublicKey: TEST_KEY_B64, previous: first })).valid,
      false,
    );
  });
});
