/**
 * @aiaudit/evidence-pack: writes and verifies signed, deterministic evidence packs
 * (docs/evidence-pack.md). The packer service writes them; the aiaudit CLI and the tests verify them,
 * and agree with tools/evidence-pack-verify.py and with openssl + sha256sum.
 */
export { canonicalJson, compareCodePoints } from "./canonical-json.ts";
export {
  generateKeyPair,
  keyId,
  keyPairFromSeed,
  isPublicKey,
  parsePublicKey,
  publicKeyPem,
  sign,
  verify,
  type KeyPair,
} from "./signing.ts";
export { keyPairFromPrivatePem, privateKeyPem, publicKeyFromText, readPrivateKeyFile } from "./pem.ts";
export {
  MANIFEST_NAME,
  MAX_MANIFEST_BYTES,
  MODULES,
  SIGNATURE_NAME,
  SUMS_NAME,
  manifestSchema,
  sha256SumsText,
  type Manifest,
  type ManifestFile,
  type PackModule,
} from "./manifest.ts";
export { writePack, writePackFile, type PackFile, type WritePackOptions, type WrittenPack } from "./write.ts";
export { verifyPack, type PackInput, type VerifyOptions, type VerifyResult } from "./verify.ts";
