/**
 * Process entry: config from the environment, /healthz, /readyz and /metrics on HTTP_PORT (9466),
 * run until SIGTERM/SIGINT, or one pass with `--once`; exit 1 on a bad start.
 */
import { runMain } from "@aiaudit/runtime";
import { loadConfig } from "./config.ts";
import { createService } from "./service.ts";

await runMain(process, {
  name: "ingest-openai",
  httpPort: 9466,
  create: (env, logger, { registry }) => createService(loadConfig(env), { logger, registry }),
});
