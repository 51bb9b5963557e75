/**
 * What a module puts into its pack, apart from the README: the data files (streamed out of
 * ClickHouse while the pack is written), coverage.json and kpis.json (small, computed first), the
 * orgs the pack covers and the pseudonym key ids its rows were written with.
 */
import { canonicalJson, type PackFile } from "@aiaudit/evidence-pack";

export interface ModuleContent {
  orgs: string[];
  /** Sorted, distinct `pseudonym_key_id`s of the period's rows. */
  pseudonymKeyIds: string[];
  files: PackFile[];
}

/** A small JSON file of the pack: canonical, with a final newline. */
export function jsonFile(name: string, value: unknown): PackFile {
  return { name, source: `${canonicalJson(value)}\n` };
}

/** `numerator / denominator` with two decimals, as text (the pack's JSON holds integers only). */
export function decimal(numerator: number, denominator: number): string | null {
  if (denominator === 0) return null;
  return (Math.round((numerator * 100) / denominator) / 100).toFixed(2);
}
