/**
 * Services run as child processes (kill -9 tests, the soak), their output kept so that a failing
 * test shows what each process said instead of throwing it away.
 */
import { spawn, type ChildProcess } from "node:child_process";

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ServiceProcess {
  /** A label for its output, e.g. `ingest-copilot #2`. */
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles once the process has exited, however (set at spawn: an exit is never missed). */
  readonly exited: Promise<ProcessExit>;
  /** The exit, once it happened. */
  exit(): ProcessExit | undefined;
  /** The last lines of stdout and stderr, interleaved as they arrived. */
  output(): string;
  /** Sends `signal` (if still running) and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<ProcessExit>;
}

export interface ServiceProcessOptions {
  /** Environment of the child (nothing is inherited unless passed). */
  env: NodeJS.ProcessEnv;
  /** Extra node arguments before the script. */
  execArgv?: string[];
  /** Arguments after the script, e.g. `--once`. */
  args?: string[];
  /** Lines of output kept (the oldest are dropped). @default 5000 */
  keepLines?: number;
}

/** Runs `node <script>` with stdout and stderr kept in memory. */
export function startServiceProcess(
  name: string,
  script: string,
  options: ServiceProcessOptions,
): ServiceProcess {
  const keep = options.keepLines ?? 5000;
  const lines: string[] = [];
  let dropped = 0;
  const child = spawn(process.execPath, [...(options.execArgv ?? []), script, ...(options.args ?? [])], {
    env: options.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (stream: string) => {
    let partial = "";
    return (chunk: Buffer) => {
      const parts = (partial + chunk.toString("utf8")).split("\n");
      partial = parts.pop() ?? "";
      for (const line of parts) lines.push(stream === "stderr" ? `[stderr] ${line}` : line);
      if (lines.length > keep) dropped += lines.splice(0, lines.length - keep).length;
    };
  };
  child.stdout.on("data", collect("stdout"));
  child.stderr.on("data", collect("stderr"));
  let exit: ProcessExit | undefined;
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once("exit", (code, signal) => {
      exit = { code, signal };
      resolve(exit);
    });
  });
  return {
    name,
    child,
    exited,
    exit: () => exit,
    output: () => `${dropped > 0 ? `(${dropped} earlier lines dropped)\n` : ""}${lines.join("\n")}`,
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (!exit) child.kill(signal);
      return exited;
    },
  };
}

/**
 * Runs `body`; when it throws, prints every process's output to stderr (the test runner shows
 * it next to the failure) and throws again.
 */
export async function withProcessOutput<T>(
  processes: readonly ServiceProcess[],
  body: () => Promise<T>,
): Promise<T> {
  try {
    return await body();
  } catch (err) {
    for (const p of processes) {
      const exit = p.exit();
      const status = exit ? `exited (code ${exit.code}, signal ${exit.signal})` : "running";
      process.stderr.write(
        `\n----- ${p.name}: ${status} -----\n${p.output()}\n----- end of ${p.name} -----\n`,
      );
    }
    throw err;
  }
}
