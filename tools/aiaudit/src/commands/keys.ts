/**
 * aiaudit keys generate / keys show: the Ed25519 key pair that signs evidence packs
 * (docs/evidence-pack.md). The private key stays with the operator (a 0600 file, never printed);
 * the public key, or its key id, is what the customer hands an auditor for `aiaudit pack verify`
 * or tools/evidence-pack-verify.py.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
  generateKeyPair,
  keyId,
  keyPairFromPrivatePem,
  privateKeyPem,
  publicKeyFromText,
  publicKeyPem,
} from "@aiaudit/evidence-pack";
import { parseOptions, readInputFile, UsageError, type Command, type Io } from "../io.ts";

export const PRIVATE_KEY_FILE = "private-key.pem";
export const PUBLIC_KEY_FILE = "public-key.pem";

export const keysGenerate: Command = {
  path: ["keys", "generate"],
  summary: "a new Ed25519 key pair for signing evidence packs (private key 0600, never printed)",
  usage: `usage: aiaudit keys generate --out DIR
  --out DIR   the directory (created 0700 if missing) for ${PRIVATE_KEY_FILE} (PKCS#8 PEM, mode 0600,
              what openssl pkeyutl -sign -inkey reads) and ${PUBLIC_KEY_FILE} (SPKI PEM); refuses to
              overwrite either
prints the key id (sha256 of the raw public key) and the public key in base64, for auditors`,
  run: generate,
};

export const keysShow: Command = {
  path: ["keys", "show"],
  summary: "a signing key's public key as base64, hex and PEM, and its key id",
  usage: `usage: aiaudit keys show (--public-key FILE | --private-key FILE)
  --public-key FILE   a public key: PEM (SPKI), or base64 or hex of its 32 bytes
  --private-key FILE  a private key in PEM (PKCS#8): its public key is derived; the private key is never printed`,
  run: show,
};

function generate(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, { out: { type: "string" } });
  if (!values.out) throw new UsageError("--out is required: the directory for the key files");
  const privatePath = join(values.out, PRIVATE_KEY_FILE);
  const publicPath = join(values.out, PUBLIC_KEY_FILE);
  mkdirSync(values.out, { recursive: true, mode: 0o700 });
  for (const path of [privatePath, publicPath])
    if (existsSync(path)) throw new Error(`${path} exists: refusing to overwrite a key`);
  const pair = generateKeyPair();
  // `wx` refuses to overwrite even a file created since the check; the public key first, so no
  // private key is left without its public half.
  writeNew(publicPath, publicKeyPem(pair.publicKey), 0o644);
  writeNew(privatePath, privateKeyPem(pair.privateKey), 0o600);
  io.out(`private key: ${privatePath} (mode 0600: keep it secret, back it up)`);
  io.out(`public key:  ${publicPath}`);
  printPublic(io, pair.publicKey, false);
  return Promise.resolve(0);
}

function writeNew(path: string, text: string, mode: number): void {
  try {
    writeFileSync(path, text, { mode, flag: "wx" });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "EEXIST") throw new Error(`${path} exists: refusing to overwrite a key`, { cause: err });
    throw new Error(`cannot write ${path}: ${err instanceof Error ? err.message : String(err)}`, {
      cause: err,
    });
  }
}

function show(args: string[], io: Io): Promise<number> {
  const { values } = parseOptions(args, {
    "public-key": { type: "string" },
    "private-key": { type: "string" },
  });
  const publicFile = values["public-key"];
  const privateFile = values["private-key"];
  if ((publicFile === undefined) === (privateFile === undefined))
    throw new UsageError("give one of --public-key FILE or --private-key FILE");
  const publicKey =
    publicFile !== undefined
      ? publicKeyOf(readInputFile(publicFile, "public key"), publicFile)
      : keyPairFromPrivatePem(readInputFile(privateFile ?? "", "private key")).publicKey;
  printPublic(io, publicKey, true);
  return Promise.resolve(0);
}

function publicKeyOf(text: string, file: string): Uint8Array {
  try {
    return publicKeyFromText(text);
  } catch (err) {
    throw new Error(
      `${file} holds no usable public key: ${err instanceof Error ? err.message : String(err)}`,
      {
        cause: err,
      },
    );
  }
}

function printPublic(io: Io, publicKey: Uint8Array, all: boolean): void {
  io.out(`key id:      ${keyId(publicKey)}`);
  io.out(`base64:      ${Buffer.from(publicKey).toString("base64")}`);
  if (!all) return;
  io.out(`hex:         ${Buffer.from(publicKey).toString("hex")}`);
  io.out(publicKeyPem(publicKey).trimEnd());
}
