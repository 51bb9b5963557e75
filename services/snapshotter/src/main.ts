/** Process entry: config from the environment, run until SIGTERM/SIGINT, exit non-zero on a bad start. */
import { createLogger } from "@aiaudit/logger";
import { loadConfig } from "./config.ts";
import { createService } from "./service.ts";

const logger = createLogger({ name: "snapshotter", level: process.env.LOG_LEVEL ?? "info" });
try {
  const service = createService(loadConfig(process.env), { logger });
  await service.start();
  const shutdown = (signal: string) => {
    logger.info({ signal }, "shutting down");
    service.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, "shutdown failed");
        process.exit(1);
      },
    );
  };
  process.once("SIGTERM", shutdown);
  process.once("SIGINT", shutdown);
} catch (err) {
  logger.fatal({ err }, "snapshotter could not start");
  process.exitCode = 1;
}
