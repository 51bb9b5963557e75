/**
 * Tenants and the bearer tokens of the HTTP APIs, kept on the compacted tenants topic like the
 * connections on theirs: `aiaudit tenants create` and `aiaudit tokens create|list|revoke` write
 * it, every service with an HTTP API follows it, so all of them see one set.
 */
export { createToken, tokenIdOf, tokenMatches, tokenSha256, type NewToken } from "./tokens.ts";
export { TenantDirectory, tenantKey, tokenKey, type Authentication } from "./directory.ts";
export { followTenants, type FollowedTenants } from "./follow.ts";
