export { createPseudonymizer, normalizeIdentity, pseudonymizeDeep, type Pseudonymizer } from "./pseudonym.ts";
export { sealSecret, openSecret, keyId, type SealedSecret } from "./sealed-secret.ts";
export { uuidv7 } from "./ids.ts";
