/**
 * The manifest of an evidence pack (docs/evidence-pack.md, schema_version 2): its zod schema, which
 * both the writer (before signing) and the verifier (after the signature) hold a manifest to, and the
 * few format rules both sides share: plain entry names, the fixed entries, the SHA256SUMS text.
 */
import { z } from "zod";
import { compareCodePoints } from "./canonical-json.ts";

export const MANIFEST_NAME = "manifest.json";
export const SIGNATURE_NAME = "manifest.sig";
export const SUMS_NAME = "SHA256SUMS";
/** Upper bounds the verifier holds entries it must read whole to (the spec's size limits). */
export const MAX_MANIFEST_BYTES = 1024 * 1024;
export const SIGNATURE_BYTES = 64;
/** Not in the spec: SHA256SUMS has one 67-byte-plus-name line per file, so 1 MiB is ample. */
export const MAX_SUMS_BYTES = 1024 * 1024;

export const MODULES = ["copilot", "openai_admin"] as const;
export type PackModule = (typeof MODULES)[number];

/**
 * A name may stand at the top level of the archive: not empty or `.`, no `..` anywhere, no `/`, `\`
 * or control character (the spec says "without / or .."; the rest keeps every extractor on one
 * reading, and matches tools/evidence-pack-verify.py).
 */
export function isPlainName(name: string): boolean {
  return name !== "" && name !== "." && !name.includes("..") && !/[/\\\u0000-\u001f\u007f]/.test(name);
}

const HEX64 = /^[0-9a-f]{64}$/;
const RFC3339_MS_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

const instant = z
  .string()
  .regex(RFC3339_MS_UTC, "RFC 3339 UTC with milliseconds")
  .refine((s) => {
    const ms = Date.parse(s);
    return Number.isFinite(ms) && new Date(ms).toISOString() === s;
  }, "not a real instant");

const sortedStrictly = (names: readonly string[]): boolean =>
  names.every((name, i) => i === 0 || compareCodePoints(names[i - 1] ?? "", name) < 0);

const fileEntry = z.strictObject({
  name: z.string().refine(isPlainName, "not a plain file name"),
  sha256: z.string().regex(HEX64, "sha256 hex"),
  bytes: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER),
  rows: z.number().int().nonnegative().nullable(),
});

export const manifestSchema = z
  .strictObject({
    schema_version: z.literal(2),
    module: z.enum(MODULES),
    pack_id: z.string().min(1),
    tenant: z.string().min(1),
    orgs: z.array(z.string()).refine(sortedStrictly, "orgs must be sorted and distinct"),
    sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
    period_start: instant,
    period_end: instant,
    files: z
      .array(fileEntry)
      .refine((files) => sortedStrictly(files.map((f) => f.name)), "files must be sorted by name, once each"),
    signing_key: z.strictObject({
      alg: z.literal("Ed25519"),
      key_id: z.string().regex(HEX64, "sha256 hex"),
      public_key: z.string().regex(/^[A-Za-z0-9+/]{43}=$/, "base64 of 32 bytes"),
    }),
    previous: z
      .strictObject({
        pack_id: z.string().min(1),
        manifest_sha256: z.string().regex(HEX64, "sha256 hex"),
      })
      .nullable(),
    pseudonymization: z.strictObject({ scheme: z.literal("HMAC-SHA256"), key_id: z.string().min(1) }),
    producer: z.strictObject({ name: z.string().min(1), version: z.string().min(1) }),
  })
  .superRefine((m, ctx) => {
    const issue = (message: string): void => ctx.addIssue({ code: "custom", message });
    if (m.period_end < m.period_start) issue("period_end is before period_start");
    if ((m.sequence === 1) !== (m.previous === null)) issue("previous is null exactly when sequence is 1");
    // The signed manifest says which files the pack holds (what each module writes is the
    // packer's business, docs/evidence-pack.md "Layout"); they are sorted, unique, and include SHA256SUMS.
    const names = m.files.map((f) => f.name);
    const sorted = [...new Set(names)].sort(compareCodePoints);
    if (names.join("\n") !== sorted.join("\n")) issue("files are not sorted by name, or a name repeats");
    if (!names.includes(SUMS_NAME)) issue(`files do not list ${SUMS_NAME}`);
    if (names.includes(MANIFEST_NAME) || names.includes(SIGNATURE_NAME)) {
      issue(`files list ${MANIFEST_NAME} or ${SIGNATURE_NAME}`);
    }
    for (const f of m.files) {
      const jsonl = f.name.endsWith(".jsonl");
      if (jsonl !== (f.rows !== null)) issue(`${f.name}: rows is a line count for .jsonl, else null`);
    }
  });

export type Manifest = z.infer<typeof manifestSchema>;
export type ManifestFile = Manifest["files"][number];

/** `<sha256 hex>  <name>\n` for every file but SHA256SUMS itself, by name (`sha256sum -c` reads it). */
export function sha256SumsText(files: readonly Pick<ManifestFile, "name" | "sha256">[]): string {
  return [...files]
    .filter((f) => f.name !== SUMS_NAME)
    .sort((a, b) => compareCodePoints(a.name, b.name))
    .map((f) => `${f.sha256}  ${f.name}\n`)
    .join("");
}

/** The archive's entry order: manifest, signature, SHA256SUMS, then the other files by name. */
export function entryOrder(files: readonly Pick<ManifestFile, "name">[]): string[] {
  const rest = files.map((f) => f.name).filter((name) => name !== SUMS_NAME);
  return [MANIFEST_NAME, SIGNATURE_NAME, SUMS_NAME, ...rest];
}
