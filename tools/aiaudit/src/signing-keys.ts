/**
 * `--expected-pubkey KEY` as tools/evidence-pack-verify.py reads it: the path of an existing file,
 * else the key itself. The key formats (base64, hex, PEM) and the PKCS#8 private key files are
 * @aiaudit/evidence-pack's (src/pem.ts), which the packer shares; only this argument rule is the CLI's.
 */
import { statSync } from "node:fs";
import { readTextFile } from "@aiaudit/config";
import { publicKeyFromText } from "@aiaudit/evidence-pack";

/**
 * `--expected-pubkey KEY` as tools/evidence-pack-verify.py reads it: the path of an existing file
 * (PEM, or base64 / hex text), else the key itself. Throws an Error saying why it is unusable.
 */
export function expectedPublicKey(argument: string): Uint8Array {
  let text = argument;
  if (isFile(argument)) {
    const read = readTextFile(argument);
    if (!read.ok) throw new Error(`cannot read the key file ${argument}: ${read.why}`);
    text = read.text;
  }
  try {
    return publicKeyFromText(text);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`--expected-pubkey is unusable: ${why}`, { cause: err });
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}
