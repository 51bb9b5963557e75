/** What a record becomes for the ClickHouse sinks: rows per table, or the reason it is poison. */

/** Rows of one record, by table; a table the record has no rows in is left out. */
export type TableRows = Partial<Record<string, object[]>>;

export type RowsResult = { ok: true; value: TableRows } | { ok: false; reason: string };

export const iso = (ms: number) => new Date(ms).toISOString();
export const isoOrNull = (ms: number | null) => (ms === null ? null : iso(ms));
