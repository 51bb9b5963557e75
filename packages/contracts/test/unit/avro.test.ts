import assert from "node:assert/strict";
import { describe, it } from "node:test";
import avro from "avsc";
import { codecs, createCodec, crc64Avro, listSchemaFiles, loadSchema } from "@aiaudit/contracts";

describe("CRC-64-AVRO fingerprint", () => {
  // Known answers computed with the Apache Avro Python library (avro 1.12,
  // Schema.fingerprint("CRC-64-AVRO")), little-endian as in single-object encoding.
  const vectors: [string, string][] = [
    ['"null"', "8a8f25cce724dd63"],
    ['"int"', "8f5c393f1ad57572"],
    ['{"name":"R","type":"record","fields":[{"name":"a","type":"long"}]}', "9a89b5f44e448d92"],
  ];
  for (const [schema, expected] of vectors) {
    it(`fingerprints ${schema}`, () => assert.equal(crc64Avro(schema).toString("hex"), expected));
  }
});

describe("every schema in schemas/avro", () => {
  const files = listSchemaFiles();
  it("has schemas to test", () => assert.ok(files.length >= 2));
  for (const file of files) {
    it(`${file}: documents every field and round-trips random values`, () => {
      const schema = loadSchema(file);
      const codec = createCodec<unknown>(schema);
      const undocumented: string[] = [];
      const walk = (node: unknown): void => {
        if (Array.isArray(node)) return node.forEach(walk);
        if (node === null || typeof node !== "object") return;
        const rec = node as { type?: unknown; fields?: { name: string; doc?: string; type: unknown }[] };
        for (const field of rec.fields ?? []) {
          if (!field.doc) undocumented.push(field.name);
          walk(field.type);
        }
        if (typeof rec.type === "object") walk(rec.type);
      };
      walk(schema);
      assert.deepEqual(undocumented, [], `${file} fields without doc`);
      for (let i = 0; i < 50; i++) {
        const value = codec.type.random();
        const bytes = codec.encode(value);
        assert.deepEqual(bytes.subarray(0, 2), Buffer.from([0xc3, 0x01]));
        assert.equal(bytes.subarray(2, 10).toString("hex"), codec.fingerprint);
        assert.equal(codec.type.compare(codec.decode(bytes), value), 0);
      }
    });
  }
});

describe("single-object framing", () => {
  const value = {
    tenant: "t",
    connection: "c",
    stream: "s",
    cursor: null,
    last_snapshot_id: null,
    updated_at: 1,
  };
  it("rejects bytes without the C3 01 marker", () => {
    const bytes = codecs.cursor.encode(value);
    bytes[0] = 0;
    assert.throws(() => codecs.cursor.decode(bytes), { code: "ENCODING_INVALID" });
  });
  it("rejects a record written with another schema", () => {
    const bytes = codecs.cursor.encode(value);
    assert.throws(() => codecs.copilotSeatSnapshot.decode(bytes), /fingerprint/);
  });
  it("refuses to encode a value that does not match the schema", () => {
    assert.throws(() => codecs.cursor.encode({ ...value, updated_at: "soon" } as never), /updated_at/);
  });
  it("a BACKWARD-compatible reader (added field with default) reads old records", () => {
    const reader = avro.Type.forSchema({
      ...(loadSchema("cursor.avsc") as { fields: object[] }),
      fields: [
        ...(loadSchema("cursor.avsc") as { fields: object[] }).fields,
        { name: "added", type: "string", default: "x" },
      ],
    } as avro.Schema);
    const resolver = reader.createResolver(codecs.cursor.type);
    const body = codecs.cursor.encode(value).subarray(10);
    assert.equal((reader.fromBuffer(body, resolver) as { added: string }).added, "x");
  });
});
