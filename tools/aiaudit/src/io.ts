import type { Readable } from "node:stream";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { readTextFile, tenantId } from "@aiaudit/config";

/** What a command may touch of its process: passed in, so commands run in tests as they do in a shell. */
export interface Io {
  env: Readonly<Record<string, string | undefined>>;
  stdin: Readable;
  out(line: string): void;
  err(line: string): void;
}

/** One command of the aiaudit tool. */
export interface Command {
  /** The words that name it: ["connect", "copilot"]. */
  path: string[];
  /** One line for the overview. */
  summary: string;
  /** Synopsis, options and what it needs: shown by `--help` and after a usage error. */
  usage: string;
  run(args: string[], io: Io): Promise<number>;
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** A command line that cannot be run as given: exit 2 with the command's usage. */
export class UsageError extends Error {}

/** node:util parseArgs, strict, with its errors turned into usage errors. */
export function parseOptions<O extends NonNullable<ParseArgsConfig["options"]>>(
  args: string[],
  options: O,
  allowPositionals = false,
) {
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
}

/**
 * `--tenant` (or the argument `name`, e.g. `TENANT`), checked with the rule the services apply to
 * TENANT_ID.
 */
export function tenantOption(value: string | undefined, name = "--tenant"): string {
  if (value === undefined) throw new UsageError(`${name} is required: the tenant (customer) id`);
  const parsed = tenantId.safeParse(value);
  if (!parsed.success) {
    throw new UsageError(
      `${name} ${JSON.stringify(value)} is not a tenant id: ${parsed.error.issues[0]?.message ?? "malformed"}`,
    );
  }
  return parsed.data;
}

/** A free-text name option (`--display-name`, `--name`): trimmed, one line, not empty when given. */
export function nameOption(value: string | undefined, option: string, max = 200): string | null {
  if (value === undefined) return null;
  const name = value.trim();
  if (!name) throw new UsageError(`${option} is empty: leave it out for none`);
  if (/[\u0000-\u001f\u007f]/.test(name))
    throw new UsageError(`${option} holds a line break or control character`);
  if (name.length > max) throw new UsageError(`${option} is ${name.length} characters long: at most ${max}`);
  return name;
}

/** The content of a file named on the command line (a token, a key), trimmed. */
export function readInputFile(file: string, what: string): string {
  const read = readTextFile(file);
  if (!read.ok) throw new Error(`cannot read the ${what} file ${file}: ${read.why}`);
  return read.text.trim();
}

/**
 * An http(s) URL with a host and nothing a base URL cannot hold, checked before any request.
 * `secret` says where the credential goes instead of the URL; `example` what a good one looks like.
 */
export function baseUrlOption(value: string, secret: string, example: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    url = undefined;
  }
  const problem =
    url === undefined
      ? "is not a URL"
      : !["http:", "https:"].includes(url.protocol)
        ? `has the scheme ${url.protocol.slice(0, -1)}, not http or https`
        : url.username || url.password
          ? `holds credentials: ${secret}`
          : url.search || url.hash
            ? "has a query or fragment"
            : undefined;
  if (problem !== undefined) {
    const shown = url?.username || url?.password ? "(not repeated here)" : JSON.stringify(value);
    throw new UsageError(`--base-url ${shown} ${problem}: e.g. ${example}`);
  }
  return value.replace(/\/+$/, "");
}
