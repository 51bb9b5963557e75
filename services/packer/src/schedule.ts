/**
 * The monthly schedule (docs/design.md §2): at PACKER_SCHEDULE (03:00 UTC on the 1st), the
 * previous month's pack of every tenant and module with a connected org; a pack that fails is
 * tried again after PACKER_RETRY_MINUTES, doubling up to a day, until it succeeds. Each attempt's
 * outcome goes to the compacted pack-runs topic, where `aiaudit status` shows it and from where a
 * restarted packer resumes: at start it runs whatever is due, so a packer that was down on the 1st
 * catches up. The cron library (croner) fires the monthly run and each retry at its time.
 *
 * Which tenants and modules: every `tenant/connection` on the connections topic and the cursors
 * topic (the latter also holds organizations configured on an ingest instance, GITHUB_ORG or
 * OPENAI_ORG_ID, and ones disconnected since: their last month still gets its pack). The connection
 * id says the vendor: `github-…` → copilot, `openai-…` → openai_admin.
 */
import { Cron } from "croner";
import { codecs, type PackRunRecord, type TopicNames } from "@aiaudit/contracts";
import { describeError } from "@aiaudit/errors";
import type { PackModule } from "@aiaudit/evidence-pack";
import type { KafkaClient, TransactionalProducer } from "@aiaudit/kafka";
import type { BuiltPack, PackRequest } from "./build.ts";
import type { Telemetry } from "./telemetry.ts";

const DAY_MS = 86_400_000;

export interface ScheduleDeps {
  kafka: KafkaClient;
  topics: TopicNames;
  /** The transactional id of the pack-runs producer (one packer per store). */
  producerId: string;
  build(request: PackRequest): Promise<BuiltPack>;
  telemetry: Telemetry;
  /** Cron pattern, UTC. */
  pattern: string;
  retryMinutes: number;
  /** @default Date.now */
  now?: () => number;
}

export interface Schedule {
  /** Loads the pack runs, runs what is due now, and schedules the monthly run. */
  start(): Promise<void>;
  /**
   * Packs the previous month for every target without a pack run, and retries every failed run
   * whose time has come; resolves the runs it attempted. One pass at a time.
   */
  runDue(): Promise<PackRunRecord[]>;
  /** When the monthly run fires next. */
  nextRun(): Date | null;
  stop(): Promise<void>;
}

export interface Target {
  tenant: string;
  module: PackModule;
}

/** The calendar month before the one `nowMs` is in, UTC, as a pack period (end inclusive). */
export function previousMonth(nowMs: number): { periodStart: string; periodEnd: string } {
  const now = new Date(nowMs);
  const start = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1);
  const end = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1) - 1000;
  return { periodStart: isoSeconds(start), periodEnd: isoSeconds(end) };
}

const isoSeconds = (ms: number): string => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** Minutes to wait after the `attempts`-th failure: retryMinutes, doubling, at most a day. */
export function retryDelayMs(attempts: number, retryMinutes: number): number {
  return Math.min(retryMinutes * 60_000 * 2 ** Math.max(0, attempts - 1), DAY_MS);
}

export const packRunKey = (tenant: string, module: PackModule, periodStartMs: number): string =>
  `${tenant}/${module}/${new Date(periodStartMs).toISOString()}`;

/** The tenants and modules of `tenant/connection[/…]` keys, sorted. */
export function targetsOf(keys: Iterable<string>): Target[] {
  const found = new Map<string, Target>();
  for (const key of keys) {
    const [tenant, connection] = key.split("/");
    if (!tenant || !connection) continue;
    const module = connection.startsWith("github-")
      ? "copilot"
      : connection.startsWith("openai-")
        ? "openai_admin"
        : undefined;
    if (module) found.set(`${tenant}/${module}`, { tenant, module });
  }
  return [...found.values()].sort(
    (a, b) => a.tenant.localeCompare(b.tenant) || a.module.localeCompare(b.module),
  );
}

