/**
 * Test fixtures for evidence packs: fixed TEST keys, the golden packs' inputs, a seeded PRNG, and a
 * builder of hand-made (mostly broken) packs written with tar-stream directly, so every rejection
 * rule can be exercised with an otherwise valid, correctly signed manifest. The bad-pack catalogue is
 * shared by the rejection tests and the cross-verifier test.
 */
import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import * as tar from "tar-stream";
import {
  canonicalJson,
  keyId,
  keyPairFromSeed,
  sha256SumsText,
  sign,
  writePack,
  type KeyPair,
  type PackFile,
  type WritePackOptions,
} from "@aiaudit/evidence-pack";

export const PACKAGE_DIR = new URL("../", import.meta.url).pathname;
export const GOLDEN_DIR = new URL("./golden/", import.meta.url).pathname;

/** The golden packs' signing key: a TEST key, its seed published in test/golden/README.md. */
export const TEST_KEY: KeyPair = keyPairFromSeed(
  Buffer.from("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", "hex"),
);
/** Another TEST key, for "signed by someone else". */
export const OTHER_KEY: KeyPair = keyPairFromSeed(Buffer.alloc(32, 0xee));
export const TEST_KEY_B64 = Buffer.from(TEST_KEY.publicKey).toString("base64");

/** mulberry32: a small seeded PRNG, so random tests replay exactly. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const DAY = 86_400_000;

/** The fixed data files of golden pack `sequence` (1 or 2): Copilot-shaped, pseudonymized rows. */
export function goldenFiles(sequence: number): { name: string; text: string }[] {
  const day = `2025-0${sequence}-01`;
  const seat = (who: string, last: string | null): string =>
    `${canonicalJson({ assignee: who, last_activity_at: last, org: "acme", plan_type: "business", snapshot_at: `${day}T00:00:00.000Z` })}\n`;
  const event = (id: string, action: string, who: string): string =>
    `${canonicalJson({ action, actor: who, created_at: `${day}T12:00:00.000Z`, id, org: "acme" })}\n`;
  const alice = createHash("sha256").update("alice").digest("hex");
  const bob = createHash("sha256").update("bob").digest("hex");
  return [
    { name: "seats.jsonl", text: seat(alice, `${day}T09:30:00.000Z`) + seat(bob, null) },
    {
      name: "events.jsonl",
      text:
        event(`e${sequence}-1`, "copilot.cfb_seat_added", bob) +
        event(`e${sequence}-2`, "copilot.cfb_seat_cancelled", alice),
    },
    {
      name: "coverage.json",
      text: `${canonicalJson({ gaps: [], sources: { audit_log: { days: 31 }, seats: { days: 31 } } })}\n`,
    },
    { name: "kpis.json", text: `${canonicalJson({ active_seats: 1, idle_seats: 1, seats: 2 })}\n` },
    {
      name: "README.txt",
      text: "TEST evidence pack. Verify: python3 tools/evidence-pack-verify.py pack.tar.gz --expected-pubkey KEY\n",
    },
  ];
}

/** The inputs of golden pack `sequence`; pack 2 names pack 1 as its previous. */
export function goldenOptions(
  sequence: 1 | 2,
  previous: WritePackOptions["previous"],
  streamed = false,
): WritePackOptions {
  const start = Date.UTC(2025, sequence - 1, 1);
  const files: PackFile[] = goldenFiles(sequence).map(({ name, text }) => ({
    name,
    source: streamed ? chunked(text, 7) : Buffer.from(text, "utf8"),
  }));
  return {
    module: "copilot",
    packId: `golden-pack-${sequence}`,
    tenant: "tenant-test",
    orgs: ["acme"],
    sequence,
    periodStart: start,
    periodEnd: start + 31 * DAY - 1,
    files,
    privateKey: TEST_KEY.privateKey,
    previous,
    pseudonymization: { keyId: "0123456789abcdef" },
    producer: { name: "aiaudit", version: "0.1.0-test" },
  };
}

