/**
 * Issue 8: `aiaudit keys generate`, `keys show` and `pack verify`. A key generated here signs a pack
 * that `aiaudit pack verify` and tools/evidence-pack-verify.py both accept, with the printed base64
 * key and with the PEM file; the golden packs verify with the TEST key of their README; exit codes
 * are the Python verifier's (0 valid, 1 invalid, 2 unusable).
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, createPrivateKey } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { describe, it } from "node:test";
import { runCli } from "@aiaudit/cli";
import { isPublicKey } from "@aiaudit/evidence-pack";
import { keyId, parsePublicKey, verify, writePack, type WritePackOptions } from "@aiaudit/evidence-pack";

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: {},
    stdin: Readable.from([]),
    out: (l) => out.push(l),
    err: (l) => err.push(l),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const repo = (path: string) => fileURLToPath(new URL(`../../../../${path}`, import.meta.url));
const PYTHON_VERIFIER = repo("tools/evidence-pack-verify.py");
const GOLDEN_1 = repo("packages/evidence-pack/test/golden/pack-1.tar.gz");
const GOLDEN_2 = repo("packages/evidence-pack/test/golden/pack-2.tar.gz");
/** The golden packs' TEST key, from packages/evidence-pack/test/golden/README.md. */
const GOLDEN_KEY = "A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=";
const GOLDEN_KEY_ID = "56475aa75463474c0285df5dbf2bcab73da651358839e9b77481b2eab107708c";

function python(args: string[]) {
  const r = spawnSync("python3", [PYTHON_VERIFIER, ...args], { encoding: "utf8" });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const tempDir = () => mkdtempSync(join(tmpdir(), "aiaudit-keys-"));
const field = (out: string, label: string): string => {
  const value = new RegExp(`^${label}:\\s+(\\S+)$`, "m").exec(out)?.[1];
  assert.ok(value, `no ${label} in\n${out}`);
  return value;
};

/** `keys generate` into a new directory: its paths and what it printed. */
async function generated() {
  const dir = join(tempDir(), "keys");
  const r = await cli(["keys", "generate", "--out", dir]);
  assert.equal(r.code, 0, r.err);
  return {
    dir,
    out: r.out,
    privatePath: join(dir, "private-key.pem"),
    publicPath: join(dir, "public-key.pem"),
    keyId: field(r.out, "key id"),
    base64: field(r.out, "base64"),
  };
}

/** The seed in a PKCS#8 PEM, read by node:crypto (not by the code under test). */
function seedOf(pemFile: string): Buffer {
  const d = createPrivateKey(readFileSync(pemFile, "utf8")).export({ format: "jwk" }).d;
  assert.ok(d);
  return Buffer.from(d, "base64url");
}

async function packSignedWith(privateKey: Uint8Array, dir: string): Promise<string> {
  const options: WritePackOptions = {
    module: "copilot",
    packId: "cli-pack-1",
    tenant: "tenant-test",
    orgs: ["acme"],
    sequence: 1,
    periodStart: Date.UTC(2025, 0, 1),
    periodEnd: Date.UTC(2025, 1, 1) - 1,
    files: [
      { name: "README.txt", source: "TEST pack\n" },
      { name: "seats.jsonl", source: '{"seat":1}\n{"seat":2}\n' },
    ],
    privateKey,
    previous: null,
    pseudonymization: { keyId: "0123456789abcdef" },
    producer: { name: "aiaudit", version: "0.1.0-test" },
  };
  const { bytes } = await writePack(options);
  const path = join(dir, "pack-1.tar.gz");
  writeFileSync(path, bytes);
  return path;
}

describe("aiaudit keys generate", () => {
  it("writes a 0600 PKCS#8 private key and a PEM public key, prints the id and base64, never the private key", async () => {
    const g = await generated();
    assert.ok(existsSync(g.privatePath) && existsSync(g.publicPath));
    assert.equal(statSync(g.privatePath).mode & 0o777, 0o600);
    const privatePem = readFileSync(g.privatePath, "utf8");
    assert.match(privatePem, /^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=]+\n-----END PRIVATE KEY-----\n$/);
    const publicKey = parsePublicKey(readFileSync(g.publicPath, "utf8"));
    assert.equal(g.base64, Buffer.from(publicKey).toString("base64"));
    assert.equal(g.keyId, keyId(publicKey));
    const seed = seedOf(g.privatePath);
    for (const secret of [seed.toString("hex"), seed.toString("base64"), privatePem.split("\n")[1] ?? "?"])
      assert.ok(!g.out.includes(secret), "the private key must never be printed");
  });
  it("refuses to overwrite an existing key, leaving both files as they were", async () => {
    const g = await generated();
    const before = [readFileSync(g.privatePath), readFileSync(g.publicPath)];
    const r = await cli(["keys", "generate", "--out", g.dir]);
    assert.equal(r.code, 1);
    assert.match(r.err, /private-key\.pem exists: refusing to overwrite a key/);
    assert.deepEqual([readFileSync(g.privatePath), readFileSync(g.publicPath)], before);
  });
  it("without --out: usage error, exit 2", async () => {
    const r = await cli(["keys", "generate"]);
    assert.equal(r.code, 2);
    assert.match(r.err, /--out is required[\s\S]*usage: aiaudit keys generate --out DIR/);
  });
  it("the private key signs with openssl pkeyutl, and the signature verifies with the public key", async (t) => {
    if (spawnSync("openssl", ["version"]).status !== 0) {
      t.diagnostic("openssl is not installed: the openssl signing check did not run");
      return;
    }
    const g = await generated();
    const message = join(g.dir, "message");
    const signature = join(g.dir, "message.sig");
    writeFileSync(message, "a manifest, say\n");
    const signed = spawnSync(
      "openssl",
      ["pkeyutl", "-sign", "-inkey", g.privatePath, "-rawin", "-in", message, "-out", signature],
      { encoding: "utf8" },
    );
    assert.equal(signed.status, 0, signed.stderr);
    const ok = verify(readFileSync(signature), readFileSync(message), parsePublicKey(g.base64));
    assert.equal(ok, true);
  });
});

