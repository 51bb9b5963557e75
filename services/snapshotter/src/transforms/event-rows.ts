/** Pure mapping from decoded event records to ClickHouse rows: epoch-ms times become ISO strings. */

/** A row with `created_at` and `ingested_at` (epoch ms) as DateTime64 input. */
export function timestampRow(record: { created_at: number; ingested_at: number }): object {
  return {
    ...record,
    created_at: new Date(record.created_at).toISOString(),
    ingested_at: new Date(record.ingested_at).toISOString(),
  };
}
