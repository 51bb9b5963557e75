/** Process entry: config from the environment, run until SIGTERM/SIGINT, exit 1 on a bad start. */
import { runMain } from "@aiaudit/runtime";
import { loadConfig } from "./config.ts";
import { createService } from "./service.ts";

await runMain(process, {
  name: "snapshotter",
  create: (env, logger) => createService(loadConfig(env), { logger }),
});
