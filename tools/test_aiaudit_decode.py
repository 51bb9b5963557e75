"""Tests of tools/aiaudit_decode.py, the reference decoder of aiaudit's Avro topics (docs/consuming-topics.md).

Fixed vectors: `tools/testdata/avro/<schema>.b64` are sample records of every schema encoded by the producer's
own codecs (packages/contracts), `<schema>.jsonl` what the decoder must print for them; both are written by
packages/contracts/test/unit/avro-vectors.test.ts, which fails when they are stale. So these tests need no
Kafka and no Node: known answers for the fingerprints (the Python `avro` library's differ, and the decoder
must not), every schema decoded through the function and the real command line, every input form, and every
rejection with its exit code. The decoder against a real broker and Kafka's console consumer is
packages/contracts/test/integration/avro-python.test.ts.

    python3 -m pytest -q tools/
"""

import base64
import datetime
import importlib.util
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

TOOLS = Path(__file__).resolve().parent
SCRIPT = TOOLS / "aiaudit_decode.py"
VECTORS = TOOLS / "testdata" / "avro"
SCHEMAS = TOOLS.parent / "schemas" / "avro"


def _load_decoder():
    """The script as a module, leaving no bytecode cache beside it."""
    spec = importlib.util.spec_from_file_location("aiaudit_decode", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


decoder = _load_decoder()
SCHEMA_FILES = sorted(p.name for p in SCHEMAS.glob("*.avsc"))


def vectors(schema_file):
    """(value bytes, expected output object) of one schema's fixed vectors."""
    stem = schema_file[: -len(".avsc")]
    values = (VECTORS / f"{stem}.b64").read_text(encoding="utf-8").splitlines()
    expected = (VECTORS / f"{stem}.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(values) == len(expected) >= 2
    return [(base64.b64decode(v, validate=True), json.loads(e)) for v, e in zip(values, expected)]


def all_vectors():
    return [pair for name in SCHEMA_FILES for pair in vectors(name)]


def kafka_escape(value):
    """What Kafka's `Bytes.toString()` prints (the console consumer with BytesDeserializer)."""
    return "".join(chr(b) if 0x20 <= b <= 0x7E and b != 0x5C else f"\\x{b:02X}" for b in value)


def run(args, stdin):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *args], input=stdin.encode("utf-8"), capture_output=True, timeout=60
    )


def frame(fingerprint, body=b""):
    return b"\xc3\x01" + fingerprint + body


# ---------------------------------------------------------------------------------------------------------
# Fingerprints.


def test_crc64_avro_known_answers():
    # The same known answers as packages/contracts/test/unit/avro.test.ts, bytes as the framing carries them.
    for canonical, expected in [
        ('"null"', "8a8f25cce724dd63"),
        ('"int"', "8f5c393f1ad57572"),
        ('{"name":"R","type":"record","fields":[{"name":"a","type":"long"}]}', "9a89b5f44e448d92"),
    ]:
        assert decoder.fingerprint(canonical, "CRC-64-AVRO") == expected


def test_every_schema_is_loaded_with_the_producers_fingerprint():
    schemas = decoder.load_schemas(SCHEMAS)
    assert sorted(w.file for w in schemas.values()) == SCHEMA_FILES
    for schema_file in SCHEMA_FILES:
        schema = json.loads((SCHEMAS / schema_file).read_text(encoding="utf-8"))
        for value, expected in vectors(schema_file):
            assert decoder.fingerprint_of(schema) == value[2:10]
            writer = schemas[value[2:10]]  # the fingerprint the TypeScript producer wrote
            assert writer.file == schema_file
            assert writer.name == expected["schema"]


def test_logical_types_are_stripped_from_the_canonical_form():
    schema = json.loads((SCHEMAS / "tenant.avsc").read_text(encoding="utf-8"))
    writer = decoder.WriterSchema(SCHEMAS / "tenant.avsc", schema)
    assert writer.canonical_form == (
        '{"name":"io.aiaudit.control.v1.Tenant","type":"record","fields":[{"name":"tenant","type":"string"},'
        '{"name":"display_name","type":["null","string"]},{"name":"created_at","type":"long"}]}'
    )
    assert writer.fingerprint.hex() == "d0ded209b5149d11"


