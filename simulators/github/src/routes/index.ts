/** Every endpoint the simulator serves. To add one, copy a module next to this file and list it here. */
import type { Route } from "../http.ts";
import { auditLogRoutes } from "./audit-log.ts";
import { metricsRoutes } from "./metrics.ts";
import { orgRoutes } from "./orgs.ts";
import { seatRoutes } from "./seats.ts";
import { usageRecordRoutes } from "./usage-records.ts";

export const routes: Route[] = [
  ...orgRoutes,
  ...seatRoutes,
  ...auditLogRoutes,
  ...usageRecordRoutes,
  ...metricsRoutes,
];