describe("aiaudit keys show", () => {
  it("--public-key and --private-key print the id generate printed, and base64, hex and PEM", async () => {
    const g = await generated();
    const hex = Buffer.from(g.base64, "base64").toString("hex");
    for (const option of ["--public-key", "--private-key"]) {
      const r = await cli(["keys", "show", option, option === "--public-key" ? g.publicPath : g.privatePath]);
      assert.equal(r.code, 0, r.err);
      assert.equal(field(r.out, "key id"), g.keyId);
      assert.equal(field(r.out, "base64"), g.base64);
      assert.equal(field(r.out, "hex"), hex);
      assert.ok(r.out.includes(readFileSync(g.publicPath, "utf8").trimEnd()), r.out);
      assert.doesNotMatch(r.out, /PRIVATE KEY/);
    }
  });
  it("a public key file holding base64 gives the golden key id", async () => {
    const file = join(tempDir(), "golden.pub");
    writeFileSync(file, `${GOLDEN_KEY}\n`);
    const r = await cli(["keys", "show", "--public-key", file]);
    assert.equal(r.code, 0, r.err);
    assert.equal(field(r.out, "key id"), GOLDEN_KEY_ID);
  });
  it("neither or both options: usage error; a file without a key: exit 1 naming it", async () => {
    assert.equal((await cli(["keys", "show"])).code, 2);
    assert.equal((await cli(["keys", "show", "--public-key", "a", "--private-key", "b"])).code, 2);
    const file = join(tempDir(), "junk.pem");
    writeFileSync(file, "not a key\n");
    const r = await cli(["keys", "show", "--private-key", file]);
    assert.equal(r.code, 1);
    assert.match(r.err, /not an unencrypted Ed25519 private key/);
    const p = await cli(["keys", "show", "--public-key", file]);
    assert.equal(p.code, 1);
    assert.match(p.err, /junk\.pem holds no usable public key/);
  });
});

