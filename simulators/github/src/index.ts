export * from "./server.ts";
export * from "./fixtures.ts";