/** `text` as an async stream of `size`-character chunks. */
export async function* chunked(text: string, size: number): AsyncGenerator<string> {
  for (let i = 0; i < text.length; i += size) {
    await Promise.resolve();
    yield text.slice(i, i + size);
  }
}

/** One entry of a hand-made archive. */
export interface RawEntry {
  name: string;
  body?: Buffer;
  /** Stream this many zero bytes instead of a body (a huge entry, never held in memory). */
  zeros?: number;
  /** tar-stream can also write a pax header, which its types leave out. */
  type?: tar.Header["type"] | "pax-header";
  linkname?: string;
}

/** A gzip'd ustar archive of exactly these entries (header fields as the writer sets them). */
export async function tarGz(entries: readonly RawEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      chunks.push(chunk);
      callback();
    },
  });
  const done = pipeline(pack, createGzip({ level: 1 }), sink);
  for (const e of entries) {
    const header = {
      name: e.name,
      mode: 0o644,
      uid: 0,
      gid: 0,
      uname: "",
      gname: "",
      mtime: new Date(0),
      type: e.type ?? "file",
      size: e.zeros ?? e.body?.length ?? 0,
      ...(e.linkname === undefined ? {} : { linkname: e.linkname }),
    } as Parameters<tar.Pack["entry"]>[0];
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve());
      if (e.zeros === undefined) {
        if (e.type === "file" || e.type === undefined) pack.entry(header, e.body ?? Buffer.alloc(0), cb);
        else pack.entry(header, cb);
        return;
      }
      const entry = pack.entry(header, cb);
      const block = Buffer.alloc(64 * 1024);
      let left = e.zeros;
      const pump = (): void => {
        while (left > 0) {
          const n = Math.min(left, block.length);
          left -= n;
          if (!entry.write(block.subarray(0, n))) {
            entry.once("drain", pump);
            return;
          }
        }
        (entry as unknown as { end(): void }).end();
      };
      pump();
    });
  }
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** A small valid pack's logical content, to be assembled (and broken) by hand. */
export const BASE_FILES: ReadonlyMap<string, Buffer> = new Map([
  ["README.txt", Buffer.from("TEST pack\n")],
  ["coverage.json", Buffer.from('{"gaps":[]}\n')],
  ["kpis.json", Buffer.from('{"seats":3}\n')],
  ["events.jsonl", Buffer.from('{"id":"e1"}\n{"id":"e2"}\n')],
  ["seats.jsonl", Buffer.from('{"seat":1}\n{"seat":2}\n{"seat":3}\n')],
]);

export interface Parts {
  manifest: Record<string, unknown> & {
    files: { name: string; sha256: string; bytes: number; rows: number | null }[];
  };
  manifestBytes: Buffer;
  sig: Buffer;
  sums: Buffer;
  files: Map<string, Buffer>;
}

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

/**
 * A signed manifest over `files` (+ SHA256SUMS). `edit` changes the manifest before it is signed;
 * `sums` replaces the SHA256SUMS text (and its manifest entry follows it).
 */
export function makeParts(
  options: {
    files?: ReadonlyMap<string, Buffer>;
    signer?: KeyPair;
    listedKey?: KeyPair;
    sums?: (text: string) => string;
    edit?: (manifest: Parts["manifest"]) => void;
    serialize?: (manifest: unknown) => string;
  } = {},
): Parts {
  const files = new Map(options.files ?? BASE_FILES);
  const signer = options.signer ?? TEST_KEY;
  const listed = options.listedKey ?? signer;
  const dataEntries = [...files].map(([name, body]) => ({
    name,
    sha256: sha256(body),
    bytes: body.length,
    rows: name.endsWith(".jsonl") ? body.toString("utf8").split("\n").length - 1 : null,
  }));
  const sumsText = sha256SumsText(dataEntries);
  const sums = Buffer.from(options.sums ? options.sums(sumsText) : sumsText, "utf8");
  const fileEntries = [
    ...dataEntries,
    { name: "SHA256SUMS", sha256: sha256(sums), bytes: sums.length, rows: null },
  ].sort((a, b) => (a.name < b.name ? -1 : 1));
  const manifest: Parts["manifest"] = {
    schema_version: 2,
    module: "copilot",
    pack_id: "bad-pack",
    tenant: "tenant-test",
    orgs: ["acme"],
    sequence: 1,
    period_start: "2025-01-01T00:00:00.000Z",
    period_end: "2025-01-31T23:59:59.999Z",
    files: fileEntries,
    signing_key: {
      alg: "Ed25519",
      key_id: keyId(listed.publicKey),
      public_key: Buffer.from(listed.publicKey).toString("base64"),
    },
    previous: null,
    pseudonymization: { scheme: "HMAC-SHA256", key_id: "0123456789abcdef" },
    producer: { name: "aiaudit", version: "0.1.0-test" },
  };
  options.edit?.(manifest);
  const manifestBytes = Buffer.from((options.serialize ?? canonicalJson)(manifest), "utf8");
  const sig = Buffer.from(sign(manifestBytes, signer.privateKey));
  return { manifest, manifestBytes, sig, sums, files };
}

