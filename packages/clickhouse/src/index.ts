export { createClickHouse, isRowRejection, type ClickHouse, type ClickHouseSettings } from "./client.ts";
export { migrate, listMigrations, type Migration, type MigrationResult } from "./migrate.ts";
