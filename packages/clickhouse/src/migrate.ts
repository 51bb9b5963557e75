/**
 * Numbered migrations (docs/conventions.md §13): `schemas/clickhouse/NNN_name.sql`, applied in order,
 * each recorded with its checksum in `schema_migrations`. Running again applies only what is new;
 * a shipped migration whose text changed is refused (write a new one instead).
 *
 * Placeholders in the SQL: `{db}` the database, `{on_cluster}` ` ON CLUSTER <name>` or nothing,
 * `{replicated}` `Replicated` or nothing (prefix of a MergeTree engine name, so a cluster gets
 * replicated tables with the server's default replica path).
 * Statements are separated by a line that ends with `;`.
 */
import { createHash } from "node:crypto";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AiauditError, ErrorCodes, describeError } from "@aiaudit/errors";
import type { ClickHouse } from "./client.ts";

export const MIGRATIONS_DIR = fileURLToPath(new URL("../../../schemas/clickhouse/", import.meta.url));

export interface Migration {
  version: number;
  name: string;
  checksum: string;
  sql: string;
}

export interface MigrationResult {
  applied: string[];
  skipped: string[];
}

export function listMigrations(dir = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .filter((file) => file.endsWith(".sql"))
    .sort()
    .map((file) => {
      const match = /^(\d{3})_([a-z0-9_]+)\.sql$/.exec(file);
      if (!match) {
        throw new AiauditError(
          ErrorCodes.MIGRATION_FAILED,
          `migration file ${file} is not named NNN_name.sql`,
        );
      }
      const sql = readFileSync(join(dir, file), "utf8");
      return {
        version: Number(match[1]),
        name: match[2] ?? file,
        checksum: createHash("sha256").update(sql).digest("hex"),
        sql,
      };
    });
  migrations.forEach((m, i) => {
    if (m.version !== i + 1) {
      throw new AiauditError(
        ErrorCodes.MIGRATION_FAILED,
        `migration versions must run 1..n without gaps; found ${m.version} at position ${i + 1}`,
      );
    }
  });
  return migrations;
}

export function statements(sql: string, ch: Pick<ClickHouse, "database" | "cluster">): string[] {
  const rendered = sql
    .replaceAll("{db}", `\`${ch.database}\``)
    .replaceAll("{on_cluster}", ch.cluster ? ` ON CLUSTER \`${ch.cluster}\`` : "")
    .replaceAll("{replicated}", ch.cluster ? "Replicated" : "");
  return rendered
    .split(/;\s*$/m)
    .map((s) => s.replace(/^\s*--.*$/gm, "").trim())
    .filter((s) => s.length > 0);
}

export async function migrate(ch: ClickHouse, dir = MIGRATIONS_DIR): Promise<MigrationResult> {
  const migrations = listMigrations(dir);
  const onCluster = ch.cluster ? ` ON CLUSTER \`${ch.cluster}\`` : "";
  const engine = ch.cluster ? "ReplicatedReplacingMergeTree(applied_at)" : "ReplacingMergeTree(applied_at)";
  await ch.command(
    `CREATE TABLE IF NOT EXISTS ${ch.table("schema_migrations")}${onCluster}
     (version UInt32, name String, checksum String, applied_at DateTime64(3, 'UTC'))
     ENGINE = ${engine} ORDER BY version`,
  );
  const done = new Map(
    (
      await ch.rows<{ version: number; checksum: string }>(
        `SELECT version, argMax(checksum, applied_at) AS checksum FROM ${ch.table("schema_migrations")} GROUP BY version`,
      )
    ).map((row) => [row.version, row.checksum]),
  );
  const result: MigrationResult = { applied: [], skipped: [] };
  for (const m of migrations) {
    const label = `${String(m.version).padStart(3, "0")}_${m.name}`;
    const recorded = done.get(m.version);
    if (recorded !== undefined) {
      if (recorded !== m.checksum) {
        throw new AiauditError(
          ErrorCodes.MIGRATION_FAILED,
          `migration ${label} was changed after it was applied (checksum differs); add a new migration instead`,
        );
      }
      result.skipped.push(label);
      continue;
    }
    for (const statement of statements(m.sql, ch)) {
      try {
        await ch.client.command({ query: statement });
      } catch (cause) {
        throw new AiauditError(
          ErrorCodes.MIGRATION_FAILED,
          `migration ${label} failed: ${describeError(cause)}`,
          {
            cause,
          },
        );
      }
    }
    await ch.insert("schema_migrations", [
      { version: m.version, name: m.name, checksum: m.checksum, applied_at: new Date().toISOString() },
    ]);
    result.applied.push(label);
  }
  return result;
}
