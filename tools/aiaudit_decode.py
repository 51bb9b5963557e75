#!/usr/bin/env python3
"""aiaudit_decode: the reference decoder of aiaudit's Avro topics, for a SIEM engineer (docs/consuming-topics.md).

Every value on aiaudit's Avro topics is framed with Avro single-object encoding
(https://avro.apache.org/docs/1.12.0/specification/#single-object-encoding): the two bytes `C3 01`, the 8-byte
little-endian CRC-64-AVRO fingerprint of the writer schema's Parsing Canonical Form, then the Avro binary body.
The writer schemas are the `schemas/avro/*.avsc` files of the repository: this decoder loads them all, computes
each one's fingerprint as the producer does (`packages/contracts/src/avro.ts`), and decodes a value by looking
its fingerprint up. No schema registry, no Kafka client: Python 3 and fastavro only.

Python's `avro` library computes other fingerprints for these schemas: it keeps `{"type":"long"}` in the
Parsing Canonical Form of a `timestamp-millis` field, where the specification (and Java, avsc, fastavro) strip
it to `"long"`. Use fastavro, or check any other library against the table in docs/consuming-topics.md.

It reads one value per line on stdin and writes one JSON object per line:

    deploy/local/kafka/kafka-console-consumer.sh --bootstrap-server 127.0.0.1:19092 \\
        --topic aiaudit.copilot.audit-events.v1 --from-beginning --property print.key=true \\
      | python3 tools/aiaudit_decode.py

A line is base64, hex, or what Kafka's console consumer prints with
`--value-deserializer org.apache.kafka.common.serialization.BytesDeserializer` (printable ASCII as it is,
every other byte and the backslash as `\\xHH`); `null` is a tombstone. A line `KEY<TAB>VALUE` (the console
consumer's `print.key=true`) keeps its key. Output: `{"key": …, "schema": <full name>, "value": <record>}`,
`timestamp-millis` values as epoch milliseconds (what the producer wrote) or, with `--timestamps rfc3339`, as
RFC 3339 strings in UTC with milliseconds.

Exit codes: 0 every value decoded, 1 a value could not be decoded (the reason is printed), 2 unusable setup
(no fastavro, no schemas, bad arguments).
"""

import argparse
import base64
import binascii
import datetime
import decimal
import io
import json
import os
import re
import sys
import uuid
from pathlib import Path

try:
    from fastavro import parse_schema, schemaless_reader
    from fastavro.schema import fingerprint, to_parsing_canonical_form
except ImportError:  # pragma: no cover - depends on the machine
    print("aiaudit_decode: error: fastavro is needed: python3 -m pip install --user fastavro", file=sys.stderr)
    sys.exit(2)

EXIT_OK = 0
EXIT_UNDECODABLE = 1
EXIT_UNUSABLE = 2

MAGIC = b"\xc3\x01"
HEADER_BYTES = 10
DEFAULT_SCHEMA_DIR = Path(__file__).resolve().parent.parent / "schemas" / "avro"
INPUT_FORMATS = ("auto", "base64", "hex", "kafka")
TIMESTAMP_FORMATS = ("millis", "rfc3339")


class DecodeError(Exception):
    """A value that is not a record of one of the known schemas; the message says why."""


class Unusable(Exception):
    """The schemas cannot be loaded: a missing folder, a file that is not a schema, two files alike."""


class WriterSchema:
    """One `.avsc` file: its full name, fingerprint and the two parsed forms the decoder reads with."""

    def __init__(self, path, schema):
        self.file = path.name
        self.canonical_form = to_parsing_canonical_form(schema)
        canonical = json.loads(self.canonical_form)
        if not isinstance(canonical, dict) or canonical.get("type") != "record":
            raise ValueError("the top level is not a record")
        self.name = canonical["name"]  # the canonical form spells the full name
        # fastavro gives the fingerprint as hex of the bytes in the order the framing carries them.
        self.fingerprint = bytes.fromhex(fingerprint(self.canonical_form, "CRC-64-AVRO"))
        # The Parsing Canonical Form is exactly what the bytes need (no logicalType: longs stay epoch ms);
        # the whole schema keeps the logical types, which fastavro turns into datetimes.
        self.plain = parse_schema(canonical, named_schemas={})
        self.logical = parse_schema(schema, named_schemas={})


