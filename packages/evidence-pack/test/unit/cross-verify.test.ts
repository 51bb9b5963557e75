/**
 * The verifiers must agree (docs/design.md §5): for the golden packs and every bad-pack case, the
 * Python verifier's exit code (0 valid, 1 invalid) matches verifyPack's validity. The golden pack is
 * also checked the way docs/evidence-pack.md tells an auditor without Python: openssl + sha256sum.
 */
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { publicKeyPem, verifyPack } from "@aiaudit/evidence-pack";
import {
  GOLDEN_DIR,
  PACKAGE_DIR,
  TEST_KEY,
  TEST_KEY_B64,
  badPacks,
  goldenFiles,
  packOf,
} from "../helpers.ts";

const run = promisify(execFile);
const SCRIPT = join(PACKAGE_DIR, "../../tools/evidence-pack-verify.py");
const GOLDEN_1 = join(GOLDEN_DIR, "pack-1.tar.gz");
const GOLDEN_2 = join(GOLDEN_DIR, "pack-2.tar.gz");
const hasOpenssl = spawnSync("openssl", ["version"]).status === 0;
const cases = await badPacks();

/** The Python verifier's exit code for `pack`. */
async function pythonExit(pack: string, previous?: string): Promise<number> {
  const args = [
    SCRIPT,
    pack,
    "--expected-pubkey",
    TEST_KEY_B64,
    ...(previous ? ["--previous", previous] : []),
  ];
  try {
    await run("python3", args);
    return 0;
  } catch (err) {
    return (err as { code?: number }).code ?? -1;
  }
}

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), "evidence-pack-cross-"));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("TypeScript and Python verifiers agree", { concurrency: 8 }, () => {
  it("tools/evidence-pack-verify.py exists", () => assert.ok(existsSync(SCRIPT), `${SCRIPT} is missing`));

  const golden: [string, string, string | undefined, boolean][] = [
    ["golden pack 1", GOLDEN_1, undefined, true],
    ["golden pack 2 with pack 1 before it", GOLDEN_2, GOLDEN_1, true],
    ["golden pack 2 with itself before it", GOLDEN_2, GOLDEN_2, false],
  ];
  for (const [name, pack, previous, valid] of golden) {
    it(name, async () => {
      const ts = await verifyPack(pack, { expectedPublicKey: TEST_KEY.publicKey, previous });
      assert.equal(ts.valid, valid);
      assert.equal(await pythonExit(pack, previous), valid ? 0 : 1);
    });
  }
  it("golden pack 2 with a replaced pack 1 before it", async () => {
    const files = goldenFiles(1).map((f) => (f.name === "README.txt" ? { ...f, text: "rewritten\n" } : f));
    const replaced = { bytes: await packOf(files, "golden-pack-1") };
    const path = join(dir, "replaced-pack-1.tar.gz");
    await writeFile(path, replaced.bytes);
    assert.equal(
      (await verifyPack(GOLDEN_2, { expectedPublicKey: TEST_KEY.publicKey, previous: path })).valid,
      false,
    );
    assert.equal(await pythonExit(GOLDEN_2, path), 1);
  });

  for (const bad of cases) {
    it(`bad pack: ${bad.name}`, async () => {
      const path = join(dir, `${bad.name.replace(/[^a-z0-9]+/gi, "-")}.tar.gz`);
      await writeFile(path, bad.bytes);
      const ts = await verifyPack(path, { expectedPublicKey: TEST_KEY.publicKey });
      assert.equal(ts.valid, false);
      assert.equal(await pythonExit(path), 1);
    });
  }
});

describe(
  "openssl + sha256sum, as docs/evidence-pack.md tells an auditor",
  { skip: hasOpenssl ? false : "openssl is not on PATH" },
  () => {
    async function extract(pack: Buffer, name: string): Promise<string> {
      const to = join(dir, name);
      await mkdir(to);
      const archive = join(dir, `${name}.tar.gz`);
      await writeFile(archive, pack);
      assert.equal(spawnSync("tar", ["-xzf", archive, "-C", to]).status, 0);
      await writeFile(join(to, "..", `${name}.pem`), publicKeyPem(TEST_KEY.publicKey));
      return to;
    }
    const opensslVerify = (cwd: string, pem: string) =>
      spawnSync(
        "openssl",
        [
          "pkeyutl",
          "-verify",
          "-pubin",
          "-inkey",
          pem,
          "-rawin",
          "-in",
          "manifest.json",
          "-sigfile",
          "manifest.sig",
        ],
        { cwd },
      );

    it("verify the golden pack", async () => {
      const to = await extract(await readFile(GOLDEN_2), "golden-2");
      assert.equal(opensslVerify(to, join(dir, "golden-2.pem")).status, 0);
      assert.equal(spawnSync("sha256sum", ["-c", "SHA256SUMS"], { cwd: to }).status, 0);
    });
    it("reject a flipped signature byte", async () => {
      const to = await extract(await readFile(GOLDEN_1), "flipped-sig");
      const sig = await readFile(join(to, "manifest.sig"));
      sig[5] = (sig[5] ?? 0) ^ 0x01;
      await writeFile(join(to, "manifest.sig"), sig);
      assert.notEqual(opensslVerify(to, join(dir, "flipped-sig.pem")).status, 0);
    });
  },
);
