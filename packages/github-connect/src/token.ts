/** GitHub's `2026-12-01 10:00:00 UTC` (sometimes with a numeric offset) as epoch ms. */
export function parseTokenExpiration(value: string): number {
  return Date.parse(
    value
      .replace(" UTC", "Z")
      .replace(" ", "T")
      .replace(/ ([+-]\d{4})$/, "$1"),
  );
}
