/**
 * The web dashboard: server-rendered pages on the console's port (being written).
 */
import type { FastifyInstance } from "fastify";
import type { ApiDeps } from "../api.ts";

export interface DashboardDeps extends ApiDeps {
  /** Mark the session cookie Secure (HTTPS). */
  secureCookie: boolean;
}

export function registerDashboard(app: FastifyInstance, deps: DashboardDeps): void {
  void app;
  void deps;
}
