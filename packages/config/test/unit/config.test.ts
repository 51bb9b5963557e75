import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { clickhouseEnv, kafkaEnv, key32, logEnv, parseEnv, runtimeEnv, tenantId } from "@aiaudit/config";

const schema = z.object({
  ...kafkaEnv,
  ...logEnv,
  ...runtimeEnv(9464),
  CLICKHOUSE_PASSWORD: clickhouseEnv.CLICKHOUSE_PASSWORD,
  TENANT_ID: tenantId.describe("tenant the data belongs to"),
  GITHUB_ORG: z.string().optional().describe("an organization to poll"),
  PSEUDONYM_KEY: key32.describe("tenant key for pseudonyms"),
});
const good = { TENANT_ID: "acme", PSEUDONYM_KEY: "a".repeat(64) };

/** The message parseEnv throws for `env`. */
function problem(env: Record<string, string>): string {
  try {
    parseEnv(schema, env);
  } catch (err) {
    assert.equal((err as { code?: string }).code, "CONFIG_INVALID");
    return (err as Error).message;
  }
  assert.fail("the configuration was accepted");
}

describe("parseEnv", () => {
  it("applies defaults and parses lists", () => {
    const config = parseEnv(schema, { ...good, KAFKA_BROKERS: "a:1, b:2" });
    assert.deepEqual(config.KAFKA_BROKERS, ["a:1", "b:2"]);
    assert.equal(config.KAFKA_TOPIC_PREFIX, "aiaudit");
    assert.equal(config.PSEUDONYM_KEY.length, 32);
    assert.equal(config.HTTP_PORT, 9464);
  });
  it("names a missing variable and what it is for", () => {
    const message = problem({ PSEUDONYM_KEY: good.PSEUDONYM_KEY });
    assert.match(message, /TENANT_ID is not set/);
    assert.match(message, /tenant the data belongs to/);
  });
  it("names a malformed variable without echoing its value", () => {
    const message = problem({ ...good, PSEUDONYM_KEY: "c2hvcnQ=" });
    assert.match(message, /PSEUDONYM_KEY is malformed: must be 32 bytes/);
    assert.ok(!message.includes("c2hvcnQ="));
  });
  it("rejects a topic prefix with characters Kafka does not allow", () => {
    assert.match(problem({ ...good, KAFKA_TOPIC_PREFIX: "a/b" }), /KAFKA_TOPIC_PREFIX is malformed/);
  });
});

describe("issue 6: a variable set but empty is an error naming it", () => {
  it("KAFKA_BROKERS= names the default instead of falling back to it", () => {
    assert.match(
      problem({ ...good, KAFKA_BROKERS: "" }),
      /KAFKA_BROKERS is set but empty: unset it for the default 127\.0\.0\.1:19092, or give host:port,…/,
    );
  });
  it("says so for a required variable, an optional one and a numeric one, all at once", () => {
    const message = problem({ ...good, TENANT_ID: "", GITHUB_ORG: "", HTTP_PORT: "" });
    assert.match(message, /TENANT_ID is set but empty: give tenant the data belongs to/);
    assert.doesNotMatch(message, /TENANT_ID is not set/);
    assert.match(message, /GITHUB_ORG is set but empty: unset it, or give an organization to poll/);
    assert.match(message, /HTTP_PORT is set but empty: unset it for the default 9464/);
  });
  it("accepts an empty value where the default is the empty string (a password)", () => {
    assert.equal(parseEnv(schema, { ...good, CLICKHOUSE_PASSWORD: "" }).CLICKHOUSE_PASSWORD, "");
  });
});

describe("issue 6: KAFKA_BROKERS entries are host:port", () => {
  for (const brokers of ["kafka", "kafka:", "kafka:port", "kafka:0", "kafka:70000", "a:1,b", ","]) {
    it(`rejects ${JSON.stringify(brokers)}`, () => {
      assert.match(problem({ ...good, KAFKA_BROKERS: brokers }), /KAFKA_BROKERS is malformed/);
    });
  }
  it("accepts names, addresses and bracketed IPv6", () => {
    const config = parseEnv(schema, {
      ...good,
      KAFKA_BROKERS: "kafka-0.kafka:9092,10.0.0.1:9093,[::1]:9094",
    });
    assert.deepEqual(config.KAFKA_BROKERS, ["kafka-0.kafka:9092", "10.0.0.1:9093", "[::1]:9094"]);
  });
});

describe("issue 6: LOG_LEVEL is validated like any setting", () => {
  it("names LOG_LEVEL and the levels it accepts", () => {
    const message = problem({ ...good, LOG_LEVEL: "verbose" });
    assert.match(message, /LOG_LEVEL is malformed/);
    assert.match(message, /trace, debug, info, warn, error, fatal, silent/);
  });
});

describe("tenantId", () => {
  for (const id of ["acme", "a", "tenant-a", "0day", "a".repeat(63)])
    it(`accepts ${id.length > 10 ? `${id.length} characters` : id}`, () =>
      assert.ok(tenantId.safeParse(id).success));
  for (const id of ["", "North_Wind", "Acme", "-acme", "a".repeat(64), "a b", "acme/x"])
    it(`rejects ${JSON.stringify(id.length > 10 ? `${id.length} characters` : id)}`, () =>
      assert.ok(!tenantId.safeParse(id).success));
});

describe("runtimeEnv", () => {
  it("gives each service its own default port, and 0 turns the server off", () => {
    const port = (defaultPort: number, env: Record<string, string>) =>
      parseEnv(z.object(runtimeEnv(defaultPort)), env).HTTP_PORT;
    assert.equal(port(9464, {}), 9464);
    assert.equal(port(9465, {}), 9465);
    assert.equal(port(9465, { HTTP_PORT: "0" }), 0);
    assert.throws(() => port(9465, { HTTP_PORT: "65536" }), /HTTP_PORT is malformed/);
  });
});
