export { createClickHouse, isRowRejection, type ClickHouse, type ClickHouseSettings } from "./client.ts";
export { migrate, listMigrations, type Migration, type MigrationResult } from "./migrate.ts";
export {
  applyRetention,
  invalidTtlDays,
  ttlExpression,
  DEFAULT_TTL_DAYS,
  MIN_TTL_DAYS,
  RETENTION_COLUMNS,
  type RetentionResult,
} from "./retention.ts";