def test_the_python_avro_librarys_fingerprint_is_not_ours():
    # The canonical form and fingerprint of tenant.avsc as Python's avro 1.12.2 computes them
    # (avro.schema.parse(...).canonical_form / .fingerprint("CRC-64-AVRO")): it keeps {"type":"long"}.
    avro_form = (
        '{"name":"io.aiaudit.control.v1.Tenant","type":"record","fields":[{"name":"tenant","type":"string"},'
        '{"name":"display_name","type":["null","string"]},{"name":"created_at","type":{"type":"long"}}]}'
    )
    avro_fingerprint = decoder.fingerprint(avro_form, "CRC-64-AVRO")
    assert avro_fingerprint == "fde507143cc9f7e7"
    value, _ = vectors("tenant.avsc")[0]
    with pytest.raises(decoder.DecodeError, match="unknown schema fingerprint fde507143cc9f7e7"):
        decoder.decode(frame(bytes.fromhex(avro_fingerprint), value[10:]))


# ---------------------------------------------------------------------------------------------------------
# Every schema, through the function and the command line.


@pytest.mark.parametrize("schema_file", SCHEMA_FILES)
def test_decodes_every_vector(schema_file):
    for value, expected in vectors(schema_file):
        name, record = decoder.decode(value)
        assert {"schema": name, "value": record} == expected


def test_command_line_decodes_every_vector():
    pairs = all_vectors()
    result = run([], "".join(base64.b64encode(v).decode() + "\n" for v, _ in pairs))
    assert result.returncode == 0, result.stderr.decode()
    assert result.stderr == b""
    lines = result.stdout.decode("utf-8").splitlines()
    assert [json.loads(line) for line in lines] == [expected for _, expected in pairs]


def test_every_input_form_gives_the_same_output():
    pairs = all_vectors()
    expected = [json.dumps(e, sort_keys=True) for _, e in pairs]
    for form, encode in [
        ("base64", lambda v: base64.b64encode(v).decode()),
        ("hex", lambda v: v.hex()),
        ("kafka", kafka_escape),
    ]:
        for input_format in (form, "auto"):
            out = io.StringIO()
            stdin = io.BytesIO("".join(encode(v) + "\n" for v, _ in pairs).encode("utf-8"))
            assert decoder.main(["--input", input_format], stdin=stdin, stdout=out, stderr=io.StringIO()) == 0
            got = [json.dumps(json.loads(line), sort_keys=True) for line in out.getvalue().splitlines()]
            assert got == expected, (form, input_format)


def test_kafka_escaped_form_round_trips_every_byte():
    every_byte = bytes(range(256))
    assert decoder.unescape_kafka(kafka_escape(every_byte)) == every_byte
    assert "\\x5C" in kafka_escape(b"\\") and "\n" not in kafka_escape(b"\n")


def test_keys_tombstones_and_blank_lines():
    value, expected = vectors("connection.avsc")[0]
    stdin = f"acme/github-org-acme-corp\t{kafka_escape(value)}\n\nacme/openai-org-q1w2\tnull\r\nnull\n"
    result = run([], stdin)
    assert result.returncode == 0, result.stderr.decode()
    assert [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()] == [
        {"key": "acme/github-org-acme-corp", **expected},
        {"key": "acme/openai-org-q1w2", "schema": None, "value": None},
        {"schema": None, "value": None},
    ]


def test_list_prints_every_fingerprint():
    result = run(["--list"], "")
    assert result.returncode == 0
    rows = [line.split("\t") for line in result.stdout.decode().splitlines()]
    assert sorted(r[2] for r in rows) == SCHEMA_FILES
    assert ["d0ded209b5149d11", "io.aiaudit.control.v1.Tenant", "tenant.avsc"] in rows


# ---------------------------------------------------------------------------------------------------------
# Timestamps.


def _millis(moment):
    return (moment - datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)) // datetime.timedelta(
        milliseconds=1
    )


def _same_but_times(plain, logical, found):
    """True when `logical` is `plain` with some epoch-ms longs as the same instants in datetimes."""
    if isinstance(logical, datetime.datetime):
        found.append(logical)
        return logical.tzinfo is not None and plain == _millis(logical)
    if isinstance(logical, dict):
        return logical.keys() == plain.keys() and all(_same_but_times(plain[k], logical[k], found) for k in plain)
    if isinstance(logical, list):
        return len(logical) == len(plain) and all(_same_but_times(p, q, found) for p, q in zip(plain, logical))
    return plain == logical


@pytest.mark.parametrize("schema_file", SCHEMA_FILES)
def test_rfc3339_mode_turns_exactly_the_timestamp_millis_fields_into_datetimes(schema_file):
    found = []
    for value, expected in vectors(schema_file):
        _, logical = decoder.decode(value, timestamps="rfc3339")
        assert _same_but_times(expected["value"], logical, found)
    assert found, f"{schema_file} has timestamp-millis fields"


