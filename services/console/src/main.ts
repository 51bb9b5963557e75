/**
 * Process entry: config from the environment, the operator API and dashboard on CONSOLE_PORT (8468),
 * /healthz, /readyz and /metrics on HTTP_PORT (9468), until SIGTERM/SIGINT.
 */
import { runMain } from "@aiaudit/runtime";
import { loadConfig } from "./config.ts";
import { createService } from "./service.ts";

await runMain(process, {
  name: "console",
  httpPort: 9468,
  create: (env, logger, { registry }) => createService(loadConfig(env), { logger, registry }),
});