describe("aiaudit pack verify", () => {
  it("a pack signed with a generated key verifies here and with the Python verifier, by base64 and by PEM file", async () => {
    const g = await generated();
    const pack = await packSignedWith(seedOf(g.privatePath), g.dir);
    for (const key of [g.base64, g.publicPath]) {
      const r = await cli(["pack", "verify", pack, "--expected-pubkey", key]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.equal(r.out, "valid: cli-pack-1 sequence 1, 3 files");
      const py = python([pack, "--expected-pubkey", key]);
      assert.equal(py.code, 0, py.out + py.err);
      assert.equal(py.out.trim(), r.out);
    }
  });
  it("golden pack 1 verifies with the key of its README, in base64, URL-safe base64 or hex", async () => {
    const raw = Buffer.from(GOLDEN_KEY, "base64");
    for (const key of [GOLDEN_KEY, raw.toString("base64url"), raw.toString("hex")]) {
      const r = await cli(["pack", "verify", GOLDEN_1, "--expected-pubkey", key]);
      assert.equal(r.code, 0, r.out + r.err);
      assert.match(r.out, /^valid: golden-pack-1 sequence 1, \d+ files$/);
    }
  });
  it("--previous: golden pack 2 chained to pack 1 verifies; the wrong way round it does not", async () => {
    const r = await cli([
      "pack",
      "verify",
      GOLDEN_2,
      "--expected-pubkey",
      GOLDEN_KEY,
      "--previous",
      GOLDEN_1,
    ]);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /^valid: golden-pack-2 sequence 2/);
    const swapped = await cli([
      "pack",
      "verify",
      GOLDEN_1,
      "--expected-pubkey",
      GOLDEN_KEY,
      "--previous",
      GOLDEN_2,
    ]);
    assert.equal(swapped.code, 1);
    assert.match(swapped.out, /^invalid: /);
  });
  it("--json prints the Python verifier's object, valid or not", async () => {
    const ok = await cli(["pack", "verify", GOLDEN_1, "--expected-pubkey", GOLDEN_KEY, "--json"]);
    const py = python([GOLDEN_1, "--expected-pubkey", GOLDEN_KEY, "--json"]);
    assert.equal(ok.code, 0);
    assert.deepEqual(JSON.parse(ok.out), JSON.parse(py.out));
    const g = await generated();
    const bad = await cli(["pack", "verify", GOLDEN_1, "--expected-pubkey", g.base64, "--json"]);
    const pyBad = python([GOLDEN_1, "--expected-pubkey", g.base64, "--json"]);
    assert.equal(bad.code, 1);
    const [mine, theirs] = [JSON.parse(bad.out) as object, JSON.parse(pyBad.out) as object];
    assert.deepEqual(Object.keys(mine), Object.keys(theirs));
    assert.deepEqual({ ...mine, reason: "" }, { ...theirs, reason: "" });
  });
  it("a wrong key: invalid, exit 1, as in Python", async () => {
    const g = await generated();
    const r = await cli(["pack", "verify", GOLDEN_1, "--expected-pubkey", g.base64]);
    assert.equal(r.code, 1);
    assert.match(r.out, /^invalid: manifest\.sig does not verify/);
    assert.equal(python([GOLDEN_1, "--expected-pubkey", g.base64]).code, 1);
  });
  it("a missing pack or previous pack: unusable, exit 2, naming the file", async () => {
    const missing = join(tempDir(), "pack-9.tar.gz");
    const r = await cli(["pack", "verify", missing, "--expected-pubkey", GOLDEN_KEY]);
    assert.equal(r.code, 2);
    assert.match(r.err, /cannot read .*pack-9\.tar\.gz: no such file/);
    assert.equal(r.out, "");
    assert.equal(python([missing, "--expected-pubkey", GOLDEN_KEY]).code, 2);
    const prev = await cli([
      "pack",
      "verify",
      GOLDEN_2,
      "--expected-pubkey",
      GOLDEN_KEY,
      "--previous",
      missing,
    ]);
    assert.equal(prev.code, 2);
    const json = await cli(["pack", "verify", missing, "--expected-pubkey", GOLDEN_KEY, "--json"]);
    assert.equal(json.code, 2);
    assert.deepEqual(
      { ...(JSON.parse(json.out) as object), reason: "" },
      { valid: false, reason: "", pack_id: null, sequence: null, files: null },
    );
  });
  // 32 bytes encoding y = 2 are not a point of the curve: an unusable key, not a failed signature.
  const notAPoint = Buffer.concat([Buffer.from([2]), Buffer.alloc(31)]).toString("base64");
  for (const key of ["not-a-key", "AAAA", "ab".repeat(31), notAPoint])
    it(`an unparseable key ${JSON.stringify(key.slice(0, 12))}…: exit 2, as in Python`, async () => {
      const r = await cli(["pack", "verify", GOLDEN_1, "--expected-pubkey", key]);
      assert.equal(r.code, 2, r.out + r.err);
      assert.match(r.err, /--expected-pubkey is unusable/);
      assert.equal(python([GOLDEN_1, "--expected-pubkey", key]).code, 2);
    });
  it("an unparseable PEM key file: exit 2", async () => {
    const file = join(tempDir(), "key.pem");
    writeFileSync(file, "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n");
    assert.equal((await cli(["pack", "verify", GOLDEN_1, "--expected-pubkey", file])).code, 2);
    assert.equal(python([GOLDEN_1, "--expected-pubkey", file]).code, 2);
  });
  it("bad arguments: exit 2 with the usage", async () => {
    for (const args of [
      [GOLDEN_1],
      ["--expected-pubkey", GOLDEN_KEY],
      [GOLDEN_1, GOLDEN_2, "--expected-pubkey", GOLDEN_KEY],
    ]) {
      const r = await cli(["pack", "verify", ...args]);
      assert.equal(r.code, 2);
      assert.match(r.err, /usage: aiaudit pack verify PACK --expected-pubkey KEY/);
    }
  });
});

