/**
 * Process entry: config from the environment, the evidence-pack API on PACKER_API_PORT (8467),
 * /healthz, /readyz and /metrics on HTTP_PORT (9467), the monthly schedule, until SIGTERM/SIGINT;
 * with `--once`, the monthly run now (last month's packs and due retries), exit 0 when all succeeded.
 */
import { runMain } from "@aiaudit/runtime";
import { loadConfig } from "./config.ts";
import { createService } from "./service.ts";

await runMain(process, {
  name: "packer",
  httpPort: 9467,
  create: (env, logger, { registry }) => createService(loadConfig(env), { logger, registry }),
});
