export * from "./server.ts";
export * from "./fixtures.ts";
export { faults, HTML_PAGE } from "./faults.ts";
export { AUDIT_LOGGING_DISABLED_MESSAGE } from "./routes/audit-logs.ts";
export { isTenantScoped } from "./event-types.ts";