def test_rfc3339_rendering_on_the_command_line():
    value, _ = vectors("tenant.avsc")[1]  # created_at -1: one millisecond before 1970
    value_late, _ = vectors("api-token.avsc")[0]  # revoked_at: the last millisecond of 9999
    stdin = base64.b64encode(value).decode() + "\n" + base64.b64encode(value_late).decode() + "\n"
    result = run(["--timestamps", "rfc3339"], stdin)
    assert result.returncode == 0, result.stderr.decode()
    tenant, token = (json.loads(line)["value"] for line in result.stdout.decode().splitlines())
    assert tenant["created_at"] == "1969-12-31T23:59:59.999Z"
    assert token["created_at"] == "2026-03-31T23:59:59.999Z"
    assert token["revoked_at"] == "9999-12-31T23:59:59.999Z"


# ---------------------------------------------------------------------------------------------------------
# Rejections.

GOOD, _ = vectors("cursor.avsc")[0]


@pytest.mark.parametrize(
    "value, reason",
    [
        (b"\x00\x01" + GOOD[2:], "starts with 00 01, not C3 01"),
        (b"{}", "starts with 7B 7D, not C3 01"),
        (b"", "starts with nothing"),
        (GOOD[:9], "not Avro single-object encoding"),
        (frame(b"\x01" * 8, GOOD[10:]), "unknown schema fingerprint 0101010101010101"),
        (GOOD[:-3], "the body is not a io.aiaudit.control.v1.StreamCursor record"),
        (GOOD + b"\x00\x00", "2 bytes left after the io.aiaudit.control.v1.StreamCursor record"),
    ],
)
def test_rejects_what_is_not_a_record_of_a_known_schema(value, reason):
    with pytest.raises(decoder.DecodeError, match=reason.replace("(", r"\(")):
        decoder.decode(value)


@pytest.mark.parametrize(
    "line, message",
    [
        ("AAECAwQFBgcICQ==", "line 2: not Avro single-object encoding: the value starts with 00 01"),
        (frame(bytes(8)).hex() + "00", "line 2: unknown schema fingerprint 0000000000000000"),
        ("wwE", "line 2: not base64"),
        ('{"a":1}', "line 2: not Avro single-object encoding: the value starts with 7B 22"),
        ("\\xC3\\x01\\xZZ", "line 2: not Kafka's escaped form"),
    ],
)
def test_command_line_stops_at_the_first_bad_value_with_exit_1(line, message):
    good = base64.b64encode(GOOD).decode()
    result = run([], f"{good}\n{line}\n{good}\n")
    assert result.returncode == 1
    assert message in result.stderr.decode()
    assert len(result.stdout.decode().splitlines()) == 1  # what came before was printed, nothing after


def test_keep_going_reports_every_bad_value_and_still_exits_1():
    good = base64.b64encode(GOOD).decode()
    result = run(["--keep-going"], f"AAAA\n{good}\n{frame(bytes(8)).hex()}\n{good}\n")
    assert result.returncode == 1
    errors = result.stderr.decode().splitlines()
    assert [e.split(":")[1].strip() for e in errors] == ["line 1", "line 3"]
    assert len(result.stdout.decode().splitlines()) == 2


def test_unusable_schema_folder_exits_2(tmp_path):
    result = run(["--schemas", str(tmp_path)], "")
    assert result.returncode == 2
    assert "no *.avsc schema files" in result.stderr.decode()
    (tmp_path / "a.avsc").write_text((SCHEMAS / "tenant.avsc").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "b.avsc").write_text((SCHEMAS / "tenant.avsc").read_text(encoding="utf-8"), encoding="utf-8")
    result = run(["--schemas", str(tmp_path)], "")
    assert result.returncode == 2
    assert "a.avsc and b.avsc have the same fingerprint" in result.stderr.decode()


def test_a_file_that_is_not_a_schema_exits_2(tmp_path):
    (tmp_path / "broken.avsc").write_text('{"type": "record", "name": "R", "fields": [{"name": "a"}]}')
    result = run(["--schemas", str(tmp_path)], "")
    assert result.returncode == 2
    assert "broken.avsc is not a usable Avro schema" in result.stderr.decode()


def test_a_copied_schema_folder_is_enough(tmp_path):
    (tmp_path / "tenant.avsc").write_text((SCHEMAS / "tenant.avsc").read_text(encoding="utf-8"), encoding="utf-8")
    tenant, _ = vectors("tenant.avsc")[0]
    cursor = base64.b64encode(GOOD).decode()
    result = run(["--schemas", str(tmp_path)], base64.b64encode(tenant).decode() + "\n" + cursor + "\n")
    assert result.returncode == 1
    assert json.loads(result.stdout.decode())["schema"] == "io.aiaudit.control.v1.Tenant"
    assert "line 2: unknown schema fingerprint a1f628c1d2a1b20e: none of the 1 schemas" in result.stderr.decode()
