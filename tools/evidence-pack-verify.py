#!/usr/bin/env python3
"""evidence-pack-verify: the auditor's verifier for aiaudit evidence packs.

An auditor receives `pack-<sequence>.tar.gz` from the company and checks it with this script, which needs
nothing but Python 3's standard library: nothing to install, nothing to trust but this file and the public
key the customer handed over (never the one inside the pack). The pack format and every rule checked here
are in docs/evidence-pack.md ("Verifying").

The archive is read as a stream and never extracted: each tar header is checked (regular file, plain
name, expected position, size equal to what the signed manifest says) before any of its data is read, and
data is hashed in chunks, so a forged or bomb-like archive is rejected without filling memory or disk.
Ed25519 (RFC 8032) is implemented here in pure Python, following the reference arithmetic of RFC 8032 §6.

    python3 tools/evidence-pack-verify.py pack-7.tar.gz --expected-pubkey KEY [--previous pack-6.tar.gz] [--json]

Exit codes: 0 valid, 1 invalid (the reason is printed), 2 unusable input.
"""

import argparse
import base64
import binascii
import hashlib
import json
import os
import re
import sys
import zlib
from datetime import datetime

EXIT_VALID = 0
EXIT_INVALID = 1
EXIT_UNUSABLE = 2


class Invalid(Exception):
    """The pack breaks a rule of docs/evidence-pack.md; the message says which."""


class Unusable(Exception):
    """The input cannot be used at all: a file that cannot be read, a key that cannot be parsed."""


# ---------------------------------------------------------------------------------------------------------
# Ed25519 verification (RFC 8032 §5.1.7), with the reference arithmetic of RFC 8032 §6: points in extended
# coordinates (X, Y, Z, T) with x = X/Z, y = Y/Z, x*y = T/Z.

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493  # the group order ("q" in RFC 8032 §6)
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def point_add(p1, p2):
    """Adds two points (the unified formula also doubles)."""
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c = 2 * p1[3] * p2[3] * D % P
    d = 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def point_mul(scalar, point):
    """[scalar]point by double-and-add."""
    result = IDENTITY
    while scalar > 0:
        if scalar & 1:
            result = point_add(result, point)
        point = point_add(point, point)
        scalar >>= 1
    return result


