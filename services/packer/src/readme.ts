/**
 * README.txt: what the pack is and how a person checks it with standard tools, in plain words
 * (the recipes of docs/evidence-pack.md "Verifying"). Its text depends only on the pack's request,
 * so it is as reproducible as the rest of the pack.
 */
import type { PackModule } from "@aiaudit/evidence-pack";

export interface ReadmeInput {
  tenant: string;
  module: PackModule;
  sequence: number;
  periodStart: string;
  periodEnd: string;
  /** The data files, with a line each on what they hold. */
  files: readonly { name: string; about: string }[];
}

export function readmeText(input: ReadmeInput): string {
  const name = `pack-${input.sequence}.tar.gz`;
  const previous = `pack-${input.sequence - 1}.tar.gz`;
  const what = input.module === "copilot" ? "GitHub Copilot" : "OpenAI organization administration";
  const lines = [
    `aiaudit evidence pack ${input.sequence} for tenant ${input.tenant}: ${what}`,
    `Period covered: ${input.periodStart} to ${input.periodEnd} (inclusive, UTC).`,
    "",
    "WHAT IS IN IT",
    "",
    "manifest.json   the list of every file below with its SHA-256 hash, size and line count,",
    "                the period, the tenant, and the hash of the previous pack's manifest",
    "manifest.sig    an Ed25519 signature over the exact bytes of manifest.json",
    "SHA256SUMS      the same hashes, in the format of the sha256sum command",
    ...input.files.map((f) => `${f.name.padEnd(15)} ${f.about}`),
    "coverage.json   what was collected, day by day and organization by organization; the days",
    "                without a complete snapshot are listed there as gaps",
    "kpis.json       headline figures for the period, with their definitions",
    "README.txt      this text",
    "",
    "Data files hold one JSON object per line. People appear only as pseudonyms: keyed hashes",
    "(HMAC-SHA256) of their login or email, computed with the tenant's own key.",
    "",
    "HOW TO CHECK IT",
    "",
    "You need the public key the customer gave you. Do not use the key written inside the pack:",
    "anyone who altered the pack could have replaced it.",
    "",
    "With Python 3 (nothing else to install), using tools/evidence-pack-verify.py from aiaudit:",
    "",
    `    python3 evidence-pack-verify.py ${name} --expected-pubkey KEY`,
    "",
    "KEY is the public key as base64 or hex, or a PEM file. The pack is valid when it prints",
    "that it is and exits with status 0. To also check that no pack is missing or was replaced",
    "between this one and the one before, give the previous pack too:",
    "",
    `    python3 evidence-pack-verify.py ${name} --expected-pubkey KEY --previous ${previous}`,
    "",
    "With openssl and sha256sum, where expected-public-key.pem is the key you were given:",
    "",
    `    mkdir pack && tar -xzf ${name} -C pack && cd pack`,
    "    openssl pkeyutl -verify -pubin -inkey expected-public-key.pem -rawin -in manifest.json -sigfile manifest.sig",
    "    sha256sum -c SHA256SUMS",
    "",
    'openssl must say "Signature Verified Successfully" and sha256sum must say OK for every file.',
    "Then compare the names and sizes in manifest.json with the files you extracted. The signature",
    "covers manifest.json, manifest.json holds every file's hash, so no file can change unnoticed.",
    "",
    "The format is described in full in docs/evidence-pack.md of the aiaudit source.",
    "",
  ];
  return lines.join("\n");
}
