/**
 * Canonical JSON (docs/evidence-pack.md "manifest.json"): the exact bytes a signature covers, so two
 * writers and three verifiers must agree on them. Keys sorted by code point at every level, no
 * whitespace, integers only, strings escaped as JSON requires and nothing more (JSON.stringify's
 * string escaping is exactly that: `"`, `\` and control characters; `/` and non-ASCII stay as they are).
 */

/** Compares by Unicode code point (Python's `sorted`), not by UTF-16 unit (JS's default sort). */
export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length) {
    const x = a.codePointAt(i) ?? 0;
    const y = b.codePointAt(i) ?? 0;
    if (x !== y) return x - y;
    i += x > 0xffff ? 2 : 1; // equal so far, so both strings step alike
  }
  return (i < a.length ? 1 : 0) - (i < b.length ? 1 : 0);
}

/** The canonical text of `value`; throws TypeError on anything the format cannot hold. */
export function canonicalJson(value: unknown): string {
  return encode(value, "$");
}

function encode(value: unknown, path: string): string {
  if (value === null) return "null";
  switch (typeof value) {
    case "boolean":
      return value ? "true" : "false";
    case "number":
      if (!Number.isSafeInteger(value)) throw new TypeError(`${path}: ${value} is not a safe integer`);
      return String(value);
    case "string":
      if (!value.isWellFormed()) throw new TypeError(`${path}: string holds a lone surrogate`);
      return JSON.stringify(value);
    case "object":
      return Array.isArray(value) ? encodeArray(value, path) : encodeObject(value, path);
    default:
      throw new TypeError(`${path}: ${typeof value} has no JSON form`);
  }
}

function encodeArray(items: unknown[], path: string): string {
  const parts: string[] = [];
  for (let i = 0; i < items.length; i++) parts.push(encode(items[i], `${path}[${i}]`));
  return `[${parts.join(",")}]`;
}

function encodeObject(value: object, path: string): string {
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw new TypeError(`${path}: not a plain object`);
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record).sort(compareCodePoints);
  const parts = keys.map((key) => {
    if (!key.isWellFormed()) throw new TypeError(`${path}: key holds a lone surrogate`);
    return `${JSON.stringify(key)}:${encode(record[key], `${path}.${key}`)}`;
  });
  return `{${parts.join(",")}}`;
}