def point_equal(p1, p2):
    """x1/z1 == x2/z2 and y1/z1 == y2/z2, without inversions."""
    if (p1[0] * p2[2] - p2[0] * p1[2]) % P != 0:
        return False
    return (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0


def recover_x(y, sign):
    """The x coordinate for y with the given low bit, or None when there is none (or y is not canonical)."""
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def point_decompress(encoded):
    """Decodes a 32-byte point, or None for an invalid or non-canonical encoding."""
    if len(encoded) != 32:
        return None
    y = int.from_bytes(encoded, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = recover_x(y, sign)
    if x is None:
        return None
    return (x, y, 1, x * y % P)


_G_Y = 4 * pow(5, P - 2, P) % P
_G_X = recover_x(_G_Y, 0)
G = (_G_X, _G_Y, 1, _G_X * _G_Y % P)  # the base point B


def ed25519_verify(public_key, message, signature):
    """True when `signature` is a valid Ed25519 signature of `message` by `public_key` (cofactorless check)."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a = point_decompress(public_key)
    if a is None:
        return False
    r_bytes = signature[:32]
    r = point_decompress(r_bytes)
    if r is None:
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(r_bytes + public_key + message).digest(), "little") % L
    return point_equal(point_mul(s, G), point_add(r, point_mul(k, a)))


# ---------------------------------------------------------------------------------------------------------
# The expected public key, as the auditor gives it: base64 or hex of the 32 raw bytes, or a PEM file.

SPKI_ED25519_PREFIX = bytes.fromhex("302a300506032b6570032100")
_PEM_RE = re.compile(rb"-----BEGIN PUBLIC KEY-----([A-Za-z0-9+/=\s]*)-----END PUBLIC KEY-----")


def _key_from_text(text):
    """32 key bytes from hex or base64 (standard or URL-safe, padding optional), or None."""
    text = text.strip()
    if re.fullmatch(r"[0-9a-fA-F]{64}", text):
        return bytes.fromhex(text)
    if not re.fullmatch(r"[A-Za-z0-9+/_-]{43}=?", text):
        return None
    standard = text.replace("-", "+").replace("_", "/").rstrip("=") + "="
    try:
        raw = base64.b64decode(standard, validate=True)
    except binascii.Error:
        return None
    return raw if len(raw) == 32 else None


def _key_from_pem(content):
    match = _PEM_RE.search(content)
    if match is None:
        raise Unusable("the key file holds no '-----BEGIN PUBLIC KEY-----' block")
    try:
        der = base64.b64decode(b"".join(match.group(1).split()), validate=True)
    except binascii.Error as error:
        raise Unusable(f"the PEM public key is not valid base64 ({error})") from error
    if len(der) != 44 or not der.startswith(SPKI_ED25519_PREFIX):
        raise Unusable("the PEM public key is not an Ed25519 SubjectPublicKeyInfo")
    return der[len(SPKI_ED25519_PREFIX):]


def parse_public_key(argument):
    """The expected key's 32 bytes from --expected-pubkey (base64, hex, or a path to a PEM file)."""
    if os.path.isfile(argument):
        try:
            with open(argument, "rb") as handle:
                content = handle.read(64 * 1024)
        except OSError as error:
            raise Unusable(f"cannot read the key file {argument!r}: {error.strerror}") from error
        if b"-----BEGIN" in content:
            key = _key_from_pem(content)
        else:
            key = _key_from_text(content.decode("ascii", "replace"))
    else:
        key = _key_from_text(argument)
    if key is None:
        raise Unusable("--expected-pubkey is neither an existing PEM file nor base64/hex of 32 bytes")
    if point_decompress(key) is None:
        raise Unusable("--expected-pubkey is not a valid Ed25519 public key (not a curve point)")
    return key


# ---------------------------------------------------------------------------------------------------------
# Bounded reading: a single-member gzip stream inflated on demand, never more than a chunk ahead.

CHUNK = 64 * 1024
MAX_TRAILER = 1024 * 1024  # zero padding accepted after the tar end-of-archive marker


class GzipStream:
    """Inflates a gzip file as it is read; zlib checks the trailer (CRC-32 and length) at the end."""

    def __init__(self, raw):
        self._raw = raw
        self._inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._buffer = bytearray()
        self._check_header()

    def _read_raw(self, size):
        try:
            return self._raw.read(size)
        except OSError as error:
            raise Unusable(f"cannot read the pack: {error.strerror}") from error

    def _check_header(self):
        """The fixed part of the gzip header: deflate, no flags (no file name), modification time 0."""
        header = self._read_raw(10)
        if len(header) < 10 or header[:2] != b"\x1f\x8b":
            raise Invalid("not a gzip stream")
        if header[2] != 8:
            raise Invalid("gzip stream: compression method is not deflate")
        if header[3] != 0:
            raise Invalid("gzip header has flags set (a file name, comment or extra field): the pack must have none")
        if header[4:8] != b"\0\0\0\0":
            raise Invalid("gzip header modification time is not 0")
        self._feed(header)

    def _feed(self, data):
        try:
            self._buffer += self._inflater.decompress(data, CHUNK)
        except zlib.error as error:
            raise Invalid(f"corrupt gzip stream ({error})") from error

    def _inflate_more(self):
        """Adds some output to the buffer; False once the gzip stream has ended."""
        if self._inflater.eof:
            return False
        before = len(self._buffer)
        tail = self._inflater.unconsumed_tail
        data = tail if tail else self._read_raw(CHUNK)
        self._feed(data)
        if not data and len(self._buffer) == before and not self._inflater.eof:
            raise Invalid("truncated gzip stream")
        return True

    def read(self, size):
        """Up to `size` bytes; fewer only where the gzip stream ends."""
        while len(self._buffer) < size and self._inflate_more():
            pass
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def read_exact(self, size, what):
        data = self.read(size)
        if len(data) < size:
            raise Invalid(f"tar archive truncated in {what}")
        return data

    def finish(self):
        """Reads the rest: only zero padding (bounded) may follow the archive, nothing may follow the gzip."""
        padding = 0
        while True:
            data = self.read(CHUNK)
            if not data:
                break
            if data.count(0) != len(data):
                raise Invalid("data after the tar end-of-archive marker")
            padding += len(data)
            if padding > MAX_TRAILER:
                raise Invalid("more than 1 MiB of padding after the tar end-of-archive marker")
        if self._inflater.unused_data or self._read_raw(1):
            raise Invalid("data after the end of the gzip stream")


# ---------------------------------------------------------------------------------------------------------
# A POSIX ustar reader: headers only, the data is read by the caller through the same stream.

BLOCK = 512
_ENTRY_KINDS = {
    b"1": "a hard link",
    b"2": "a symbolic link",
    b"3": "a character device",
    b"4": "a block device",
    b"5": "a directory",
    b"6": "a FIFO",
    b"7": "a contiguous file",
    b"x": "a pax extended header",
    b"g": "a pax global header",
    b"L": "a GNU long name",
    b"K": "a GNU long link name",
}


class TarEntry:
    """One ustar header, parsed."""

    def __init__(self, name, kind, size, mode, uid, gid, mtime, uname, gname, linkname):
        self.name, self.kind, self.size, self.linkname = name, kind, size, linkname
        self.mode, self.uid, self.gid, self.mtime, self.uname, self.gname = mode, uid, gid, mtime, uname, gname


def _tar_number(field, what):
    if field[:1] == b"\x80":  # base-256 (GNU), for sizes beyond the octal field
        return int.from_bytes(field[1:], "big")
    text = field.split(b"\0", 1)[0].strip(b" ")
    if not re.fullmatch(rb"[0-7]+", text):
        raise Invalid(f"tar header: bad {what} field")
    return int(text, 8)


def _tar_text(field, what):
    try:
        return field.split(b"\0", 1)[0].decode("utf-8")
    except UnicodeDecodeError as error:
        raise Invalid(f"tar header: {what} is not UTF-8") from error


def _parse_header(block):
    """The entry, or None for an all-zero block (the end-of-archive marker)."""
    if block.count(0) == BLOCK:
        return None
    checksum = sum(block[:148]) + 8 * 32 + sum(block[156:])
    if _tar_number(block[148:156], "checksum") != checksum:
        raise Invalid("tar header checksum mismatch")
    if block[257:263] != b"ustar\0" or block[263:265] != b"00":
        raise Invalid("not a POSIX ustar archive (bad header magic)")
    name = _tar_text(block[0:100], "entry name")
    prefix = _tar_text(block[345:500], "entry name prefix")
    if prefix:
        name = prefix + "/" + name
    return TarEntry(
        name=name,
        kind=block[156:157],
        size=_tar_number(block[124:136], "size"),
        mode=_tar_number(block[100:108], "mode"),
        uid=_tar_number(block[108:116], "uid"),
        gid=_tar_number(block[116:124], "gid"),
        mtime=_tar_number(block[136:148], "mtime"),
        uname=_tar_text(block[265:297], "owner name"),
        gname=_tar_text(block[297:329], "group name"),
        linkname=_tar_text(block[157:257], "link name"),
    )


def plain_name_problem(name):
    """Why `name` is not a plain top-level file name, or None."""
    if not name:
        return "an empty name"
    if name.startswith("/"):
        return "an absolute name"
    if ".." in re.split(r"[/\\]", name):
        return "a name with a '..' component"
    if "/" in name or "\\" in name:
        return "a name with a path separator"
    if name == ".":
        return "the name '.'"
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        return "a name with a control character"
    return None


def _check_entry(entry):
    """Rule 2 and the layout's header fields, checked before reading any data of the entry."""
    if entry.kind not in (b"0", b"\0"):
        kind = _ENTRY_KINDS.get(entry.kind, f"of type {entry.kind!r}")
        raise Invalid(f"entry {entry.name!r} is not a regular file: it is {kind}")
    problem = plain_name_problem(entry.name)
    if problem:
        raise Invalid(f"entry {entry.name!r} has {problem}")
    if entry.linkname:
        raise Invalid(f"entry {entry.name!r} is a regular file with a link name")
    if entry.mode != 0o644:
        raise Invalid(f"entry {entry.name!r} has mode {entry.mode:o}, not 644")
    if entry.uid or entry.gid or entry.uname or entry.gname:
        raise Invalid(f"entry {entry.name!r} has an owner or group other than 0 with empty names")
    if entry.mtime:
        raise Invalid(f"entry {entry.name!r} has a modification time other than 0")


class TarReader:
    """Walks the archive entry by entry; the caller reads each entry's data before asking for the next."""

    def __init__(self, stream):
        self._stream = stream
        self._seen = set()

    def next_entry(self, known):
        """The next entry, checked (type, name, no duplicate, in `known` when given); None at the end."""
        entry = _parse_header(self._stream.read_exact(BLOCK, "a tar header (no end-of-archive marker)"))
        if entry is None:
            return None
        _check_entry(entry)
        if entry.name in self._seen:
            raise Invalid(f"duplicate entry {entry.name!r}")
        if known is not None and entry.name not in known:
            raise Invalid(f"unexpected entry {entry.name!r}: not manifest.json, manifest.sig or in manifest.files")
        self._seen.add(entry.name)
        return entry

    def expect(self, name, known):
        """The next entry, which must be `name`."""
        entry = self.next_entry(known)
        if entry is None:
            raise Invalid(f"missing entry {name!r}")
        if entry.name != name:
            raise Invalid(
                f"entry order: expected {name!r} next, found {entry.name!r} (an entry is missing or out of order)"
            )
        return entry

    def read_data(self, entry):
        """The whole data of a small entry (the caller has bounded its size)."""
        data = self._stream.read_exact(entry.size, f"entry {entry.name!r}")
        self.skip_padding(entry)
        return data

    def read_chunks(self, entry):
        """The data of an entry in chunks of at most CHUNK bytes."""
        remaining = entry.size
        while remaining:
            chunk = self._stream.read_exact(min(CHUNK, remaining), f"entry {entry.name!r}")
            remaining -= len(chunk)
            yield chunk
        self.skip_padding(entry)

    def skip_padding(self, entry):
        padding = self._stream.read_exact(-entry.size % BLOCK, f"the padding of entry {entry.name!r}")
        if padding.count(0) != len(padding):
            raise Invalid(f"entry {entry.name!r}: data hidden in the padding after its end")

    def finish(self, known):
        """After the last expected entry: the end-of-archive marker, then only zero padding."""
        entry = self.next_entry(known)
        if entry is not None:
            raise Invalid(f"unexpected entry {entry.name!r} after the last file of manifest.files")
        if self._stream.read_exact(BLOCK, "the end-of-archive marker").count(0) != BLOCK:
            raise Invalid("data after the first block of the tar end-of-archive marker")
        self._stream.finish()


# ---------------------------------------------------------------------------------------------------------
# manifest.json: canonical JSON, then the schema of docs/evidence-pack.md.

MAX_MANIFEST_BYTES = 1024 * 1024
SIGNATURE_BYTES = 64
SUMS_NAME = "SHA256SUMS"
MODULES = ("copilot", "openai_admin")
MAX_INTEGER = 2**53 - 1  # the largest integer every JSON reader (JavaScript's included) holds exactly
MANIFEST_FIELDS = {
    "schema_version", "module", "pack_id", "tenant", "orgs", "sequence", "period_start", "period_end",
    "files", "signing_key", "previous", "pseudonymization", "producer",
}
_HEX64 = re.compile(r"[0-9a-f]{64}")
_TIMESTAMP = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def canonical_json(value):
    """The canonical bytes of a JSON value: sorted keys, no whitespace, UTF-8, nothing escaped needlessly."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _reject_float(text):
    raise Invalid(f"manifest.json has a non-integer number ({text[:20]})")


def _reject_constant(text):
    raise Invalid(f"manifest.json has {text}, which is not JSON")


def _unique_keys(pairs):
    keys = [key for key, _ in pairs]
    if len(set(keys)) != len(keys):
        raise Invalid("manifest.json has a duplicate object key")
    return dict(pairs)


def parse_manifest(raw):
    """The manifest object, after checking that `raw` is its canonical encoding."""
    try:
        text = raw.decode("utf-8")
        value = json.loads(
            text, parse_float=_reject_float, parse_constant=_reject_constant, object_pairs_hook=_unique_keys
        )
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise Invalid(f"manifest.json is not valid UTF-8 JSON ({error})") from error
    try:
        canonical = canonical_json(value)
    except (UnicodeEncodeError, RecursionError) as error:
        raise Invalid("manifest.json is not canonical JSON (unpaired surrogate)") from error
    if canonical != raw:
        raise Invalid("manifest.json is not canonical JSON (sorted keys, no whitespace, minimal escaping)")
    if not isinstance(value, dict):
        raise Invalid("manifest.json is not a JSON object")
    check_manifest_schema(value)
    return value


def _fields(value, fields, where):
    if not isinstance(value, dict):
        raise Invalid(f"manifest: {where} must be an object")
    missing, extra = fields - value.keys(), value.keys() - fields
    if missing or extra:
        raise Invalid(
            f"manifest: {where} must have exactly the fields {sorted(fields)}"
            f" (missing {sorted(missing)}, unexpected {sorted(extra)})"
        )


def _string(value, where):
    if not isinstance(value, str) or not value:
        raise Invalid(f"manifest: {where} must be a non-empty string")
    return value


def _integer(value, where, minimum):
    if type(value) is not int or not minimum <= value <= MAX_INTEGER:
        raise Invalid(f"manifest: {where} must be an integer from {minimum} to 2^53 - 1")
    return value


def _hex64(value, where):
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise Invalid(f"manifest: {where} must be 64 lowercase hex digits")
    return value


def _timestamp(value, where):
    if not isinstance(value, str) or not _TIMESTAMP.fullmatch(value):
        raise Invalid(f"manifest: {where} must be an RFC 3339 UTC timestamp with milliseconds")
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError as error:
        raise Invalid(f"manifest: {where} is not a real date and time") from error
    return value


def _sorted_strictly(items, where):
    if any(a >= b for a, b in zip(items, items[1:])):
        raise Invalid(f"manifest: {where} must be sorted by code point, without duplicates")


def _check_files(files):
    if not isinstance(files, list):
        raise Invalid("manifest: files must be an array")
    for index, item in enumerate(files):
        where = f"files[{index}]"
        _fields(item, {"name", "sha256", "bytes", "rows"}, where)
        name = _string(item["name"], f"{where}.name")
        if plain_name_problem(name) or name in ("manifest.json", "manifest.sig"):
            raise Invalid(f"manifest: {where}.name {name!r} is not an allowed file name")
        _hex64(item["sha256"], f"{where}.sha256")
        _integer(item["bytes"], f"{where}.bytes", 0)
        if name.endswith(".jsonl"):
            _integer(item["rows"], f"{where}.rows", 0)
        elif item["rows"] is not None:
            raise Invalid(f"manifest: {where}.rows must be null for {name!r} (not a .jsonl file)")
    names = [item["name"] for item in files]
    _sorted_strictly(names, "files (by name)")
    if SUMS_NAME not in names:
        raise Invalid(f"manifest: files must list {SUMS_NAME}")


def _check_signing_key(signing_key):
    _fields(signing_key, {"alg", "key_id", "public_key"}, "signing_key")
    if signing_key["alg"] != "Ed25519":
        raise Invalid("manifest: signing_key.alg must be 'Ed25519'")
    encoded = _string(signing_key["public_key"], "signing_key.public_key")
    try:
        key = base64.b64decode(encoded, validate=True)
    except binascii.Error as error:
        raise Invalid("manifest: signing_key.public_key is not base64") from error
    if len(key) != 32 or base64.b64encode(key).decode("ascii") != encoded:
        raise Invalid("manifest: signing_key.public_key must be the canonical base64 of 32 bytes")
    if _hex64(signing_key["key_id"], "signing_key.key_id") != hashlib.sha256(key).hexdigest():
        raise Invalid("manifest: signing_key.key_id is not the sha256 of signing_key.public_key")


def check_manifest_schema(manifest):
    """The fields and types of docs/evidence-pack.md's manifest table."""
    _fields(manifest, MANIFEST_FIELDS, "manifest.json")
    if type(manifest["schema_version"]) is not int or manifest["schema_version"] != 2:
        raise Invalid("manifest: schema_version must be 2")
    if manifest["module"] not in MODULES:
        raise Invalid(f"manifest: module must be one of {list(MODULES)}")
    _string(manifest["pack_id"], "pack_id")
    _string(manifest["tenant"], "tenant")
    orgs = manifest["orgs"]
    if not isinstance(orgs, list):
        raise Invalid("manifest: orgs must be an array")
    if not all(isinstance(org, str) for org in orgs):
        raise Invalid("manifest: orgs must be an array of strings")
    _sorted_strictly(orgs, "orgs")
    sequence = _integer(manifest["sequence"], "sequence", 1)
    start = _timestamp(manifest["period_start"], "period_start")
    if _timestamp(manifest["period_end"], "period_end") < start:
        raise Invalid("manifest: period_end is before period_start")
    _check_files(manifest["files"])
    _check_signing_key(manifest["signing_key"])
    previous = manifest["previous"]
    if sequence == 1 and previous is not None:
        raise Invalid("manifest: previous must be null for sequence 1")
    if sequence > 1:
        if previous is None:
            raise Invalid(f"manifest: previous is null but sequence is {sequence}")
        _fields(previous, {"pack_id", "manifest_sha256"}, "previous")
        _string(previous["pack_id"], "previous.pack_id")
        _hex64(previous["manifest_sha256"], "previous.manifest_sha256")
    pseudonymization = manifest["pseudonymization"]
    _fields(pseudonymization, {"scheme", "key_id"}, "pseudonymization")
    if pseudonymization["scheme"] != "HMAC-SHA256":
        raise Invalid("manifest: pseudonymization.scheme must be 'HMAC-SHA256'")
    _string(pseudonymization["key_id"], "pseudonymization.key_id")
    _fields(manifest["producer"], {"name", "version"}, "producer")
    _string(manifest["producer"]["name"], "producer.name")
    _string(manifest["producer"]["version"], "producer.version")


def expected_sha256sums(files):
    """SHA256SUMS as the manifest dictates it: `<hex>  <name>` per file except itself, by name."""
    lines = (f"{item['sha256']}  {item['name']}\n" for item in files if item["name"] != SUMS_NAME)
    return "".join(lines).encode("utf-8")


def _check_sums_entry(files):
    """Rule 4's SHA256SUMS half, decided from the manifest alone (its archived bytes are hashed later)."""
    content = expected_sha256sums(files)
    entry = next(item for item in files if item["name"] == SUMS_NAME)
    if entry["bytes"] != len(content) or entry["sha256"] != hashlib.sha256(content).hexdigest():
        raise Invalid("SHA256SUMS does not list exactly the other files of manifest.files with their sha256")


# ---------------------------------------------------------------------------------------------------------
# The pack.


class VerifiedPack:
    """What a valid pack says about itself, for the report and the chain check."""

    def __init__(self, manifest, manifest_sha256):
        self.manifest = manifest
        self.manifest_sha256 = manifest_sha256
        self.pack_id = manifest["pack_id"]
        self.sequence = manifest["sequence"]
        self.files = len(manifest["files"])


def _read_manifest_and_signature(tar):
    entry = tar.expect("manifest.json", None)
    if entry.size > MAX_MANIFEST_BYTES:
        raise Invalid(f"manifest.json is {entry.size} bytes, more than 1 MiB")
    manifest_bytes = tar.read_data(entry)
    entry = tar.expect("manifest.sig", None)
    if entry.size != SIGNATURE_BYTES:
        raise Invalid(f"manifest.sig is {entry.size} bytes, not 64")
    return manifest_bytes, tar.read_data(entry)


def _check_signature(manifest_bytes, signature, expected_key):
    """Rule 3: the signature verifies with the expected key, and the manifest names that same key."""
    if not ed25519_verify(expected_key, manifest_bytes, signature):
        raise Invalid("manifest.sig does not verify over manifest.json with the expected public key")
    manifest = parse_manifest(manifest_bytes)
    if base64.b64decode(manifest["signing_key"]["public_key"]) != expected_key:
        raise Invalid("manifest.signing_key.public_key is not the expected public key")
    return manifest


def _check_file(tar, entry, item):
    """Rule 4 for one file: size (from the header, before reading), sha256, and lines of a .jsonl."""
    if entry.size != item["bytes"]:
        raise Invalid(f"{entry.name}: size {entry.size} bytes in the archive, {item['bytes']} in the manifest")
    digest, newlines, last = hashlib.sha256(), 0, b""
    for chunk in tar.read_chunks(entry):
        digest.update(chunk)
        newlines += chunk.count(b"\n")
        last = chunk[-1:]
    if digest.hexdigest() != item["sha256"]:
        raise Invalid(f"{entry.name}: sha256 does not match the manifest")
    if item["rows"] is not None:
        if entry.size and last != b"\n":
            raise Invalid(f"{entry.name}: a .jsonl file must end with a newline")
        if newlines != item["rows"]:
            raise Invalid(f"{entry.name}: {newlines} rows (lines) in the archive, {item['rows']} in the manifest")


def _verify_stream(raw, expected_key):
    tar = TarReader(GzipStream(raw))
    manifest_bytes, signature = _read_manifest_and_signature(tar)
    manifest = _check_signature(manifest_bytes, signature, expected_key)
    files = manifest["files"]
    _check_sums_entry(files)
    known = {item["name"] for item in files}
    by_name = {item["name"]: item for item in files}
    order = [SUMS_NAME] + [item["name"] for item in files if item["name"] != SUMS_NAME]
    for name in order:
        _check_file(tar, tar.expect(name, known), by_name[name])
    tar.finish(known)
    return VerifiedPack(manifest, hashlib.sha256(manifest_bytes).hexdigest())


def verify_pack(path, expected_key):
    """Checks rules 1 to 4 of docs/evidence-pack.md; raises Invalid or Unusable, returns the verified pack."""
    try:
        raw = open(path, "rb")
    except OSError as error:
        raise Unusable(f"cannot read {str(path)!r}: {error.strerror}") from error
    with raw:
        return _verify_stream(raw, expected_key)


def check_chain(pack, previous):
    """Rule 5 (the previous pack itself is verified by the caller)."""
    link = pack.manifest["previous"]
    if link is None:
        raise Invalid("--previous was given but the pack is sequence 1 (its previous is null)")
    for field in ("tenant", "module"):
        if pack.manifest[field] != previous.manifest[field]:
            raise Invalid(f"the previous pack is for another {field}")
    if link["pack_id"] != previous.pack_id:
        raise Invalid(f"previous.pack_id is {link['pack_id']!r} but the previous pack is {previous.pack_id!r}")
    if link["manifest_sha256"] != previous.manifest_sha256:
        raise Invalid(
            "previous.manifest_sha256 is not the sha256 of the previous pack's manifest.json"
            " (the predecessor was replaced)"
        )
    if pack.sequence != previous.sequence + 1:
        raise Invalid(
            f"sequence gap: the pack is sequence {pack.sequence}, the previous pack is sequence {previous.sequence}"
        )


# ---------------------------------------------------------------------------------------------------------
# Command line.


def _run(args):
    key = parse_public_key(args.expected_pubkey)
    pack = verify_pack(args.pack, key)
    if args.previous is not None:
        try:
            previous = verify_pack(args.previous, key)
        except Invalid as error:
            raise Invalid(f"previous pack: {error}") from error
        check_chain(pack, previous)
    return pack


def _report(as_json, valid, reason, pack):
    if as_json:
        print(json.dumps({
            "valid": valid,
            "reason": reason,
            "pack_id": pack.pack_id if pack else None,
            "sequence": pack.sequence if pack else None,
            "files": pack.files if pack else None,
        }))
    elif valid:
        print(f"valid: {pack.pack_id} sequence {pack.sequence}, {pack.files} files")
    else:
        print(f"invalid: {reason}")


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="evidence-pack-verify.py",
        description="Verify an aiaudit evidence pack (docs/evidence-pack.md) against the expected public key.",
    )
    parser.add_argument("pack", help="the pack, pack-<sequence>.tar.gz")
    parser.add_argument(
        "--expected-pubkey", required=True, metavar="KEY",
        help="the customer's Ed25519 public key: base64 or hex of its 32 bytes, or a PEM file",
    )
    parser.add_argument("--previous", metavar="PREVIOUS_PACK", help="the previous pack, to check the hash chain")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of a line")
    args = parser.parse_args(argv)
    sys.stdout.reconfigure(errors="backslashreplace")  # a pack id the terminal cannot show must not crash
    try:
        pack = _run(args)
    except Invalid as error:
        _report(args.json, False, str(error), None)
        return EXIT_INVALID
    except Unusable as error:
        print(f"error: {error}", file=sys.stderr)
        if args.json:
            _report(True, False, f"unusable input: {error}", None)
        return EXIT_UNUSABLE
    except Exception as error:  # a verifier bug must never look like a verdict
        print(f"error: internal error, no verdict: {type(error).__name__}: {error}", file=sys.stderr)
        return EXIT_UNUSABLE
    _report(args.json, True, None, pack)
    return EXIT_VALID


if __name__ == "__main__":
    sys.exit(main())
