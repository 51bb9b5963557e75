/**
 * aiaudit pack verify: checks an evidence pack against the key the customer handed over, with
 * @aiaudit/evidence-pack's verifyPack. It behaves as tools/evidence-pack-verify.py does (same
 * arguments, output lines, `--json` object and exit codes), so an auditor may use either:
 * 0 valid, 1 invalid (the reason on stdout), 2 unusable input (a file that cannot be read, a key
 * that cannot be parsed, wrong arguments).
 */
import { verifyPack, type VerifyResult } from "@aiaudit/evidence-pack";
import { parseOptions, UsageError, type Command, type Io } from "../io.ts";
import { expectedPublicKey } from "../signing-keys.ts";

export const packVerify: Command = {
  path: ["pack", "verify"],
  summary: "verify an evidence pack (and its link to the previous one) against the expected public key",
  usage: `usage: aiaudit pack verify PACK --expected-pubkey KEY [--previous PREVIOUS_PACK] [--json]
  PACK                    the pack, pack-<sequence>.tar.gz
  --expected-pubkey KEY   the customer's Ed25519 public key: base64 or hex of its 32 bytes, or a PEM file
                          (never the key inside the pack)
  --previous PACK         the previous pack, to check the hash chain
  --json                  print one JSON object {valid, reason, pack_id, sequence, files} instead of a line
exit 0 valid, 1 invalid (the reason is printed), 2 unusable input; as tools/evidence-pack-verify.py`,
  run,
};

/** The `--json` object of tools/evidence-pack-verify.py. */
interface Report {
  valid: boolean;
  reason: string | null;
  pack_id: string | null;
  sequence: number | null;
  files: number | null;
}

async function run(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseOptions(
    args,
    {
      "expected-pubkey": { type: "string" },
      previous: { type: "string" },
      json: { type: "boolean", default: false },
    },
    true,
  );
  const [pack, ...extra] = positionals;
  if (pack === undefined) throw new UsageError("give the pack to verify");
  if (extra.length > 0) throw new UsageError(`one pack at a time: ${extra.join(" ")} is one too many`);
  const key = values["expected-pubkey"];
  if (key === undefined) throw new UsageError("--expected-pubkey is required: the customer's public key");

  let result: VerifyResult;
  try {
    result = await verifyPack(pack, { expectedPublicKey: expectedPublicKey(key), previous: values.previous });
  } catch (err) {
    // Anything but a verdict (a file that cannot be read, a verifier bug) must never look like one.
    const why = unusable(err);
    io.err(`aiaudit pack verify: ${why}`);
    if (values.json) report(io, { valid: false, reason: `unusable input: ${why}`, ...NO_PACK });
    return 2;
  }
  if (!result.valid) {
    if (values.json) report(io, { valid: false, reason: result.reason, ...NO_PACK });
    else io.out(`invalid: ${result.reason}`);
    return 1;
  }
  const { pack_id, sequence, files } = result.manifest;
  if (values.json) report(io, { valid: true, reason: null, pack_id, sequence, files: files.length });
  else io.out(`valid: ${pack_id} sequence ${sequence}, ${files.length} files`);
  return 0;
}

const NO_PACK = { pack_id: null, sequence: null, files: null };

function report(io: Io, value: Report): void {
  io.out(JSON.stringify(value));
}

const FS_WHY: Record<string, string> = {
  ENOENT: "no such file",
  EACCES: "permission denied",
  EISDIR: "it is a directory",
  ENOTDIR: "a part of the path is not a directory",
};

/** Why the input is unusable, in words: "cannot read pack-7.tar.gz: no such file". */
function unusable(err: unknown): string {
  const { code, path } = err as NodeJS.ErrnoException;
  if (code !== undefined && path !== undefined) return `cannot read ${path}: ${FS_WHY[code] ?? code}`;
  return err instanceof Error ? err.message : String(err);
}
