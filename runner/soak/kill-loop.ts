/**
 * `scripts/kill-loop.sh [flags]`: the kill -9 soak (runner/soak/soak.ts), its summary on stdout,
 * exit 0 when every invariant held, 1 on a violation, 2 on a usage error. See README.md here.
 */
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { integerFlag, soakMain, UsageError } from "./main.ts";
import { removeSoakData, runSoak, type SoakOptions, type SoakSummary } from "./soak.ts";

const USAGE = `usage: scripts/kill-loop.sh [flags]
  --vendor V               github (ingest-copilot, default) or openai (ingest-openai)
  --events N               audit events in the source (default 50000)
  --ingest-kills N         SIGKILLs of the ingest service (default 10)
  --snapshotter-kills N    SIGKILLs of the snapshotter (default 10)
  --no-broker-restart      skip the broker restart halfway
  --private-broker         run on a broker of the soak's own (port 29092, .cache/soak-kafka),
                           started and stopped here: others using the shared broker are not cut off
  --repeat-pages K         events of the previous page served again on each page (default 10)
  --repeat-polls K         GitHub: events of the previous poll served again on the next (default 20)
  --slice-max-events N     OpenAI: AUDIT_SLICE_MAX_EVENTS, busier slices are halved (default 5000,
                           --small: 500)
  --span-hours H           the events' time span, ending an hour ago (OpenAI: a minute ago; default 48)
  --port P                 the simulator's port (default 18091)
  --settle-seconds S       ingest runs this long after all events are in (default 70: one scheduled poll)
  --timeout-minutes M      the soak fails after this long (default 45)
  --keep-data              keep .cache/soak/<prefix> (chdb, logs) after a clean run
  --small                  2,000 events, 2 kills each, no broker restart, no settle`;

const ROOT = fileURLToPath(new URL("../../", import.meta.url));
const PRIVATE = {
  KAFKA_PORT: "29092",
  KAFKA_CONTROLLER_PORT: "29093",
  KAFKA_DATA_DIR: `${ROOT}.cache/soak-kafka`,
};

