"""Tests of tools/evidence-pack-verify.py, the auditor's standard-library verifier (docs/evidence-pack.md).

Known answers for the format (RFC 8032 §7.1 Ed25519 vectors), a pack writer that follows the layout exactly,
every rejection case (exit codes and reasons through the real command line; variants of one rule through the
verifier's function), and properties: random packs verify; a changed byte of the archive is always invalid;
a changed byte of the .tar.gz is invalid unless it decodes to the very same archive (see the property test).
Standard library and pytest only.

    python3 -m pytest -q tools/
"""

import base64
import concurrent.futures
import gzip
import hashlib
import importlib.util
import io
import json
import random
import subprocess
import sys
import tarfile
import time
import tracemalloc
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent / "evidence-pack-verify.py"


def _load_verifier():
    """The script as a module (its file name has dashes), leaving no bytecode cache beside it."""
    spec = importlib.util.spec_from_file_location("evidence_pack_verify", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    dont_write, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = dont_write
    return module


verifier = _load_verifier()

# ---------------------------------------------------------------------------------------------------------
# Ed25519 signing (RFC 8032 §5.1.6), for the tests only, on the verifier's own point arithmetic.


def point_compress(point):
    z_inv = pow(point[2], verifier.P - 2, verifier.P)
    x, y = point[0] * z_inv % verifier.P, point[1] * z_inv % verifier.P
    return (y | ((x & 1) << 255)).to_bytes(32, "little")


def _expand(secret):
    digest = hashlib.sha512(secret).digest()
    scalar = int.from_bytes(digest[:32], "little")
    scalar &= (1 << 254) - 8
    scalar |= 1 << 254
    return scalar, digest[32:]


def public_key_of(secret):
    return point_compress(verifier.point_mul(_expand(secret)[0], verifier.G))


def sign(secret, message):
    scalar, prefix = _expand(secret)
    public = point_compress(verifier.point_mul(scalar, verifier.G))
    r = int.from_bytes(hashlib.sha512(prefix + message).digest(), "little") % verifier.L
    r_bytes = point_compress(verifier.point_mul(r, verifier.G))
    k = int.from_bytes(hashlib.sha512(r_bytes + public + message).digest(), "little") % verifier.L
    s = (r + k * scalar) % verifier.L
    return r_bytes + s.to_bytes(32, "little")


# RFC 8032 §7.1, copied here so that the tests need nothing outside the repository.
RFC8032_VECTORS = [
    (
        "TEST 1",
        "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
        "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a",
        "",
        "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f059"
        "5bbe24655141438e7a100b",
    ),
    (
        "TEST 2",
        "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
        "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c",
        "72",
        "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613d0f11d8c387b2eaeb4"
        "302aeeb00d291612bb0c00",
    ),
    (
        "TEST 3",
        "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
        "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025",
        "af82",
        "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760984dc6594a7c15e971"
        "6ed28dc027beceea1ec40a",
    ),
    (
        "TEST 1024",
        "f5e5767cf153319517630f226876b86c8160cc583bc013744c6bf255f5cc0ee5",
        "278117fc144c72340f67d0f2316e8386ceffbf2b2428c9c51fef7c597f1d426e",
        "08b8b2b733424243760fe426a4b54908632110a66c2f6591eabd3345e3e4eb98fa6e264bf09efe12ee50f8f54e9f77b1e355f6c5"
        "0544e23fb1433ddf73be84d879de7c0046dc4996d9e773f4bc9efe5738829adb26c81b37c93a1b270b20329d658675fc6ea534e0"
        "810a4432826bf58c941efb65d57a338bbd2e26640f89ffbc1a858efcb8550ee3a5e1998bd177e93a7363c344fe6b199ee5d02e82"
        "d522c4feba15452f80288a821a579116ec6dad2b3b310da903401aa62100ab5d1a36553e06203b33890cc9b832f79ef80560ccb9"
        "a39ce767967ed628c6ad573cb116dbefefd75499da96bd68a8a97b928a8bbc103b6621fcde2beca1231d206be6cd9ec7aff6f6c9"
        "4fcd7204ed3455c68c83f4a41da4af2b74ef5c53f1d8ac70bdcb7ed185ce81bd84359d44254d95629e9855a94a7c1958d1f8ada5"
        "d0532ed8a5aa3fb2d17ba70eb6248e594e1a2297acbbb39d502f1a8c6eb6f1ce22b3de1a1f40cc24554119a831a9aad6079cad88"
        "425de6bde1a9187ebb6092cf67bf2b13fd65f27088d78b7e883c8759d2c4f5c65adb7553878ad575f9fad878e80a0c9ba63bcbcc"
        "2732e69485bbc9c90bfbd62481d9089beccf80cfe2df16a2cf65bd92dd597b0707e0917af48bbb75fed413d238f5555a7a569d80"
        "c3414a8d0859dc65a46128bab27af87a71314f318c782b23ebfe808b82b0ce26401d2e22f04d83d1255dc51addd3b75a2b1ae078"
        "4504df543af8969be3ea7082ff7fc9888c144da2af58429ec96031dbcad3dad9af0dcbaaaf268cb8fcffead94f3c7ca495e056a9"
        "b47acdb751fb73e666c6c655ade8297297d07ad1ba5e43f1bca32301651339e22904cc8c42f58c30c04aafdb038dda0847dd988d"
        "cda6f3bfd15c4b4c4525004aa06eeff8ca61783aacec57fb3d1f92b0fe2fd1a85f6724517b65e614ad6808d6f6ee34dff7310fdc"
        "82aebfd904b01e1dc54b2927094b2db68d6f903b68401adebf5a7e08d78ff4ef5d63653a65040cf9bfd4aca7984a74d37145986780"
        "fc0b16ac451649de6188a7dbdf191f64b5fc5e2ab47b57f7f7276cd419c17a3ca8e1b939ae49e488acba6b965610b5480109c8b1"
        "7b80e1b7b750dfc7598d5d5011fd2dcc5600a32ef5b52a1ecc820e308aa342721aac0943bf6686b64b2579376504ccc493d97e6a"
        "ed3fb0f9cd71a43dd497f01f17c0e2cb3797aa2a2f256656168e6c496afc5fb93246f6b1116398a346f1a641f3b041e989f7914f"
        "90cc2c7fff357876e506b50d334ba77c225bc307ba537152f3f1610e4eafe595f6d9d90d11faa933a15ef1369546868a7f3a45a9"
        "6768d40fd9d03412c091c6315cf4fde7cb68606937380db2eaaa707b4c4185c32eddcdd306705e4dc1ffc872eeee475a64dfac86"
        "aba41c0618983f8741c5ef68d3a101e8a3b8cac60c905c15fc910840b94c00a0b9d0",
        "0aab4c900501b3e24d7cdf4663326a3a87df5e4843b2cbdb67cbf6e460fec350aa5371b1508f9f4528ecea23c436d94b5e8fcd4f68"
        "1e30a6ac00a9704a188a03",
    ),
    (
        "TEST SHA(abc)",
        "833fe62409237b9d62ec77587520911e9a759cec1d19755b7da901b96dca3d42",
        "ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf",
        "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423"
        "643ce80e2a9ac94fa54ca49f",
        "dc2a4459e7369633a52b1bf277839a00201009a3efbf3ecb69bea2186c26b58909351fc9ac90b3ecfdfbc7c66431e0303dca179c13"
        "8ac17ad9bef1177331a704",
    ),
]


def _flip_bit(data, bit):
    out = bytearray(data)
    out[bit // 8] ^= 1 << (bit % 8)
    return bytes(out)


@pytest.mark.parametrize("vector", RFC8032_VECTORS, ids=[v[0] for v in RFC8032_VECTORS])
def test_rfc8032_vectors_verify_and_reject_any_flipped_bit(vector):
    secret, public, message, signature = (bytes.fromhex(field) for field in vector[1:])
    assert verifier.ed25519_verify(public, message, signature)
    if message:
        assert not verifier.ed25519_verify(public, _flip_bit(message, len(message) * 4), signature)
    assert not verifier.ed25519_verify(public, message + b"x", signature)
    for bit in (0, 100, 255, 256, 300, 511):  # in R and in S
        assert not verifier.ed25519_verify(public, message, _flip_bit(signature, bit))
    for bit in (0, 77, 254):
        assert not verifier.ed25519_verify(_flip_bit(public, bit), message, signature)


@pytest.mark.parametrize("vector", RFC8032_VECTORS, ids=[v[0] for v in RFC8032_VECTORS])
def test_test_signer_reproduces_rfc8032_signatures(vector):
    secret, public, message, signature = (bytes.fromhex(field) for field in vector[1:])
    assert public_key_of(secret) == public
    assert sign(secret, message) == signature


def test_verifier_rejects_s_not_below_the_group_order_and_non_canonical_points():
    secret, public, message, signature = (bytes.fromhex(field) for field in RFC8032_VECTORS[1][1:])
    s = int.from_bytes(signature[32:], "little")
    assert not verifier.ed25519_verify(public, message, signature[:32] + (s + verifier.L).to_bytes(32, "little"))
    # y = p + 1 encodes the same y as 1 (a valid point), non-canonically: it must not decode.
    assert verifier.point_decompress((1).to_bytes(32, "little")) is not None
    assert verifier.point_decompress((verifier.P + 1).to_bytes(32, "little")) is None
    # x = 0 with the sign bit set is the other non-canonical encoding.
    assert verifier.point_decompress(((1 << 255) | 1).to_bytes(32, "little")) is None


def test_one_verification_takes_well_under_a_second():
    secret, public, message, signature = (bytes.fromhex(field) for field in RFC8032_VECTORS[3][1:])
    started = time.perf_counter()
    assert verifier.ed25519_verify(public, message, signature)
    assert time.perf_counter() - started < 0.5


# ---------------------------------------------------------------------------------------------------------
# A pack writer following docs/evidence-pack.md's layout exactly, with hooks to break it.

SECRET = hashlib.sha256(b"aiaudit test signing key").digest()
PUBLIC = public_key_of(SECRET)
OTHER_SECRET = hashlib.sha256(b"another signing key").digest()
OTHER_PUBLIC = public_key_of(OTHER_SECRET)
KEY_B64 = base64.b64encode(PUBLIC).decode("ascii")


def canonical(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def jsonl(rows):
    return b"".join(canonical(row) + b"\n" for row in rows)


def copilot_contents(rng=None):
    rng = rng or random.Random(0)
    plans = ["business", "enterprise"]
    seats = [{"login": f"p_{rng.getrandbits(32):08x}", "plan": rng.choice(plans)} for _ in range(3)]
    events = [{"at": f"2025-01-0{1 + i % 9}T00:00:00.000Z", "n": i} for i in range(5)]
    return {
        "README.txt": "Evidence pack for tenant t1.\n".encode("utf-8"),
        "coverage.json": canonical({"complete": True}),
        "events.jsonl": jsonl(events),
        "kpis.json": canonical({"seats": len(seats)}),
        "seats.jsonl": jsonl(seats),
    }


def sums_of(files):
    return "".join(f"{f['sha256']}  {f['name']}\n" for f in files if f["name"] != "SHA256SUMS").encode("utf-8")


def file_record(name, data):
    rows = data.count(b"\n") if name.endswith(".jsonl") else None
    return {"name": name, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), "rows": rows}


def make_manifest(contents, public=PUBLIC, sequence=1, previous=None, pack_id=None, tenant="t1", orgs=("acme",)):
    """The manifest for `contents` (without SHA256SUMS, which is added); returns (manifest, contents+sums)."""
    files = [file_record(name, data) for name, data in sorted(contents.items())]
    sums = sums_of(files)
    contents = {**contents, "SHA256SUMS": sums}
    files = sorted(files + [file_record("SHA256SUMS", sums)], key=lambda f: f["name"])
    manifest = {
        "schema_version": 2,
        "module": "copilot",
        "pack_id": pack_id or f"pk-{tenant}-{sequence}",
        "tenant": tenant,
        "orgs": sorted(orgs),
        "sequence": sequence,
        "period_start": "2025-01-01T00:00:00.000Z",
        "period_end": "2025-01-31T23:59:59.999Z",
        "files": files,
        "signing_key": {
            "alg": "Ed25519",
            "key_id": hashlib.sha256(public).hexdigest(),
            "public_key": base64.b64encode(public).decode("ascii"),
        },
        "previous": previous,
        "pseudonymization": {"scheme": "HMAC-SHA256", "key_id": "k1"},
        "producer": {"name": "aiaudit-packer", "version": "0.1.0"},
    }
    return manifest, contents


class Entry:
    """One tar entry to write: a regular file by default; `size` with `data=None` writes that many zeros."""

    def __init__(self, name, data=b"", kind=tarfile.REGTYPE, size=None, linkname=""):
        self.name, self.data, self.kind, self.linkname = name, data, kind, linkname
        self.size = len(data) if size is None else size


def entries_of(manifest_bytes, signature, manifest, contents):
    """The entries in the layout's order: manifest.json, manifest.sig, SHA256SUMS, then manifest order."""
    entries = [Entry("manifest.json", manifest_bytes), Entry("manifest.sig", signature)]
    entries.append(Entry("SHA256SUMS", contents["SHA256SUMS"]))
    for f in manifest["files"]:
        if f["name"] != "SHA256SUMS":
            entries.append(Entry(f["name"], contents[f["name"]]))
    return entries


class _Zeros(io.RawIOBase):
    def readable(self):
        return True

    def readinto(self, buffer):
        buffer[:] = bytes(len(buffer))
        return len(buffer)


def write_pack(path, entries):
    """Deterministic gzip (no name, mtime 0) of a ustar archive (mode 0644, owner 0, mtime 0)."""
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for entry in entries:
                info = tarfile.TarInfo(entry.name)
                info.size = entry.size if entry.kind == tarfile.REGTYPE else 0
                info.type, info.linkname = entry.kind, entry.linkname
                info.mtime, info.mode, info.uid, info.gid, info.uname, info.gname = 0, 0o644, 0, 0, "", ""
                if entry.kind == tarfile.REGTYPE:
                    body = io.BufferedReader(_Zeros()) if entry.data is None else io.BytesIO(entry.data)
                    tar.addfile(info, body)
                else:
                    tar.addfile(info)
    return path


def build(tmp_path, name="pack.tar.gz", contents=None, secret=SECRET, edit_manifest=None, edit_entries=None, **kw):
    """A pack file; `edit_manifest(manifest, contents)` runs before signing, `edit_entries(entries)` after."""
    manifest, contents = make_manifest(contents or copilot_contents(), **kw)
    if edit_manifest:
        edit_manifest(manifest, contents)
    manifest_bytes = canonical(manifest)
    entries = entries_of(manifest_bytes, sign(secret, manifest_bytes), manifest, contents)
    if edit_entries:
        entries = edit_entries(entries) or entries
    return write_pack(tmp_path / name, entries), manifest_bytes


def build_signed_bytes(tmp_path, manifest_bytes, contents, secret=SECRET, name="pack.tar.gz"):
    """A pack whose manifest.json is exactly `manifest_bytes` (signed), for non-canonical manifests."""
    manifest = json.loads(manifest_bytes)
    entries = entries_of(manifest_bytes, sign(secret, manifest_bytes), manifest, contents)
    return write_pack(tmp_path / name, entries)


def run(pack, *args, key=KEY_B64, python=(sys.executable, "-S")):
    """The command line, as the auditor runs it. `-S` (no site-packages) keeps the many runs quick and shows
    that the script needs nothing but the standard library."""
    command = [*python, str(SCRIPT), str(pack), "--expected-pubkey", key, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=60)


def assert_invalid_in_process(pack, *words):
    """For the many variants of one rule: the verifier's own function, without a process per case."""
    with pytest.raises(verifier.Invalid) as caught:
        verifier.verify_pack(pack, PUBLIC)
    for word in words:
        assert word.lower() in str(caught.value).lower(), (word, str(caught.value))


def assert_invalid(result, *words):
    assert result.returncode == 1, (result.returncode, result.stdout, result.stderr)
    assert result.stdout.startswith("invalid: "), result.stdout
    assert "Traceback" not in result.stderr
    for word in words:
        assert word.lower() in result.stdout.lower(), (word, result.stdout)


# ---------------------------------------------------------------------------------------------------------
# The command line on valid packs, keys and unusable input.


def test_valid_pack_exit_0(tmp_path):
    pack, _ = build(tmp_path)
    result = run(pack, python=(sys.executable,))  # exactly as documented, site-packages and all
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == "valid: pk-t1-1 sequence 1, 6 files\n"


def test_the_test_writer_follows_the_layout(tmp_path):
    pack, manifest_bytes = build(tmp_path)
    data = pack.read_bytes()
    assert data[:8] == bytes.fromhex("1f8b080000000000")  # deflate, no flags (so no file name), mtime 0
    with tarfile.open(pack, mode="r:gz") as tar:
        members = tar.getmembers()
        names = [m.name for m in members]
        assert all(m.isreg() and m.mode == 0o644 and m.mtime == 0 and m.uid == 0 and m.uname == "" for m in members)
        assert tar.extractfile("manifest.json").read() == manifest_bytes
    assert names == [
        *("manifest.json", "manifest.sig", "SHA256SUMS"),
        *("README.txt", "coverage.json", "events.jsonl", "kpis.json", "seats.jsonl"),
    ]


def test_keys_as_hex_and_pem_file(tmp_path):
    pack, _ = build(tmp_path)
    assert run(pack, key=PUBLIC.hex()).returncode == 0
    der = bytes.fromhex("302a300506032b6570032100") + PUBLIC
    pem = tmp_path / "key.pem"
    pem.write_text("-----BEGIN PUBLIC KEY-----\n" + base64.b64encode(der).decode() + "\n-----END PUBLIC KEY-----\n")
    assert run(pack, key=str(pem)).returncode == 0
    assert_invalid(run(pack, key=base64.b64encode(OTHER_PUBLIC).decode()), "expected public key")


def test_unusable_input_exit_2(tmp_path):
    pack, _ = build(tmp_path)
    missing = run(tmp_path / "nope.tar.gz")
    assert missing.returncode == 2 and "cannot read" in missing.stderr
    assert run(pack, key="not-a-key").returncode == 2
    assert run(pack, key="00" * 31).returncode == 2
    bad_pem = tmp_path / "bad.pem"
    bad_pem.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    assert run(pack, key=str(bad_pem)).returncode == 2
    assert run(pack, "--previous", str(tmp_path / "missing.tar.gz")).returncode == 2
    assert run(tmp_path).returncode == 2  # a directory
    no_key = subprocess.run([sys.executable, "-S", str(SCRIPT), str(pack)], capture_output=True, text=True)
    assert no_key.returncode == 2


def test_json_output_shape(tmp_path):
    pack, _ = build(tmp_path)
    valid = run(pack, "--json")
    assert valid.returncode == 0
    assert json.loads(valid.stdout) == {"valid": True, "reason": None, "pack_id": "pk-t1-1", "sequence": 1, "files": 6}
    broken, _ = build(tmp_path, name="broken.tar.gz", secret=OTHER_SECRET)
    invalid = run(broken, "--json")
    assert invalid.returncode == 1
    report = json.loads(invalid.stdout)
    assert set(report) == {"valid", "reason", "pack_id", "sequence", "files"}
    assert report["valid"] is False and "manifest.sig does not verify" in report["reason"]
    unusable = run(tmp_path / "missing.tar.gz", "--json")
    assert unusable.returncode == 2 and json.loads(unusable.stdout)["valid"] is False


# ---------------------------------------------------------------------------------------------------------
# Each rule broken once: exit 1 and a reason naming the problem.


def test_bad_signature(tmp_path):
    def corrupt(entries):
        entries[1].data = _flip_bit(entries[1].data, 3)

    pack, _ = build(tmp_path, edit_entries=corrupt)
    assert_invalid(run(pack), "manifest.sig does not verify")


def test_wrong_expected_key(tmp_path):
    pack, _ = build(tmp_path)
    assert_invalid(run(pack, key=OTHER_PUBLIC.hex()), "does not verify", "expected public key")


def test_signing_key_in_pack_differs_from_expected(tmp_path):
    pack, _ = build(tmp_path, public=OTHER_PUBLIC)  # signed with SECRET, but names another key
    assert_invalid(run(pack), "signing_key.public_key is not the expected")


def test_key_id_must_be_the_sha256_of_the_key(tmp_path):
    def edit(manifest, _):
        manifest["signing_key"]["key_id"] = "0" * 64

    pack, _ = build(tmp_path, edit_manifest=edit)
    assert_invalid(run(pack), "key_id")


def test_missing_file(tmp_path):
    pack, _ = build(tmp_path, edit_entries=lambda entries: entries[:-1])
    assert_invalid(run(pack), "missing entry 'seats.jsonl'")


def test_missing_file_in_the_middle(tmp_path):
    pack, _ = build(tmp_path, edit_entries=lambda entries: [e for e in entries if e.name != "events.jsonl"])
    assert_invalid(run(pack), "expected 'events.jsonl'", "missing")


def test_extra_file(tmp_path):
    pack, _ = build(tmp_path, edit_entries=lambda entries: entries + [Entry("extra.txt", b"x")])
    assert_invalid(run(pack), "unexpected entry 'extra.txt'")


def test_manifest_must_list_sha256sums(tmp_path):
    def edit(manifest, _):
        manifest["files"] = [f for f in manifest["files"] if f["name"] != "SHA256SUMS"]

    pack, _ = build(tmp_path, edit_manifest=edit)
    assert_invalid(run(pack), "files must list SHA256SUMS")


def test_openai_admin_pack(tmp_path):
    names = ["users.jsonl", "projects.jsonl", "api_keys.jsonl", "events.jsonl", "coverage.json", "kpis.json"]
    contents = {name: (b'{"a":1}\n' if name.endswith(".jsonl") else b"{}") for name in names}
    pack, _ = build(tmp_path, contents={**contents, "README.txt": b""}, edit_manifest=_module("openai_admin"))
    result = run(pack)
    assert result.returncode == 0 and result.stdout == "valid: pk-t1-1 sequence 1, 8 files\n", result.stdout
    unknown, _ = build(tmp_path, name="unknown.tar.gz", edit_manifest=_module("anthropic"))
    assert_invalid(run(unknown), "module")


def _module(module):
    return lambda manifest, _: manifest.update(module=module)


def test_duplicate_entry(tmp_path):
    pack, _ = build(tmp_path, edit_entries=lambda entries: entries[:4] + [entries[3]] + entries[4:])
    assert_invalid(run(pack), "duplicate entry 'README.txt'")


def test_duplicate_manifest_at_the_end(tmp_path):
    pack, _ = build(tmp_path, edit_entries=lambda entries: entries + [entries[0]])
    assert_invalid(run(pack), "duplicate entry 'manifest.json'")


def test_sha256_mismatch(tmp_path):
    def tamper(entries):
        entries[-1].data = entries[-1].data.replace(b"business", b"businesz").replace(b"enterprise", b"enterprisz")

    pack, _ = build(tmp_path, edit_entries=tamper)
    assert_invalid(run(pack), "seats.jsonl", "sha256")


def test_size_mismatch(tmp_path):
    def grow(entries):
        entries[3].data += b"!"
        entries[3].size += 1

    pack, _ = build(tmp_path, edit_entries=grow)
    assert_invalid(run(pack), "README.txt", "size")


def test_row_count_mismatch(tmp_path):
    def edit(manifest, _):
        next(f for f in manifest["files"] if f["name"] == "events.jsonl")["rows"] += 1

    pack, _ = build(tmp_path, edit_manifest=edit)
    assert_invalid(run(pack), "events.jsonl", "rows")


def test_jsonl_without_final_newline(tmp_path):
    contents = {**copilot_contents(), "events.jsonl": b'{"a":1}\n{"a":2}'}
    pack, _ = build(tmp_path, contents=contents)
    assert_invalid(run(pack), "events.jsonl", "newline")


def test_rows_must_be_null_for_other_files(tmp_path):
    def edit(manifest, _):
        next(f for f in manifest["files"] if f["name"] == "kpis.json")["rows"] = 1

    pack, _ = build(tmp_path, edit_manifest=edit)
    assert_invalid(run(pack), "rows must be null")


def test_sha256sums_wrong(tmp_path):
    def edit(manifest, contents):
        wrong = contents["SHA256SUMS"].replace(b"  kpis.json", b"  kpis.jsn")
        contents["SHA256SUMS"] = wrong
        files = manifest["files"]
        manifest["files"] = [file_record("SHA256SUMS", wrong) if f["name"] == "SHA256SUMS" else f for f in files]

    pack, _ = build(tmp_path, edit_manifest=edit)
    assert_invalid(run(pack), "SHA256SUMS does not list exactly")


def test_sha256sums_content_differs_from_its_manifest_hash(tmp_path):
    def tamper(entries):
        entries[2].data = entries[2].data.replace(b"  README.txt", b"  README.TXT")

    pack, _ = build(tmp_path, edit_entries=tamper)
    assert_invalid(run(pack), "SHA256SUMS", "sha256")


@pytest.mark.parametrize(
    "kind, words, cli",
    [
        (tarfile.SYMTYPE, "symbolic link", True),
        (tarfile.CHRTYPE, "character device", True),
        (tarfile.LNKTYPE, "hard link", False),
        (tarfile.BLKTYPE, "block device", False),
        (tarfile.FIFOTYPE, "fifo", False),
        (tarfile.DIRTYPE, "directory", False),
    ],
)
def test_non_regular_entries(tmp_path, kind, words, cli):
    def add(entries):
        return entries[:3] + [Entry("README.txt", kind=kind, linkname="/etc/passwd")] + entries[3:]

    pack, _ = build(tmp_path, edit_entries=add)
    if cli:
        assert_invalid(run(pack), "not a regular file", words)
    else:
        assert_invalid_in_process(pack, "not a regular file", words)


@pytest.mark.parametrize(
    "name, words",
    [
        ("../x", "'..' component"),
        ("/x", "absolute"),
        ("a/b", "path separator"),
        ("..", "'..' component"),
        ("dir/README.txt", "path separator"),
        ("a\\b", "path separator"),
        ("a\nb", "control character"),
    ],
)
def test_names_that_are_not_plain(tmp_path, name, words):
    pack, _ = build(tmp_path, edit_entries=lambda entries: entries[:3] + [Entry(name, b"x")] + entries[3:])
    if name in ("../x", "/x", "a/b"):
        assert_invalid(run(pack), words)
    else:
        assert_invalid_in_process(pack, words)


def test_truncated_gzip(tmp_path):
    pack, _ = build(tmp_path)
    data = pack.read_bytes()
    for cut in (1, 4, 8, len(data) // 2):
        pack.write_bytes(data[:-cut])
        assert_invalid(run(pack), "truncated")


def test_data_after_the_gzip_stream(tmp_path):
    pack, _ = build(tmp_path)
    data = pack.read_bytes()
    pack.write_bytes(data + gzip.compress(b"more", mtime=0))
    assert_invalid(run(pack), "after the end of the gzip stream")


def test_entry_far_larger_than_the_manifest_says_is_rejected_without_reading_it(tmp_path):
    def huge(entries):
        entries[5] = Entry("events.jsonl", data=None, size=50 * 1024 * 1024)  # 50 MB of zeros

    pack, _ = build(tmp_path, edit_entries=huge)
    assert_invalid(run(pack), "events.jsonl", "size")
    tracemalloc.start()
    try:
        with pytest.raises(verifier.Invalid, match="size"):
            verifier.verify_pack(pack, PUBLIC)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 1024 * 1024


def test_manifest_larger_than_1_mib(tmp_path):
    def edit(manifest, _):
        manifest["tenant"] = "t" * (1024 * 1024)

    pack, _ = build(tmp_path, edit_manifest=edit)
    assert_invalid(run(pack), "manifest.json", "1 MiB")


def test_signature_not_64_bytes(tmp_path):
    def grow(entries):
        entries[1].data += b"\0"
        entries[1].size += 1

    pack, _ = build(tmp_path, edit_entries=grow)
    assert_invalid(run(pack), "manifest.sig", "not 64")


@pytest.mark.parametrize(
    "mangle",
    [
        lambda m: json.dumps(m, sort_keys=True).encode(),  # whitespace
        lambda m: canonical(m).replace(b'"schema_version":2,', b'"schema_version":2 ,'),
        lambda m: json.dumps(dict(reversed(list(m.items()))), separators=(",", ":")).encode(),  # keys not sorted
        lambda m: json.dumps(m, sort_keys=True, separators=(",", ":")).encode().replace(b"/", b"\\/"),
        lambda m: json.dumps(m, sort_keys=True, separators=(",", ":")).encode() + b"\n",
    ],
    ids=["whitespace", "space-before-comma", "unsorted-keys", "escaped-slash", "trailing-newline"],
)
def test_non_canonical_manifest(tmp_path, mangle):
    manifest, contents = make_manifest(copilot_contents(), pack_id="pk/1")
    pack = build_signed_bytes(tmp_path, mangle(manifest), contents)
    assert_invalid_in_process(pack, "not canonical")


def test_non_canonical_manifest_through_the_command_line(tmp_path):
    manifest, contents = make_manifest(copilot_contents())
    pack = build_signed_bytes(tmp_path, json.dumps(manifest, sort_keys=True, indent=1).encode(), contents)
    assert_invalid(run(pack), "manifest.json is not canonical")


@pytest.mark.parametrize(
    "edit, words",
    [
        (lambda m: m.update(schema_version=1), "schema_version"),
        (lambda m: m.update(sequence=0), "sequence"),
        (lambda m: m.update(sequence=True), "sequence"),
        (lambda m: m.update(sequence=2**53), "sequence"),
        (lambda m: m.update(orgs=[1]), "orgs"),
        (lambda m: m.update(orgs=["b", "a"]), "orgs"),
        (lambda m: m.update(period_start="2025-01-01T00:00:00Z"), "period_start"),
        (lambda m: m.pop("producer"), "missing ['producer']"),
        (lambda m: m.update(extra=1), "unexpected ['extra']"),
        (lambda m: m.update(previous={"pack_id": "x", "manifest_sha256": "0" * 64}), "previous must be null"),
        (lambda m: m["files"].reverse(), "sorted"),
    ],
)
def test_manifest_schema(tmp_path, edit, words):
    pack, _ = build(tmp_path, edit_manifest=lambda manifest, _: edit(manifest))
    assert_invalid_in_process(pack, "manifest", words)


def test_float_in_manifest(tmp_path):
    manifest, contents = make_manifest(copilot_contents())
    raw = canonical(manifest).replace(b'"schema_version":2', b'"schema_version":2.0')
    assert_invalid(run(build_signed_bytes(tmp_path, raw, contents)), "non-integer")


def test_wrong_entry_order(tmp_path):
    def swap(entries):
        entries[4], entries[5] = entries[5], entries[4]

    pack, _ = build(tmp_path, edit_entries=swap)
    assert_invalid(run(pack), "entry order", "out of order")


def test_manifest_must_come_first(tmp_path):
    def swap(entries):
        entries[0], entries[1] = entries[1], entries[0]

    pack, _ = build(tmp_path, edit_entries=swap)
    assert_invalid(run(pack), "expected 'manifest.json'")


def test_gzip_header_with_a_file_name_or_mtime(tmp_path):
    pack, _ = build(tmp_path)
    data = bytearray(pack.read_bytes())
    data[4] = 1  # mtime 1
    named = tmp_path / "named.tar.gz"
    named.write_bytes(bytes(data))
    assert_invalid(run(named), "modification time")
    with open(named, "wb") as raw, gzip.GzipFile(filename="pack.tar", fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(gzip.decompress(pack.read_bytes()))
    assert_invalid(run(named), "file name")


# ---------------------------------------------------------------------------------------------------------
# The chain: --previous.


def test_valid_chain(tmp_path):
    first, first_manifest = build(tmp_path, name="pack-1.tar.gz")
    link = {"pack_id": "pk-t1-1", "manifest_sha256": hashlib.sha256(first_manifest).hexdigest()}
    second, _ = build(tmp_path, name="pack-2.tar.gz", sequence=2, previous=link)
    result = run(second, "--previous", str(first))
    assert result.returncode == 0, result.stdout
    assert result.stdout == "valid: pk-t1-2 sequence 2, 6 files\n"


def test_replaced_predecessor(tmp_path):
    _, first_manifest = build(tmp_path, name="pack-1.tar.gz")
    link = {"pack_id": "pk-t1-1", "manifest_sha256": hashlib.sha256(first_manifest).hexdigest()}
    second, _ = build(tmp_path, name="pack-2.tar.gz", sequence=2, previous=link)
    other = {**copilot_contents(), "kpis.json": canonical({"seats": 99})}
    replaced, _ = build(tmp_path, name="pack-1-replaced.tar.gz", contents=other)
    assert run(replaced).returncode == 0  # valid on its own
    assert_invalid(run(second, "--previous", str(replaced)), "manifest_sha256", "replaced")


def test_sequence_gap(tmp_path):
    first, first_manifest = build(tmp_path, name="pack-1.tar.gz")
    link = {"pack_id": "pk-t1-1", "manifest_sha256": hashlib.sha256(first_manifest).hexdigest()}
    third, _ = build(tmp_path, name="pack-3.tar.gz", sequence=3, previous=link)
    assert run(third).returncode == 0
    assert_invalid(run(third, "--previous", str(first)), "sequence gap")


def test_invalid_predecessor(tmp_path):
    first, first_manifest = build(tmp_path, name="pack-1.tar.gz")
    link = {"pack_id": "pk-t1-1", "manifest_sha256": hashlib.sha256(first_manifest).hexdigest()}
    second, _ = build(tmp_path, name="pack-2.tar.gz", sequence=2, previous=link)
    first.write_bytes(first.read_bytes()[:-3])
    assert_invalid(run(second, "--previous", str(first)), "previous pack", "truncated")


def test_previous_pack_id_mismatch(tmp_path):
    first, first_manifest = build(tmp_path, name="pack-1.tar.gz")
    link = {"pack_id": "pk-other", "manifest_sha256": hashlib.sha256(first_manifest).hexdigest()}
    second, _ = build(tmp_path, name="pack-2.tar.gz", sequence=2, previous=link)
    assert_invalid(run(second, "--previous", str(first)), "previous.pack_id")


# ---------------------------------------------------------------------------------------------------------
# Property: random packs verify; one changed byte anywhere never yields a valid pack with different content.
#
# Deflate is not injective: a few changes to the compressed bytes decode to the very same archive (a match
# that copies zeros from another run of zeros, the informational XFL and OS header bytes). The gzip CRC-32
# covers the decoded bytes, not their encoding, so no verifier can reject those changes, and they change no
# evidence. The property is therefore: after one changed byte the verifier says invalid (exit 1, a reason, no
# traceback), or the archive decodes, by the standard library's own gzip, to exactly the original bytes.


def _random_text(rng):
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789 _-/\"\\\n\t\u00e9\u4e2d\U0001f600"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))


def _random_contents(rng):
    def rows():
        count = rng.randrange(0, 15)
        return [{_random_text(rng) + "k": _random_text(rng), "n": rng.randrange(-(10**9), 10**9)} for _ in range(count)]

    return {
        "README.txt": _random_text(rng).encode("utf-8"),
        "coverage.json": canonical({"complete": rng.random() < 0.5, "gaps": [_random_text(rng)]}),
        "events.jsonl": jsonl(rows()),
        "kpis.json": canonical({"n": rng.randrange(10**6)}),
        "seats.jsonl": jsonl(rows()),
    }


def test_random_packs_verify_and_no_changed_byte_yields_a_valid_pack_with_other_content(tmp_path):
    rng = random.Random(8032)
    cases = []
    for index in range(30):
        orgs = sorted({_random_text(rng) + "o" for _ in range(rng.randrange(1, 4))})
        contents, tenant = _random_contents(rng), _random_text(rng) + "t"
        pack, manifest_bytes = build(tmp_path, name=f"pack-{index}.tar.gz", contents=contents, orgs=orgs, tenant=tenant)
        assert verifier.verify_pack(pack, PUBLIC).manifest_sha256 == hashlib.sha256(manifest_bytes).hexdigest()
        original = pack.read_bytes()
        changed = bytearray(original)
        position = rng.randrange(len(changed))
        changed[position] = (changed[position] + rng.randrange(1, 256)) % 256
        flipped = pack.with_name(f"flipped-{index}.tar.gz")
        flipped.write_bytes(bytes(changed))
        cases.append((index, position, original, flipped))
    assert run(tmp_path / "pack-0.tar.gz").returncode == 0  # and valid through the command line too
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda case: run(case[3]), cases))
    unchanged_content = 0
    for (index, position, original, flipped), result in zip(cases, results):
        assert result.returncode in (0, 1) and "Traceback" not in result.stderr, (index, position, result.stderr)
        if result.returncode == 1:
            assert result.stdout.startswith("invalid: "), result.stdout
        else:
            assert gzip.decompress(flipped.read_bytes()) == gzip.decompress(original), (index, position)
            unchanged_content += 1
    assert unchanged_content <= 3  # such changes are rare: almost every byte is covered


def test_any_changed_byte_of_the_archive_itself_is_invalid(tmp_path):
    """Below the compression, every byte counts: headers (checksum), data (sha256), padding and end (zeros)."""
    rng = random.Random(1952)
    pack, _ = build(tmp_path, contents=_random_contents(rng))
    archive = gzip.decompress(pack.read_bytes())
    for position in rng.sample(range(len(archive)), 150):
        changed = bytearray(archive)
        changed[position] = (changed[position] + rng.randrange(1, 256)) % 256
        with open(pack, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") as gz:
            gz.write(changed)
        with pytest.raises(verifier.Invalid):
            verifier.verify_pack(pack, PUBLIC)
