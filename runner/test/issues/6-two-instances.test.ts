/**
 * Issue 6, "Done when": two ingest-copilot processes share 20 connections through Kafka's group
 * protocol; one is killed (SIGKILL) and every connection it held is polled by the other within a
 * minute. Each process's output is kept and printed when the test fails.
 */
import assert from "node:assert/strict";
import { after, before, it } from "node:test";
import { codecs, topicNames, topicSpecs } from "@aiaudit/contracts";
import { githubConnection } from "@aiaudit/github-connect";
import { seats, startGithubSimulator, type GithubSimulator } from "@aiaudit/sim-github";
import {
  captureLogger,
  startServiceProcess,
  testKafka,
  TEST_BROKERS,
  uniquePrefix,
  waitFor,
  withProcessOutput,
  type ServiceProcess,
} from "@aiaudit/testing";

const token = "ghp_twoinstances00000000000000000000";
const secretsKey = Buffer.alloc(32, 0x66);
const prefix = uniquePrefix("two-instances");
const topics = topicNames(prefix);
const orgs = Array.from({ length: 20 }, (_, i) => `org${String(i).padStart(2, "0")}`);
const { logger } = captureLogger();
const kafka = testKafka(logger);
let sim: GithubSimulator;
const children: ServiceProcess[] = [];

function startInstance(name: string): ServiceProcess {
  const child = startServiceProcess(name, "services/ingest-copilot/src/main.ts", {
    env: {
      ...process.env,
      KAFKA_BROKERS: TEST_BROKERS.join(","),
      KAFKA_TOPIC_PREFIX: prefix,
      TENANT_ID: "tenant-a",
      PSEUDONYM_KEY: "55".repeat(32),
      SECRETS_KEY: secretsKey.toString("hex"),
      POLL_INTERVAL_SECONDS: "3600",
      HTTP_PORT: "0",
      LOG_LEVEL: "info",
    },
    keepLines: 1_000_000,
  });
  children.push(child);
  return child;
}

/** A process's log lines so far. */
const linesOf = (child: ServiceProcess) => child.output().split("\n");

/** Orgs whose seats a process published (from its log lines), from line `from` on. */
const polledBy = (child: ServiceProcess, from = 0) =>
  new Set(
    linesOf(child)
      .slice(from)
      .filter((l) => l.includes('"event":"snapshot_published"') || l.includes('"event":"seats_unchanged"'))
      .map((l) => (JSON.parse(l) as { org: string }).org),
  );

/** The partitions of the connections topic a process holds now (its last assignment). */
function assigned(child: ServiceProcess): number[] {
  const line = linesOf(child).findLast((l) => l.includes('"event":"connections_assigned"'));
  return line ? (JSON.parse(line) as { partitions: number[] }).partitions : [];
}

before(async () => {
  sim = await startGithubSimulator({
    tokens: [token],
    orgs: Object.fromEntries(orgs.map((org, i) => [org, { id: i + 1, seats: seats(org, 2) }])),
  });
  await kafka.ensureTopics(topicSpecs(prefix));
  const producer = await kafka.transactionalProducer(`${prefix}.test.connections`);
  const records = orgs.map((org) => {
    const record = githubConnection({
      tenant: "tenant-a",
      kind: "ORGANIZATION",
      slug: org,
      baseUrl: sim.url,
      token,
      secretsKey,
      scopes: [],
      expiresAt: null,
      keepUsageContent: false,
      now: Date.now(),
    });
    return {
      topic: topics.connections,
      key: `tenant-a/${record.connection_id}`,
      value: codecs.connection.encode(record),
    };
  });
  await producer.transaction((tx) => tx.send(records));
  await producer.disconnect();
});

after(async () => {
  await Promise.all(children.map((child) => child.stop("SIGKILL")));
  await sim.close();
});

it("two instances split 20 connections; when one is killed the other polls its connections within a minute", async (t) => {
  const a = startInstance("a");
  const b = startInstance("b");
  // A failed test shows what each process said.
  await withProcessOutput(children, async () => {
    await waitFor(
      "every org polled once by one of the two",
      () =>
        Promise.resolve(new Set([...polledBy(a), ...polledBy(b)]).size === orgs.length ? true : undefined),
      90_000,
      500,
    );
    // While B joined, A held everything for a moment; what counts is the settled assignment.
    await new Promise((resolve) => setTimeout(resolve, 5000));
    const orgOfPartition = new Map<number, string[]>();
    for (const r of await kafka.readTopic(topics.connections)) {
      const org = codecs.connection.decode(r.value ?? Buffer.alloc(0)).slug;
      orgOfPartition.set(r.partition, [...(orgOfPartition.get(r.partition) ?? []), org]);
    }
    const heldByA = new Set(assigned(a).flatMap((p) => orgOfPartition.get(p) ?? []));
    const heldByB = new Set(assigned(b).flatMap((p) => orgOfPartition.get(p) ?? []));
    assert.ok(heldByA.size > 0 && heldByB.size > 0, `split ${heldByA.size}/${heldByB.size}`);
    assert.equal(heldByA.size + heldByB.size, orgs.length);
    for (const org of heldByA) assert.ok(!heldByB.has(org), `${org} held by both`);

    const from = linesOf(b).length;
    const killedAt = Date.now();
    await a.stop("SIGKILL");
    await waitFor(
      "b to poll every connection a held",
      () => Promise.resolve([...heldByA].every((org) => polledBy(b, from).has(org)) ? true : undefined),
      60_000,
      500,
    );
    t.diagnostic(
      `a's ${heldByA.size} connections polled by b ${Math.round((Date.now() - killedAt) / 1000)} s after the kill`,
    );
  });
});
