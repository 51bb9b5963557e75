/**
 * The fixed vectors of the Python reference decoder (tools/test_aiaudit_decode.py), kept in step with
 * the producer: `tools/testdata/avro/<schema>.b64` holds the sample records of test/fixtures/avro-samples.ts
 * encoded by this package's codecs, one base64 value a line, and `<schema>.jsonl` what the decoder must
 * print for each, one JSON object a line. This test fails when a schema or a sample changed and the files
 * did not; regenerate them with
 *
 *     AIAUDIT_UPDATE_VECTORS=1 node --test packages/contracts/test/unit/avro-vectors.test.ts
 */
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { createCodec, listSchemaFiles, loadSchema } from "@aiaudit/contracts";
import { sampleGroups, type SampleGroup } from "../fixtures/avro-samples.ts";

const VECTOR_DIR = fileURLToPath(new URL("../../../../tools/testdata/avro/", import.meta.url));
const UPDATE = process.env.AIAUDIT_UPDATE_VECTORS === "1";
const REGENERATE = "AIAUDIT_UPDATE_VECTORS=1 node --test packages/contracts/test/unit/avro-vectors.test.ts";

const base = (file: string) => file.replace(/\.avsc$/, "");

function expectedFiles(group: SampleGroup): Record<string, string> {
  const lines = (values: string[]) => `${values.join("\n")}\n`;
  return {
    [`${base(group.file)}.b64`]: lines(group.samples.map((s) => s.value.toString("base64"))),
    [`${base(group.file)}.jsonl`]: lines(
      group.samples.map((s) => JSON.stringify({ schema: group.name, value: s.record })),
    ),
  };
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return "";
  }
}

describe("fixed vectors of the Python decoder (tools/testdata/avro)", () => {
  const files = listSchemaFiles();

  it("every schema in schemas/avro has samples, and only those", () => {
    assert.deepEqual(
      sampleGroups.map((g) => g.file).sort(),
      files,
      "add the new schema's records to packages/contracts/test/fixtures/avro-samples.ts",
    );
  });

  for (const group of sampleGroups) {
    it(`${group.file}: samples are records of the schema, and round-trip`, () => {
      const codec = createCodec<unknown>(loadSchema(group.file));
      assert.equal(codec.name, group.name);
      assert.ok(group.samples.length >= 2, "a record with every optional field set and one without");
      for (const sample of group.samples) {
        assert.equal(sample.value.subarray(2, 10).toString("hex"), codec.fingerprint);
        // avsc decodes into instances of generated record classes: compare as JSON, the decoder's output.
        assert.deepEqual(JSON.parse(JSON.stringify(codec.decode(sample.value))), sample.record);
      }
    });

    it(`${group.file}: tools/testdata/avro is up to date`, () => {
      for (const [name, text] of Object.entries(expectedFiles(group))) {
        const path = `${VECTOR_DIR}${name}`;
        if (UPDATE) {
          mkdirSync(VECTOR_DIR, { recursive: true });
          writeFileSync(path, text);
        }
        assert.equal(readOrEmpty(path), text, `tools/testdata/avro/${name} is stale: run ${REGENERATE}`);
      }
    });
  }

  it("holds no vectors of a schema that is gone", () => {
    const expected = sampleGroups.flatMap((g) => Object.keys(expectedFiles(g))).sort();
    const present = readdirSync(VECTOR_DIR).sort();
    assert.deepEqual(present, expected, "delete the vectors of removed schemas from tools/testdata/avro");
  });
});
