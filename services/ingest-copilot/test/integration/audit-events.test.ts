/**
 * Issue 3, "Done when": audit events arrive in the topic exactly once, across a kill -9 of
 * ingest-copilot in the middle of the traversal, and late events behind the cursor are picked
 * up by the overlap window without duplicates. Real broker, GitHub simulator.
 */
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { after, describe, it } from "node:test";
import { codecs, topicNames } from "@aiaudit/contracts";
import { createService } from "@aiaudit/ingest-copilot";
import { loadConfig } from "@aiaudit/ingest-copilot/config";
import { auditEvents, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import {
  captureLogger,
  startServiceProcess,
  testKafka,
  uniquePrefix,
  waitFor,
  withProcessOutput,
  type ServiceProcess,
} from "@aiaudit/testing";
import { ingestEnv } from "../helpers.ts";

const token = "ghp_auditeventstoken00000000000000000";
const { logger, lines } = captureLogger();
const kafka = testKafka(logger);
const cleanups: (() => Promise<void> | void)[] = [];
after(async () => {
  for (const fn of cleanups.reverse()) await fn();
});

function envFor(sim: GithubSimulator, prefix: string): Record<string, string> {
  return ingestEnv(sim.url, prefix, token, { AUDIT_PER_PAGE: "100", AUDIT_OVERLAP_MINUTES: "30" });
}

async function publishedIds(prefix: string): Promise<string[]> {
  const records = await kafka.readTopic(topicNames(prefix).copilotAuditEvents, { idleMs: 1500 });
  return records.map((r) => codecs.copilotAuditEvent.decode(r.value ?? Buffer.alloc(0)).event_id);
}

const ids = (events: Record<string, unknown>[]) => events.map((e) => String(e._document_id));

/**
 * `waitFor`, stopped as soon as `service` exits: a child that died (at start, say) fails the test
 * at once, with its output, instead of after the whole timeout.
 */
async function waitWhileRunning<T>(
  service: ServiceProcess,
  what: string,
  probe: () => Promise<T | undefined>,
  timeoutMs: number,
  intervalMs: number,
): Promise<T> {
  const value = await waitFor(
    what,
    async () => (service.exit() ? null : await probe()),
    timeoutMs,
    intervalMs,
  );
  if (value === null) {
    const exit = service.exit();
    throw new Error(
      `${service.name} exited (code ${exit?.code}, signal ${exit?.signal}) while waiting for ${what}`,
    );
  }
  return value;
}

describe("audit events, exactly once", () => {
  it("10,000 events over 100 pages arrive once each, across a kill -9 in the middle", async () => {
    const prefix = uniquePrefix("audit-kill");
    const events = auditEvents("acme", 10_000, { startMs: Date.now() - 2 * 86_400_000, stepMs: 15_000 });
    const sim = await startGithubSimulator({
      tokens: [token],
      orgs: { acme: { id: 1, seats: [], auditEvents: events } },
    });
    cleanups.push(() => sim.close());
    const env = { ...process.env, ...envFor(sim, prefix), LOG_LEVEL: "info" };
    const main = fileURLToPath(new URL("../../src/main.ts", import.meta.url));
    // The Copilot stream's traversal only: the agent stream (actor:Copilot) reads the same path.
    const copilotPages = () =>
      sim.requests.filter((r) => r.path === "/orgs/acme/audit-log" && r.query.phrase?.startsWith("action:"));
    const children: ServiceProcess[] = [];
    const startChild = () => {
      const child = startServiceProcess(`ingest-copilot #${children.length + 1}`, main, { env });
      children.push(child);
      cleanups.push(() => void child.stop("SIGKILL"));
      return child;
    };

    await withProcessOutput(children, async () => {
      const first = startChild();
      // Killed while it traverses: once page 40 was asked for, pages up to 39 may be committed
      // and one may be in a transaction. No clock decides this, only the child's own progress.
      await waitWhileRunning(
        first,
        "page 40 to be requested",
        () => Promise.resolve(copilotPages().length >= 40 || undefined),
        120_000,
        5,
      );
      await first.stop("SIGKILL");
      const pagesBefore = copilotPages().length;
      const beforeRestart = await publishedIds(prefix);
      assert.ok(
        beforeRestart.length < 10_000 && pagesBefore < 100,
        `published ${beforeRestart.length} in ${pagesBefore} pages before the kill`,
      );

      const second = startChild();
      await waitWhileRunning(
        second,
        "every event to be published",
        async () => ((await publishedIds(prefix)).length >= 10_000 ? true : undefined),
        180_000,
        1000,
      );
      await second.stop("SIGTERM");
      // Read until a read sees them all: a read that stopped early (an idle pause in the fetch)
      // must not pass for a topic that lost events, nor hide a duplicate.
      const final = await waitFor("a complete read of the topic", async () => {
        const got = await publishedIds(prefix);
        return got.length >= 10_000 ? got : undefined;
      });
      const duplicates = final.filter((id, i) => final.indexOf(id) !== i);
      assert.deepEqual(duplicates.slice(0, 10), [], `${duplicates.length} events in the topic twice`);
      assert.deepEqual([...final].sort(), ids(events).sort());
      // The restart resumed from the committed cursor: it did not re-read from the start.
      const resumed = copilotPages().length - pagesBefore;
      assert.ok(resumed < 100 - 30 + 5, `${resumed} pages read after the restart, ${pagesBefore} before`);
    });
  });

  it("late events behind the cursor are picked up by the overlap window, without duplicates", async () => {
    const prefix = uniquePrefix("audit-late");
    const start = Date.now() - 3 * 3_600_000;
    const events = auditEvents("acme", 500, { startMs: start, stepMs: 10_000, idPrefix: "first" });
    const sim = await startGithubSimulator({
      tokens: [token],
      orgs: { acme: { id: 1, seats: [], auditEvents: events } },
    });
    cleanups.push(() => sim.close());
    const service = createService(loadConfig(envFor(sim, prefix)), { logger, kafka });
    cleanups.push(() => service.stop());

    const firstPoll = await service.pollAuditEvents();
    assert.equal(firstPoll.published, 500);
    const newest = start + 499 * 10_000;
    // 20 events GitHub indexed late, 10 minutes behind the newest one already published, and 5 new ones.
    const late = auditEvents("acme", 20, { startMs: newest - 600_000, stepMs: 1_000, idPrefix: "late" });
    const fresh = auditEvents("acme", 5, { startMs: newest + 60_000, stepMs: 1_000, idPrefix: "fresh" });
    sim.addAuditEvents("acme", [...late, ...fresh]);

    const secondPoll = await service.pollAuditEvents();
    assert.equal(secondPoll.published, 25);
    assert.ok(secondPoll.duplicates > 0, "the overlap window re-read already published events");
    const third = await service.pollAuditEvents();
    assert.equal(third.published, 0);

    const published = await publishedIds(prefix);
    assert.equal(published.length, 525);
    assert.deepEqual([...published].sort(), ids([...events, ...late, ...fresh]).sort());
  });

  it("agent events (actor:Copilot) are published once, with the agent named and the human pseudonymized", async () => {
    const prefix = uniquePrefix("audit-agent");
    const events = auditEvents("acme", 60, {
      startMs: Date.now() - 3_600_000,
      stepMs: 30_000,
      agentEvery: 3,
    });
    const sim = await startGithubSimulator({
      tokens: [token],
      orgs: { acme: { id: 1, seats: [], auditEvents: events } },
    });
    cleanups.push(() => sim.close());
    const service = createService(loadConfig(envFor(sim, prefix)), { logger, kafka });
    cleanups.push(() => service.stop());
    await service.pollAuditEvents();
    await service.pollAgentEvents();
    const records = (await kafka.readTopic(topicNames(prefix).copilotAuditEvents)).map((r) =>
      codecs.copilotAuditEvent.decode(r.value ?? Buffer.alloc(0)),
    );
    assert.equal(
      new Set(records.map((r) => r.event_id)).size,
      records.length,
      "an event was published twice",
    );
    const agentEvents = records.filter((r) => r.actor_is_agent);
    assert.ok(agentEvents.length > 0);
    for (const e of agentEvents) {
      assert.equal(e.actor_agent, "Copilot");
      assert.equal(e.actor_pseudonym, null);
      assert.ok(e.agent_session_id);
      assert.match(e.user_pseudonym ?? "", /^[0-9a-f]{64}$/);
    }
    const expected = events.filter((e) => String(e.action).startsWith("copilot") || e.actor === "Copilot");
    assert.deepEqual(records.map((r) => r.event_id).sort(), ids(expected).sort());
    const humans = events.map((e) => e.user).filter((u): u is string => typeof u === "string");
    const text = JSON.stringify(records).toLowerCase() + lines.join("\n").toLowerCase();
    assert.deepEqual(
      humans.filter((h) => text.includes(h.toLowerCase())),
      [],
    );
  });
});