def fingerprint_of(schema):
    """CRC-64-AVRO fingerprint of a schema's Parsing Canonical Form, as the 8 bytes after `C3 01`."""
    return bytes.fromhex(fingerprint(to_parsing_canonical_form(schema), "CRC-64-AVRO"))


def load_schemas(directory=DEFAULT_SCHEMA_DIR):
    """Every `*.avsc` of `directory`, by fingerprint."""
    directory = Path(directory)
    files = sorted(directory.glob("*.avsc")) if directory.is_dir() else []
    if not files:
        raise Unusable(f"no *.avsc schema files in {directory}")
    schemas = {}
    for path in files:
        try:
            writer = WriterSchema(path, json.loads(path.read_text(encoding="utf-8")))
        except Exception as error:  # unreadable, not JSON, or fastavro's SchemaParseException
            raise Unusable(f"{path.name} is not a usable Avro schema: {error}") from error
        twin = schemas.get(writer.fingerprint)
        if twin is not None:
            raise Unusable(f"{twin.file} and {path.name} have the same fingerprint {writer.fingerprint.hex()}")
        schemas[writer.fingerprint] = writer
    return schemas


_default_schemas = None


def _schemas_or_default(schemas):
    global _default_schemas
    if schemas is not None:
        return schemas
    if _default_schemas is None:
        _default_schemas = load_schemas()
    return _default_schemas


def decode(value, schemas=None, timestamps="millis"):
    """Decodes one framed value: returns (full schema name, record) or raises DecodeError.

    `timestamps="millis"` leaves `timestamp-millis` fields as the epoch milliseconds on the wire; "rfc3339"
    returns them as timezone-aware datetimes (fastavro's logical types)."""
    schemas = _schemas_or_default(schemas)
    value = bytes(value)
    if len(value) < HEADER_BYTES or value[:2] != MAGIC:
        head = value[:2].hex(" ").upper() or "nothing"
        raise DecodeError(
            f"not Avro single-object encoding: the value starts with {head}, not C3 01 ({len(value)} bytes)"
        )
    writer = schemas.get(value[2:HEADER_BYTES])
    if writer is None:
        raise DecodeError(
            f"unknown schema fingerprint {value[2:HEADER_BYTES].hex()}: none of the {len(schemas)} schemas"
            " has it (a schema newer than these files, or a fingerprint computed another way)"
        )
    body = io.BytesIO(value[HEADER_BYTES:])
    try:
        record = schemaless_reader(body, writer.logical if timestamps == "rfc3339" else writer.plain, None)
    except Exception as error:  # fastavro raises EOFError, IndexError, UnicodeDecodeError, ValueError...
        raise DecodeError(f"the body is not a {writer.name} record: {type(error).__name__}: {error}") from error
    left = len(value) - HEADER_BYTES - body.tell()
    if left:
        raise DecodeError(f"{left} bytes left after the {writer.name} record")
    return writer.name, record


# ---------------------------------------------------------------------------------------------------------
# Input lines and output objects.

_HEX = re.compile(r"(?:[0-9a-fA-F]{2})+")
_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_ESCAPE = re.compile(r"\\x([0-9A-Fa-f]{2})")


def unescape_kafka(text):
    """The bytes behind Kafka's `Bytes.toString()` form: printable ASCII but `\\`, every other byte `\\xHH`."""
    out = bytearray()
    position = 0
    for match in _ESCAPE.finditer(text):
        out += _printable(text[position : match.start()])
        out.append(int(match.group(1), 16))
        position = match.end()
    out += _printable(text[position:])
    return bytes(out)


def _printable(text):
    if any(not (" " <= ch <= "~") or ch == "\\" for ch in text):
        raise DecodeError("not Kafka's escaped form: a character other than printable ASCII or \\xHH")
    return text.encode("ascii")


