export { createPseudonymizer, normalizeIdentity, type Pseudonymizer } from "./pseudonym.ts";
export { CLEAR_FIELDS, pseudonymizeDeep, type PayloadKind } from "./payloads.ts";
export {
  createKeyring,
  deriveTenantKey,
  PSEUDONYM_HKDF_SALT,
  type Keyring,
  type PseudonymKeys,
} from "./keyring.ts";
export {
  sealSecret,
  sealContext,
  destinationSealContext,
  openSecret,
  keyId,
  type SealedSecret,
} from "./sealed-secret.ts";
export { uuidv7 } from "./ids.ts";