export function createSchedule(deps: ScheduleDeps): Schedule {
  const now = deps.now ?? Date.now;
  const runs = new Map<string, PackRunRecord>();
  let monthly: Cron | undefined;
  let retry: Cron | undefined;
  let producer: Promise<TransactionalProducer> | undefined;
  let pass: Promise<unknown> = Promise.resolve();
  let stopped = false;

  async function readKeys(topic: string): Promise<Map<string, Buffer>> {
    const latest = new Map<string, Buffer>();
    for (const record of await deps.kafka.readTopic(topic, { idleMs: 1000 })) {
      if (record.key === null) continue;
      if (record.value === null) latest.delete(record.key);
      else latest.set(record.key, record.value);
    }
    return latest;
  }

  async function loadRuns(): Promise<void> {
    for (const [key, value] of await readKeys(deps.topics.packRuns)) {
      try {
        runs.set(key, codecs.packRun.decode(value));
      } catch (err) {
        deps.telemetry.packRunUnreadable({ key, err });
      }
    }
  }

  async function save(run: PackRunRecord): Promise<void> {
    runs.set(packRunKey(run.tenant, run.module, run.period_start), run);
    producer ??= deps.kafka.transactionalProducer(deps.producerId);
    const p = await producer;
    await p.transaction((tx) =>
      tx.send([
        {
          topic: deps.topics.packRuns,
          key: packRunKey(run.tenant, run.module, run.period_start),
          value: codecs.packRun.encode(run),
        },
      ]),
    );
  }

  async function attempt(target: Target, periodStart: string, periodEnd: string, attempts: number) {
    const started = now();
    try {
      const built = await deps.build({ ...target, periodStart, periodEnd });
      const run: PackRunRecord = {
        ...target,
        period_start: Date.parse(built.manifest.period_start),
        period_end: Date.parse(built.manifest.period_end),
        state: "SUCCEEDED",
        attempts,
        last_error: null,
        next_attempt_at: null,
        pack_id: built.manifest.pack_id,
        sequence: built.manifest.sequence,
        updated_at: now(),
      };
      deps.telemetry.scheduledPackBuilt({ ...target, periodStart, attempts, ms: now() - started });
      await save(run);
      return run;
    } catch (err) {
      const nextAttemptAt = now() + retryDelayMs(attempts, deps.retryMinutes);
      const run: PackRunRecord = {
        ...target,
        period_start: Date.parse(periodStart),
        period_end: Date.parse(periodEnd) + 999,
        state: "FAILED",
        attempts,
        last_error: describeError(err),
        next_attempt_at: nextAttemptAt,
        pack_id: null,
        sequence: null,
        updated_at: now(),
      };
      deps.telemetry.scheduledPackFailed({
        ...target,
        periodStart,
        attempts,
        err,
        nextAttemptAt: new Date(nextAttemptAt).toISOString(),
      });
      await save(run);
      return run;
    }
  }

  async function runDueNow(): Promise<PackRunRecord[]> {
    const at = now();
    const month = previousMonth(at);
    const monthStartMs = Date.parse(month.periodStart);
    const [connections, cursors] = await Promise.all([
      readKeys(deps.topics.connections),
      readKeys(deps.topics.cursors),
    ]);
    const due: { target: Target; periodStart: string; periodEnd: string; attempts: number }[] = [];
    for (const target of targetsOf([...connections.keys(), ...cursors.keys()])) {
      if (!runs.has(packRunKey(target.tenant, target.module, monthStartMs))) {
        due.push({ target, ...month, attempts: 1 });
      }
    }
    for (const run of runs.values()) {
      if (run.state !== "FAILED" || (run.next_attempt_at ?? 0) > at) continue;
      due.push({
        target: { tenant: run.tenant, module: run.module },
        periodStart: isoSeconds(run.period_start),
        periodEnd: isoSeconds(run.period_end - 999),
        attempts: run.attempts + 1,
      });
    }
    const done: PackRunRecord[] = [];
    for (const d of due) {
      if (stopped) break;
      done.push(await attempt(d.target, d.periodStart, d.periodEnd, d.attempts));
    }
    scheduleRetry();
    return done;
  }

  /** One croner job at the earliest time a failed run is due again. */
  function scheduleRetry(): void {
    retry?.stop();
    retry = undefined;
    if (stopped) return;
    const next = Math.min(
      ...[...runs.values()].filter((r) => r.state === "FAILED").map((r) => r.next_attempt_at ?? 0),
    );
    if (!Number.isFinite(next)) return;
    retry = new Cron(new Date(Math.max(next, now() + 1000)), { timezone: "UTC" }, () => {
      void runDue().catch((err: unknown) => deps.telemetry.scheduleFailed({ err }));
    });
  }

  function runDue(): Promise<PackRunRecord[]> {
    const run = pass.then(runDueNow, runDueNow);
    pass = run.catch(() => undefined);
    return run;
  }

  return {
    async start() {
      await loadRuns();
      monthly = new Cron(deps.pattern, { timezone: "UTC", protect: true }, () => {
        void runDue().catch((err: unknown) => deps.telemetry.scheduleFailed({ err }));
      });
      // Catch up with what is due (a packer that was down on the 1st), without holding up the start.
      void runDue().catch((err: unknown) => deps.telemetry.scheduleFailed({ err }));
    },
    async runDue() {
      if (runs.size === 0) await loadRuns();
      return runDue();
    },
    nextRun: () => monthly?.nextRun() ?? null,
    async stop() {
      stopped = true;
      monthly?.stop();
      retry?.stop();
      await pass;
      await producer?.then((p) => p.disconnect()).catch(() => undefined);
    },
  };
}