/** The entries of `parts` in the spec's order. */
export function entriesOf(parts: Parts): RawEntry[] {
  return [
    { name: "manifest.json", body: parts.manifestBytes },
    { name: "manifest.sig", body: parts.sig },
    { name: "SHA256SUMS", body: parts.sums },
    ...[...parts.files.keys()]
      .sort()
      .map((name) => ({ name, body: parts.files.get(name) ?? Buffer.alloc(0) })),
  ];
}

export interface BadPack {
  name: string;
  bytes: Buffer;
  /** What the verifier's reason must say. */
  reason: RegExp;
}

const flip = (b: Buffer, at: number): Buffer => {
  const copy = Buffer.from(b);
  copy[at] = (copy[at] ?? 0) ^ 0x01;
  return copy;
};

/** Replaces the entry called `name` (or inserts `extra` after it). */
function withEntry(
  entries: RawEntry[],
  name: string,
  replace: RawEntry | null,
  extra?: RawEntry,
): RawEntry[] {
  return entries.flatMap((e) =>
    e.name !== name ? [e] : [...(replace ? [replace] : [e]), ...(extra ? [extra] : [])],
  );
}

/** Every rejection case of docs/evidence-pack.md "Verifying", each an otherwise valid pack. */
export async function badPacks(): Promise<BadPack[]> {
  const parts = makeParts();
  const ok = entriesOf(parts);
  const readme = parts.files.get("README.txt") ?? Buffer.alloc(0);
  const cases: [string, RawEntry[] | Buffer, RegExp][] = [
    [
      "bad signature",
      withEntry(ok, "manifest.sig", { name: "manifest.sig", body: flip(parts.sig, 10) }),
      /manifest\.sig does not verify/,
    ],
    ["signed with another key", entriesOf(makeParts({ signer: OTHER_KEY })), /manifest\.sig does not verify/],
    [
      "pack's signing_key is another key",
      entriesOf(makeParts({ listedKey: OTHER_KEY })),
      /signing_key is not the expected/,
    ],
    ["missing file", ok.filter((e) => e.name !== "seats.jsonl"), /missing file seats\.jsonl/],
    ["extra file", [...ok, { name: "zzz.txt", body: Buffer.from("x") }], /unexpected entry "zzz\.txt"/],
    [
      "duplicate entry",
      withEntry(ok, "README.txt", null, { name: "README.txt", body: readme }),
      /duplicate entry "README\.txt"/,
    ],
    [
      "hash mismatch",
      withEntry(ok, "README.txt", { name: "README.txt", body: Buffer.from("TEST pacK\n") }),
      /README\.txt: sha256/,
    ],
    [
      "size mismatch",
      withEntry(ok, "README.txt", { name: "README.txt", body: Buffer.from("TEST pack!\n") }),
      /README\.txt is 11 bytes in the archive, 10/,
    ],
    [
      "row count mismatch",
      entriesOf(
        makeParts({
          edit: (m) => {
            const seats = m.files.find((f) => f.name === "seats.jsonl");
            if (seats) seats.rows = 4;
          },
        }),
      ),
      /seats\.jsonl has 3 lines, the manifest says 4/,
    ],
    [
      "SHA256SUMS wrong",
      entriesOf(makeParts({ sums: (t) => t.replace(/^[0-9a-f]/, (c) => (c === "0" ? "1" : "0")) })),
      /SHA256SUMS does not list/,
    ],
    [
      "symlink",
      withEntry(ok, "README.txt", { name: "README.txt", type: "symlink", linkname: "/etc/passwd" }),
      /"README\.txt" is a symbolic link/,
    ],
    [
      "device",
      withEntry(ok, "README.txt", { name: "README.txt", type: "character-device" }),
      /"README\.txt" is a character device/,
    ],
    [
      "name with ..",
      withEntry(ok, "SHA256SUMS", null, { name: "..", body: readme }),
      /entry name "\.\." is not a plain/,
    ],
    [
      "parent path",
      withEntry(ok, "SHA256SUMS", null, { name: "../README.txt", body: readme }),
      /"\.\.\/README\.txt" is not a plain/,
    ],
    [
      "absolute name",
      withEntry(ok, "SHA256SUMS", null, { name: "/etc/passwd", body: readme }),
      /"\/etc\/passwd" is not a plain/,
    ],
    [
      "name with a slash",
      withEntry(ok, "SHA256SUMS", null, { name: "a/b", body: readme }),
      /"a\/b" is not a plain/,
    ],
    ["truncated gzip", Buffer.alloc(0), /gzip|truncated|end/],
    [
      "entry far larger than the manifest says",
      await hugeEntry(),
      /README\.txt is 50000000 bytes in the archive, 10 in the manifest/,
    ],
    ["wrong entry order", swapLast(ok), /expected README\.txt next, found coverage\.json/],
    [
      "non-canonical manifest",
      entriesOf(makeParts({ serialize: (m) => JSON.stringify(m, null, 1) })),
      /not canonical JSON/,
    ],
    [
      "manifest.json not first",
      [...ok.slice(1, 2), ...ok.slice(0, 1), ...ok.slice(2)],
      /first entry must be manifest\.json/,
    ],
    ["2 MiB of zeros after the end of the archive", Buffer.alloc(0), /after the end/],
  ];
  const out: BadPack[] = [];
  for (const [name, entries, reason] of cases) {
    out.push({ name, bytes: Buffer.isBuffer(entries) ? entries : await tarGz(entries), reason });
  }
  const valid = await tarGz(ok);
  setBytes(out, "truncated gzip", valid.subarray(0, valid.length - 12));
  setBytes(out, "2 MiB of zeros after the end of the archive", await trailing(ok));
  return out;

  async function hugeEntry(): Promise<Buffer> {
    return tarGz(withEntry(ok, "README.txt", { name: "README.txt", zeros: 50_000_000 }));
  }
}

function setBytes(cases: BadPack[], name: string, bytes: Buffer): void {
  const found = cases.find((c) => c.name === name);
  if (found) found.bytes = bytes;
}

/** The valid entries, then (inside the gzip stream) 2 MiB of zeros after the end blocks: a small bomb. */
async function trailing(entries: RawEntry[]): Promise<Buffer> {
  const { gunzipSync, gzipSync } = await import("node:zlib");
  const tarBytes = gunzipSync(await tarGz(entries));
  return gzipSync(Buffer.concat([tarBytes, Buffer.alloc(2 * 1024 * 1024)]));
}

function swapLast(entries: RawEntry[]): RawEntry[] {
  const copy = [...entries];
  const a = copy[3];
  const b = copy[4];
  if (a && b) {
    copy[3] = b;
    copy[4] = a;
  }
  return copy;
}

/** writePack of golden pack 1's inputs with these contents (name → text). */
export async function packOf(files: { name: string; text: string }[], packId: string): Promise<Buffer> {
  const { bytes } = await writePack({
    ...goldenOptions(1, null),
    packId,
    files: files.map(({ name, text }) => ({ name, source: text })),
  });
  return bytes;
}