def parse_line(line, input_format="auto"):
    """A line of input as (key or None, value bytes or None for a tombstone)."""
    key = None
    if "\t" in line:
        key, line = line.rsplit("\t", 1)
    if line == "null":
        return key, None
    if input_format == "auto":
        # A framed value in Kafka's form starts with \xC3\x01; text outside the base64 alphabet (a JSON
        # dead letter, say) is taken as Kafka's form too, so that the error names its first bytes.
        if line.startswith("\\x") or not _BASE64.fullmatch(line):
            input_format = "kafka"
        else:
            input_format = "hex" if _HEX.fullmatch(line) else "base64"
    try:
        if input_format == "kafka":
            return key, unescape_kafka(line)
        if input_format == "hex":
            return key, bytes.fromhex(line)
        return key, base64.b64decode(line, validate=True)
    except (ValueError, binascii.Error) as error:
        raise DecodeError(f"not {input_format}: {error}") from error


def _rfc3339(moment):
    utc = moment.astimezone(datetime.timezone.utc)
    return (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d}"
        f".{utc.microsecond // 1000:03d}Z"
    )


def _json_default(value):
    """What JSON has no type for: logical types (rfc3339 mode) and bytes (base64)."""
    if isinstance(value, datetime.datetime):
        return _rfc3339(value)
    if isinstance(value, (datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (bytes, bytearray)):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"cannot render {type(value).__name__} as JSON")


def render(key, name, record):
    """One output line (without the newline)."""
    out = {"key": key, "schema": name, "value": record} if key is not None else {"schema": name, "value": record}
    return json.dumps(out, ensure_ascii=False, separators=(",", ":"), default=_json_default)


def decode_line(line, schemas=None, input_format="auto", timestamps="millis"):
    """One input line as its output line, or None for a blank line."""
    line = line.rstrip("\r\n")
    if not line.strip():
        return None
    key, value = parse_line(line, input_format)
    if value is None:
        return render(key, None, None)
    name, record = decode(value, schemas, timestamps)
    return render(key, name, record)


def main(argv=None, stdin=None, stdout=None, stderr=None):
    stdin = stdin if stdin is not None else sys.stdin.buffer
    stdout = stdout if stdout is not None else sys.stdout
    stderr = stderr if stderr is not None else sys.stderr
    parser = argparse.ArgumentParser(
        prog="aiaudit_decode.py",
        description="Decode aiaudit's Avro topic values (docs/consuming-topics.md): one value per line on "
        "stdin, one JSON object per line on stdout.",
    )
    parser.add_argument(
        "--input", choices=INPUT_FORMATS, default="auto",
        help="how values are written: base64, hex, or kafka (the console consumer's BytesDeserializer form); "
        "auto tells them apart (default)",
    )
    parser.add_argument(
        "--timestamps", choices=TIMESTAMP_FORMATS, default="millis",
        help="timestamp-millis fields as epoch milliseconds (default, as written) or RFC 3339 strings in UTC",
    )
    parser.add_argument("--schemas", default=str(DEFAULT_SCHEMA_DIR), metavar="DIR", help="the *.avsc files")
    parser.add_argument(
        "--keep-going", action="store_true",
        help="report a value that cannot be decoded and go on (the exit code is still 1)",
    )
    parser.add_argument("--list", action="store_true", help="print each schema's fingerprint, name and file")
    args = parser.parse_args(argv)
    try:
        schemas = load_schemas(args.schemas)
    except Unusable as error:
        print(f"aiaudit_decode: error: {error}", file=stderr)
        return EXIT_UNUSABLE
    if args.list:
        for writer in sorted(schemas.values(), key=lambda w: w.name):
            print(f"{writer.fingerprint.hex()}\t{writer.name}\t{writer.file}", file=stdout)
        return EXIT_OK
    failed = 0
    for number, raw in enumerate(stdin, start=1):
        try:
            text = raw.decode("utf-8") if isinstance(raw, bytes) else raw
            out = decode_line(text, schemas, args.input, args.timestamps)
        except (DecodeError, UnicodeDecodeError) as error:
            failed += 1
            print(f"aiaudit_decode: line {number}: {error}", file=stderr)
            if not args.keep_going:
                return EXIT_UNDECODABLE
            continue
        if out is not None:
            print(out, file=stdout, flush=True)
    return EXIT_UNDECODABLE if failed else EXIT_OK


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        # The reader went away (| head): https://docs.python.org/3/library/signal.html#note-on-sigpipe
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_UNDECODABLE)
