/**
 * Evidence packs, through the packer's API (docs/evidence-pack.md "The API"): the console passes
 * the caller's own bearer token on, so the packer decides, as it does for any client, which packs
 * the token may see. The console keeps no pack and no second copy of the rules.
 */
import type { Module } from "./tables.ts";

export interface PackerAnswer {
  status: number;
  /** The packer's JSON (a pack, a list, or an error with its message). */
  body: unknown;
}

export interface Packs {
  list(authorization: string, module: Module): Promise<PackerAnswer>;
  create(
    authorization: string,
    module: Module,
    period: { period_start: string; period_end: string },
  ): Promise<PackerAnswer>;
  /** The pack's bytes as the packer streams them, or its error. */
  download(authorization: string, module: Module, packId: string): Promise<Response>;
}

/** The packer did not answer: the console says so (502), it does not pretend the list is empty. */
export class PackerUnreachableError extends Error {}

export function packerClient(packerUrl: () => string, timeoutMs = 600_000): Packs {
  const url = (module: Module, rest = ""): string =>
    `${packerUrl().replace(/\/+$/, "")}/api/v1/${module}/evidence-packs${rest}`;
  async function call(target: string, init: RequestInit): Promise<Response> {
    try {
      return await fetch(target, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    } catch (err) {
      throw new PackerUnreachableError(
        `the packer at ${packerUrl()} did not answer: ${(err as Error).message}`,
        {
          cause: err,
        },
      );
    }
  }
  async function json(response: Response): Promise<PackerAnswer> {
    const text = await response.text();
    try {
      return { status: response.status, body: JSON.parse(text) as unknown };
    } catch {
      throw new PackerUnreachableError(`the packer answered ${response.status} without JSON`);
    }
  }
  return {
    list: async (authorization, module) => json(await call(url(module), { headers: { authorization } })),
    create: async (authorization, module, period) =>
      json(
        await call(url(module), {
          method: "POST",
          headers: { authorization, "content-type": "application/json" },
          body: JSON.stringify(period),
        }),
      ),
    download: (authorization, module, packId) =>
      call(url(module, `/${encodeURIComponent(packId)}/download`), { headers: { authorization } }),
  };
}
