/** Every endpoint the simulator serves. To add one, copy a module next to this file and list it here. */
import type { Route } from "../http.ts";
import { adminApiKeyRoutes } from "./admin-api-keys.ts";
import { auditLogRoutes } from "./audit-logs.ts";
import { projectRoutes } from "./projects.ts";
import { userRoutes } from "./users.ts";

export const routes: Route[] = [...userRoutes, ...projectRoutes, ...adminApiKeyRoutes, ...auditLogRoutes];
