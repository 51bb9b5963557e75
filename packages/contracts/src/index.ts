export * from "./topics.ts";
export * from "./avro.ts";
export * from "./records.ts";
export * from "./dlq.ts";
export * from "./cursors.ts";
