export * from "./server.ts";
export * from "./fixtures.ts";
export { faults, SECONDARY_RATE_LIMIT_MESSAGE, RESOURCE_NOT_ACCESSIBLE } from "./faults.ts";
export { encodeCursor, decodeCursor, createdRange, parsePhrase } from "./query.ts";
