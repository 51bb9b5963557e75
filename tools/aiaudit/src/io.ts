import type { Readable } from "node:stream";

/** What a command may touch of its process: passed in, so commands run in tests as they do in a shell. */
export interface Io {
  env: Readonly<Record<string, string | undefined>>;
  stdin: Readable;
  out(line: string): void;
  err(line: string): void;
}

export async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** A command line that cannot be run as given: exit 2 with the usage. */
export class UsageError extends Error {}
