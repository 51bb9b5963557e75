/**
 * Process lifecycle shared by every service's main.ts: start, run until SIGTERM/SIGINT, stop
 * gracefully (the service finishes or abandons its batch in flight without losing it), and on a
 * failed start exit 1 with a message an operator can act on: a configuration error is printed
 * as its message alone, never with a stack trace.
 */
import { isAiauditError } from "@aiaudit/errors";
import { createLogger, type Logger } from "@aiaudit/logger";

export interface Startable {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface MainOptions {
  name: string;
  /** Loads the config and creates the service; throws on a bad setting. */
  create(env: NodeJS.ProcessEnv, logger: Logger): Startable;
}

export async function runMain(proc: NodeJS.Process, options: MainOptions): Promise<void> {
  const logger = createLogger({ name: options.name, level: proc.env.LOG_LEVEL ?? "info" });
  let service: Startable;
  try {
    service = options.create(proc.env, logger);
    await service.start();
  } catch (err) {
    if (isAiauditError(err, "CONFIG_INVALID")) logger.fatal({ code: err.code }, err.message);
    else logger.fatal({ err }, `${options.name} could not start`);
    proc.exitCode = 1;
    return;
  }
  logger.info("started");
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    service.stop().then(
      () => proc.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        proc.exit(1);
      },
    );
  };
  proc.once("SIGTERM", shutdown);
  proc.once("SIGINT", shutdown);
}
