/**
 * Avro values framed with Avro single-object encoding (https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding):
 * `C3 01`, the 8-byte little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing
 * Canonical Form, then the binary body. Any consumer resolves the writer schema from
 * `schemas/avro/` by fingerprint, without a registry.
 */
import { readFileSync, readdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import avro from "avsc";
import { AiauditError, ErrorCodes } from "@aiaudit/errors";

const MAGIC = Buffer.from([0xc3, 0x01]);
const HEADER_BYTES = 10;

const EMPTY = 0xc15d213aa4d7a795n;
const MASK64 = (1n << 64n) - 1n;
const TABLE: bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let j = 0; j < 8; j++) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK64);
  return fp;
});

/** CRC-64-AVRO (Rabin) fingerprint of `text`, as the 8 little-endian bytes the framing uses. */
export function crc64Avro(text: string): Buffer {
  let fp = EMPTY;
  for (const byte of Buffer.from(text, "utf8")) {
    fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] as bigint);
  }
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(fp);
  return out;
}

export interface AvroCodec<T> {
  /** Full name of the record, e.g. io.aiaudit.copilot.v1.CopilotSeatSnapshotRecord. */
  readonly name: string;
  /** Fingerprint of the Parsing Canonical Form, hex. */
  readonly fingerprint: string;
  readonly type: avro.Type;
  encode(value: T): Buffer;
  decode(buffer: Buffer): T;
}

export function createCodec<T>(schema: object): AvroCodec<T> {
  const type = avro.Type.forSchema(schema as avro.Schema);
  const canonical = JSON.stringify(type.schema());
  const fingerprint = crc64Avro(canonical);
  const header = Buffer.concat([MAGIC, fingerprint]);
  const name = type.name ?? "anonymous";
  return {
    name,
    fingerprint: fingerprint.toString("hex"),
    type,
    encode(value) {
      let body: Buffer;
      try {
        body = type.toBuffer(value);
      } catch (cause) {
        // Only on failure: walk the value again to say which fields are wrong.
        const problems: string[] = [];
        type.isValid(value, { errorHook: (path) => problems.push(path.join(".")) });
        throw new AiauditError(
          ErrorCodes.ENCODING_INVALID,
          `value does not match ${name} at ${problems.join(", ") || "(value)"}`,
          { cause },
        );
      }
      return Buffer.concat([header, body]);
    },
    decode(buffer) {
      if (buffer.length < HEADER_BYTES || buffer[0] !== 0xc3 || buffer[1] !== 0x01) {
        throw new AiauditError(ErrorCodes.ENCODING_INVALID, `not Avro single-object encoded (${name})`);
      }
      if (!buffer.subarray(2, HEADER_BYTES).equals(fingerprint)) {
        throw new AiauditError(
          ErrorCodes.ENCODING_INVALID,
          `schema fingerprint ${buffer.subarray(2, HEADER_BYTES).toString("hex")} is not ${name} (${fingerprint.toString("hex")})`,
        );
      }
      return type.fromBuffer(buffer.subarray(HEADER_BYTES)) as T;
    },
  };
}

/** `schemas/avro` at the repository root, the source of truth for value schemas. */
export const AVRO_SCHEMA_DIR = fileURLToPath(new URL("../../../schemas/avro/", import.meta.url));

export function loadSchema(file: string): object {
  return JSON.parse(readFileSync(new URL(file, `file://${AVRO_SCHEMA_DIR}`), "utf8")) as object;
}

export function listSchemaFiles(): string[] {
  return readdirSync(AVRO_SCHEMA_DIR)
    .filter((f) => f.endsWith(".avsc"))
    .sort();
}
