/** The shapes settings take (lists, keys, tenant ids, host:port), and reading a file a setting names. */
import { readFileSync } from "node:fs";
import { z } from "zod";

/**
 * The text of a file a setting names (a token, a keyring), or why it cannot be read in words a
 * person acts on ("no such file"), never a raw `ENOENT` with a stack.
 */
export function readTextFile(file: string): { ok: true; text: string } | { ok: false; why: string } {
  try {
    return { ok: true, text: readFileSync(file, "utf8") };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why: Record<string, string> = {
      ENOENT: "no such file",
      EACCES: "permission denied",
      EISDIR: "it is a directory",
      ENOTDIR: "a part of the path is not a directory",
    };
    return { ok: false, why: (code && why[code]) ?? (err instanceof Error ? err.message : String(err)) };
  }
}

/** A comma-separated list: `a,b, c` → ["a","b","c"]. */
export const csv = z.string().transform((s) =>
  s
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part.length > 0),
);

/** A 32-byte key given as 64 hex characters or base64. */
export const key32 = z.string().transform((value, ctx) => {
  const bytes = /^[0-9a-fA-F]{64}$/.test(value) ? Buffer.from(value, "hex") : Buffer.from(value, "base64");
  if (bytes.length !== 32) {
    ctx.addIssue({ code: "custom", message: "must be 32 bytes, as 64 hex characters or base64" });
    return z.NEVER;
  }
  return bytes;
});

/**
 * A tenant (customer) id: it goes into topic keys, transactional ids and consumer group names,
 * so the services and the `aiaudit` command accept exactly the same ones.
 */
export const tenantId = z
  .string()
  .regex(
    /^[a-z0-9][a-z0-9-]{0,62}$/,
    "1-63 lower-case letters, digits and dashes, starting with a letter or digit",
  );

/** `host:port` (a bracketed IPv6 address as host), port 1-65535. */
const HOST_PORT = /^(?:\[[0-9a-fA-F:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/;

/** A comma-separated list of `host:port`, at least one. */
export const hostPorts = csv.superRefine((entries, ctx) => {
  if (entries.length === 0) ctx.addIssue({ code: "custom", message: "no host:port in the list" });
  for (const entry of entries) {
    const port = HOST_PORT.exec(entry)?.[1];
    if (port === undefined || Number(port) < 1 || Number(port) > 65535)
      ctx.addIssue({ code: "custom", message: `"${entry}" is not host:port (port 1-65535)` });
  }
});
