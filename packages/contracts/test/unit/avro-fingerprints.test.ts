/**
 * docs/consuming-topics.md's fingerprint → schema table is what scripts/avro-fingerprints.ts generates
 * from `schemas/avro` with the producer's codecs, and names the topics the pipeline really writes each
 * schema to. Regenerate the table with `node scripts/avro-fingerprints.ts --write`.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, it } from "node:test";
import {
  codecs,
  crc64Avro,
  listSchemaFiles,
  loadSchema,
  nonAvroTopics,
  topicNames,
} from "@aiaudit/contracts";
import {
  BEGIN_MARKER,
  DOC,
  END_MARKER,
  fingerprintRows,
  fingerprintTable,
  withTable,
} from "../../../../scripts/avro-fingerprints.ts";
import { sampleGroups } from "../fixtures/avro-samples.ts";

/** A Markdown table's cells, row by row, without the padding Prettier adds. */
const cells = (table: string) =>
  table
    .trim()
    .split("\n")
    .map((line) =>
      line
        .split("|")
        .slice(1, -1)
        .map((c) => c.trim()),
    );

/** The text between the markers. */
const section = (text: string) =>
  text.slice(text.indexOf(BEGIN_MARKER) + BEGIN_MARKER.length, text.indexOf(END_MARKER));

describe("fingerprint table of docs/consuming-topics.md", () => {
  const doc = readFileSync(DOC, "utf8");

  it("the doc holds the generated table", () => {
    const begin = doc.indexOf(BEGIN_MARKER);
    const end = doc.indexOf(END_MARKER);
    assert.ok(begin >= 0 && end > begin, "the doc keeps both markers");
    assert.deepEqual(
      cells(section(doc)),
      cells(fingerprintTable()),
      "docs/consuming-topics.md is stale: run node scripts/avro-fingerprints.ts --write",
    );
  });

  it("--write replaces the table and nothing else", () => {
    const rewritten = withTable(doc.replace(section(doc), "\n| stale |\n"));
    assert.deepEqual(cells(section(rewritten)), cells(fingerprintTable()));
    assert.equal(
      rewritten.slice(0, rewritten.indexOf(BEGIN_MARKER)),
      doc.slice(0, doc.indexOf(BEGIN_MARKER)),
    );
    assert.equal(rewritten.slice(rewritten.indexOf(END_MARKER)), doc.slice(doc.indexOf(END_MARKER)));
  });

  it("has a row per schema file, with the fingerprint the producer frames values with", () => {
    const rows = fingerprintRows();
    assert.deepEqual(
      rows.map((r) => r.file),
      listSchemaFiles(),
    );
    const byName = new Map(Object.values(codecs).map((c) => [c.name, c.fingerprint]));
    for (const row of rows) {
      assert.equal(row.fingerprint, byName.get(row.name), `${row.file}: a codec in records.ts uses it`);
      assert.match(row.fingerprint, /^[0-9a-f]{16}$/);
    }
    assert.equal(new Set(rows.map((r) => r.fingerprint)).size, rows.length, "fingerprints are unique");
  });

  it("a fingerprint is CRC-64-AVRO of the Parsing Canonical Form, where timestamp-millis is a plain long", () => {
    const tenant = fingerprintRows().find((r) => r.file === "tenant.avsc");
    const canonical =
      '{"name":"io.aiaudit.control.v1.Tenant","type":"record","fields":[{"name":"tenant","type":"string"},' +
      '{"name":"display_name","type":["null","string"]},{"name":"created_at","type":"long"}]}';
    assert.equal(tenant?.fingerprint, crc64Avro(canonical).toString("hex"));
    assert.equal(tenant.fingerprint, "d0ded209b5149d11");
    // The doc's caveat: Python's avro 1.12.2 keeps {"type":"long"} and so gets another fingerprint.
    assert.equal(
      crc64Avro(
        canonical.replace('"created_at","type":"long"', '"created_at","type":{"type":"long"}'),
      ).toString("hex"),
      "fde507143cc9f7e7",
    );
    assert.ok(JSON.stringify(loadSchema("tenant.avsc")).includes("timestamp-millis"));
  });

  it("names the topics the samples, keyed as the pipeline keys them, are published to", () => {
    const names = topicNames("<prefix>");
    const rows = new Map(fingerprintRows().map((r) => [r.file, r.topics]));
    for (const group of sampleGroups) {
      const topics = new Set(group.samples.map((s) => s.topic(names)));
      assert.deepEqual([...topics].sort(), [...(rows.get(group.file) ?? [])].sort(), group.file);
    }
    const covered = new Set([...rows.values()].flat());
    const avroTopics = Object.values(names).filter((t) => !nonAvroTopics(names).includes(t));
    assert.deepEqual(
      [...covered].sort(),
      avroTopics.sort(),
      "every topic but the non-Avro ones carries Avro",
    );
  });
});