function parse(argv: string[]): {
  options: Omit<SoakOptions, "say">;
  privateBroker: boolean;
  keepData: boolean;
} {
  const { values } = parseArgs({
    args: argv,
    options: {
      vendor: { type: "string" },
      events: { type: "string" },
      "ingest-kills": { type: "string" },
      "snapshotter-kills": { type: "string" },
      "no-broker-restart": { type: "boolean" },
      "private-broker": { type: "boolean" },
      "repeat-pages": { type: "string" },
      "repeat-polls": { type: "string" },
      "slice-max-events": { type: "string" },
      "span-hours": { type: "string" },
      port: { type: "string" },
      "settle-seconds": { type: "string" },
      "timeout-minutes": { type: "string" },
      "keep-data": { type: "boolean" },
      small: { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.help) throw new UsageError("");
  const small = values.small === true;
  const int = (name: keyof typeof values, fallback: number, min = 0): number =>
    integerFlag(values, name, fallback, min);
  const vendor = values.vendor ?? "github";
  if (vendor !== "github" && vendor !== "openai") throw new UsageError("--vendor must be github or openai");
  if (vendor === "openai" && values["repeat-polls"] !== undefined) {
    throw new UsageError("--repeat-polls is GitHub's: ingest-openai re-reads 30 minutes on every poll");
  }
  if (vendor === "github" && values["slice-max-events"] !== undefined) {
    throw new UsageError("--slice-max-events is OpenAI's: ingest-copilot reads pages, not time slices");
  }
  const privateBroker = values["private-broker"] === true;
  const kafkaShEnv = { ...process.env, ...(privateBroker ? PRIVATE : {}) };
  const brokerPort = kafkaShEnv.KAFKA_PORT ?? "19092";
  const brokers = privateBroker
    ? [`127.0.0.1:${brokerPort}`]
    : (process.env.KAFKA_BROKERS ?? `127.0.0.1:${brokerPort}`).split(",");
  const spanHours = int("span-hours", 48, 1);
  if (vendor === "openai" && spanHours > 364 * 24) {
    throw new UsageError(
      "--span-hours: ingest-openai reads at most 365 days back (AUDIT_INITIAL_LOOKBACK_DAYS)",
    );
  }
  const brokerRestart = !small && values["no-broker-restart"] !== true;
  // kafka.sh restarts the broker of KAFKA_PORT: it must be the one the services use.
  if (brokerRestart && (brokers.length !== 1 || brokers[0] !== `127.0.0.1:${brokerPort}`)) {
    throw new UsageError(
      `the broker restart acts on kafka.sh's broker (127.0.0.1:${brokerPort}), not on KAFKA_BROKERS=${brokers.join(",")}: ` +
        "set KAFKA_PORT to match, or pass --no-broker-restart",
    );
  }
  return {
    privateBroker,
    keepData: values["keep-data"] === true,
    options: {
      vendor,
      events: int("events", small ? 2000 : 50_000, 1),
      ingestKills: int("ingest-kills", small ? 2 : 10),
      snapshotterKills: int("snapshotter-kills", small ? 2 : 10),
      brokerRestart,
      repeatAcrossPages: int("repeat-pages", 10),
      repeatAcrossPolls: int("repeat-polls", 20),
      sliceMaxEvents: int("slice-max-events", small ? 500 : 5000, 100),
      agentEvery: 10,
      spanHours,
      port: int("port", 18091, 1),
      brokers,
      kafkaShEnv,
      settleSeconds: int("settle-seconds", small ? 0 : 70),
      timeoutMinutes: int("timeout-minutes", small ? 10 : 45, 1),
    },
  };
}

function report(s: SoakSummary): string {
  const ch = s.clickhouse
    ? `count() ${s.clickhouse.rows}, count(DISTINCT event_id) ${s.clickhouse.distinct}`
    : "not read";
  return [
    "",
    `soak ${s.prefix} (${s.vendor}): ${s.violations.length === 0 ? "PASSED" : "FAILED"} in ${s.wallSeconds} s`,
    `  events          ${s.events}`,
    `  kills           ingest ${s.kills.ingest}, snapshotter ${s.kills.snapshotter}, broker restarts ${s.kills.brokerRestarts}`,
    `  own exits       ${s.unexpectedExits.length === 0 ? "none" : s.unexpectedExits.join("; ")}`,
    s.vendor === "github"
      ? `  GitHub          ${s.requests.auditLog} audit-log requests (${s.requests.streamPages} by the Copilot stream)`
      : `  OpenAI          ${s.requests.auditLog} audit-log requests, ${s.requests.repeatsServed ?? 0} events served again`,
    `  topic           ${s.topic.records} records, ${s.topic.distinct} ids, ${s.topic.duplicates} duplicates, ${s.topic.missing} missing`,
    `  ClickHouse      ${ch}`,
    ...s.views.map((v) => `  current view    ${v.name}: ${v.rows} rows (the fixture has ${v.expected})`),
    `  cursors         ${s.cursors.read} read back, ${s.cursors.ahead} ahead of the newest event (${new Date(s.cursors.newestEventMs).toISOString()})`,
    `  dead letters    ${s.deadLetters}`,
    `  process logs    ${s.logDir}`,
    ...s.violations.map((v) => `  VIOLATION       ${v}`),
    "",
  ].join("\n");
}

process.exitCode = await soakMain({
  usage: USAGE,
  parse,
  brokerEnv: (parsed) => parsed.options.kafkaShEnv,
  run: (parsed, say) => runSoak({ ...parsed.options, say }),
  report,
  passed: (summary, parsed) => {
    if (!parsed.keepData) removeSoakData(summary.prefix);
  },
});
