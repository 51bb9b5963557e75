/**
 * The command-line entry the soak scripts share (scripts/kill-loop.sh, scripts/sink-crash.sh):
 * parse the flags (usage on a bad one: exit 2; on --help: exit 0), start a private broker when
 * asked and stop it after, run, print the report and the summary as one JSON line, and exit 0
 * only when the run found no violation.
 */
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const KAFKA_SH = fileURLToPath(new URL("../../deploy/local/kafka/kafka.sh", import.meta.url));

/** A thrown usage problem: its message is printed above the usage (none for --help). */
export class UsageError extends Error {}

export interface SoakCommand<P, S extends { violations: string[] }> {
  usage: string;
  /** Throws UsageError (or parseArgs' own errors) on bad flags. */
  parse(argv: string[]): P & { privateBroker: boolean };
  /** kafka.sh's environment for the private broker. */
  brokerEnv(parsed: P): NodeJS.ProcessEnv;
  run(parsed: P, say: (line: string) => void): Promise<S>;
  report(summary: S): string;
  /** After a run without violations (e.g. remove its data). */
  passed?(summary: S, parsed: P): void;
}

export async function soakMain<P, S extends { violations: string[] }>(
  command: SoakCommand<P, S>,
): Promise<number> {
  let parsed: P & { privateBroker: boolean };
  try {
    parsed = command.parse(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError || (err instanceof Error && "code" in err))) throw err;
    process.stderr.write(`${err.message ? `${err.message}\n` : ""}${command.usage}\n`);
    return err.message ? 2 : 0;
  }
  const kafkaSh = (action: string) =>
    execFileSync("bash", [KAFKA_SH, action], {
      env: command.brokerEnv(parsed),
      stdio: ["ignore", "inherit", "inherit"],
    });
  if (parsed.privateBroker) kafkaSh("start");
  try {
    const summary = await command.run(parsed, (line) => process.stdout.write(`${line}\n`));
    process.stdout.write(command.report(summary));
    process.stdout.write(`${JSON.stringify(summary)}\n`);
    if (summary.violations.length === 0) command.passed?.(summary, parsed);
    return summary.violations.length === 0 ? 0 : 1;
  } finally {
    if (parsed.privateBroker) kafkaSh("stop");
  }
}

/** An integer flag of parseArgs' `values`: `fallback` when absent, a UsageError below `min`. */
export function integerFlag(
  values: Record<string, unknown>,
  name: string,
  fallback: number,
  min = 0,
): number {
  const raw = values[name];
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (typeof raw !== "string" || !Number.isInteger(n) || n < min) {
    throw new UsageError(`--${name} must be an integer ≥ ${min}`);
  }
  return n;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** `promise`'s value, or undefined after `ms` (the timer does not outlive the race). */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