describe("isPublicKey", () => {
  it("agrees with the Python verifier's point decoding on 256 keys", () => {
    // Half are hashes (about half of them points), half are small y values with either sign bit.
    const keys = Array.from({ length: 256 }, (_, i) => {
      if (i < 128) return createHash("sha256").update(`key ${i}`).digest();
      const key = Buffer.alloc(32);
      key[0] = i - 128;
      if (i % 2) key[31] = 0x80;
      return key;
    });
    const script = [
      "import importlib.util, sys",
      "spec = importlib.util.spec_from_file_location('v', sys.argv[1])",
      "v = importlib.util.module_from_spec(spec); spec.loader.exec_module(v)",
      "print(''.join('1' if v.point_decompress(bytes.fromhex(k)) else '0' for k in sys.stdin.read().split()))",
    ].join("\n");
    const r = spawnSync("python3", ["-c", script, PYTHON_VERIFIER], {
      input: keys.map((k) => k.toString("hex")).join("\n"),
      encoding: "utf8",
    });
    assert.equal(r.status, 0, r.stderr);
    const python = r.stdout.trim();
    const mine = keys.map((k) => (isPublicKey(k) ? "1" : "0")).join("");
    assert.equal(mine, python);
    assert.match(mine, /0/);
    assert.match(mine, /1/);
  });
});

describe("--help", () => {
  for (const command of [
    ["keys", "generate"],
    ["keys", "show"],
    ["pack", "verify"],
  ])
    it(`${command.join(" ")} --help prints its usage`, async () => {
      const r = await cli([...command, "--help"]);
      assert.equal(r.code, 0);
      assert.match(r.out, new RegExp(`^usage: aiaudit ${command.join(" ")} `));
    });
});
