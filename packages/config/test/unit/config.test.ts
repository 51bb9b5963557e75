import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { z } from "zod";
import { kafkaEnv, key32, parseEnv } from "@aiaudit/config";

const schema = z.object({
  ...kafkaEnv,
  TENANT_ID: z.string().min(1).describe("tenant the data belongs to"),
  PSEUDONYM_KEY: key32.describe("tenant key for pseudonyms"),
});
const good = { TENANT_ID: "acme", PSEUDONYM_KEY: "a".repeat(64) };

describe("parseEnv", () => {
  it("applies defaults and parses lists", () => {
    const config = parseEnv(schema, { ...good, KAFKA_BROKERS: "a:1, b:2" });
    assert.deepEqual(config.KAFKA_BROKERS, ["a:1", "b:2"]);
    assert.equal(config.KAFKA_TOPIC_PREFIX, "aiaudit");
    assert.equal(config.PSEUDONYM_KEY.length, 32);
  });
  it("names a missing variable and what it is for", () => {
    assert.throws(
      () => parseEnv(schema, { PSEUDONYM_KEY: good.PSEUDONYM_KEY }),
      (err: Error & { code?: string }) => {
        assert.equal(err.code, "CONFIG_INVALID");
        assert.match(err.message, /TENANT_ID is not set/);
        assert.match(err.message, /tenant the data belongs to/);
        return true;
      },
    );
  });
  it("names a malformed variable without echoing its value", () => {
    assert.throws(
      () => parseEnv(schema, { ...good, PSEUDONYM_KEY: "c2hvcnQ=" }),
      (err: Error) =>
        /PSEUDONYM_KEY is malformed: must be 32 bytes/.test(err.message) && !err.message.includes("c2hvcnQ="),
    );
  });
  it("treats an empty variable as unset", () => {
    assert.throws(() => parseEnv(schema, { ...good, TENANT_ID: "" }), /TENANT_ID is not set/);
  });
  it("rejects a topic prefix with characters Kafka does not allow", () => {
    assert.throws(
      () => parseEnv(schema, { ...good, KAFKA_TOPIC_PREFIX: "a/b" }),
      /KAFKA_TOPIC_PREFIX is malformed/,
    );
  });
});
