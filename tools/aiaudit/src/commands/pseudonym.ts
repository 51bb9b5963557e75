/**
 * aiaudit pseudonym: the customer's HR computes the same keyed pseudonym the pipeline stores, to
 * find a person's records (docs/design.md §6). The key comes from a file or PSEUDONYM_KEY.
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { key32, parseEnv } from "@aiaudit/config";
import { createPseudonymizer } from "@aiaudit/crypto";
import { UsageError, type Io } from "../io.ts";

export function pseudonym(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { "key-file": { type: "string" } },
    allowPositionals: true,
    strict: true,
  });
  if (positionals.length === 0) throw new UsageError("give at least one login or email");
  const env = values["key-file"]
    ? { PSEUDONYM_KEY: readFileSync(values["key-file"], "utf8").trim() }
    : { PSEUDONYM_KEY: io.env.PSEUDONYM_KEY };
  const { PSEUDONYM_KEY } = parseEnv(
    z.object({ PSEUDONYM_KEY: key32.describe("the tenant's pseudonym key, or --key-file") }),
    env,
  );
  const p = createPseudonymizer(PSEUDONYM_KEY);
  for (const identity of positionals) io.out(`${p.pseudonym(identity)}  ${identity}  (key ${p.keyId})`);
  return Promise.resolve(0);
}
