"""Interoperability with the OpenSSL command-line tool, both ways, for every family.

Skipped when ``openssl`` is not on PATH — except on CI (``CI=true``), where a
missing tool fails the run (tests/trust/conftest.py:require_tool).
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from trust.crypto import PrivateKey, b64url, load_private_key, load_public_key, public_key_from_jwk
from trust.errors import InvalidKey
from trust.sigenc import SigEncoding, der_to_raw, encode_der_rs

MESSAGE = b"GovTrust interop message\n\xe7\x94\xb5\xe5\xad\x90\xe5\x8d\xb0\xe7\xab\xa0\n"
DISTID = "distid:1234567812345678"


@dataclass(frozen=True)
class Spec:
    """How OpenSSL makes a key, signs and verifies for one GovTrust algorithm."""

    alg: str
    family: str
    genkey: tuple[str, ...]  # arguments writing the private key to {key}
    sign: tuple[str, ...]  # {key} {msg} → {sig}
    verify: tuple[str, ...]  # {pub} {msg} {sig} → success exit status
    verified_text: str  # what OpenSSL prints on success


def _dgst(digest: str, *sigopts: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    opts: tuple[str, ...] = ()
    for opt in sigopts:
        opts += ("-sigopt", opt)
    sign = ("dgst", f"-{digest}", "-sign", "{key}", *opts, "-out", "{sig}", "{msg}")
    verify = ("dgst", f"-{digest}", "-verify", "{pub}", *opts, "-signature", "{sig}", "{msg}")
    return sign, verify


_SM2 = _dgst("sm3", DISTID)
_SHA256 = _dgst("sha256")
# PS256 per RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash (32).
# saltlen 32 on both sides (not -2/"auto") so OpenSSL checks that our salt is 32 bytes.
_PSS = _dgst("sha256", "rsa_padding_mode:pss", "rsa_pss_saltlen:32", "rsa_mgf1_md:sha256")

SPECS = {
    "SM2": Spec(
        "SM2", "sm2", ("genpkey", "-algorithm", "SM2", "-out", "{key}"), *_SM2, "Verified OK"
    ),
    "ES256": Spec(
        "ES256",
        "p256",
        # default output: an "EC PARAMETERS" block, then "EC PRIVATE KEY" (SEC 1)
        ("ecparam", "-name", "prime256v1", "-genkey", "-out", "{key}"),
        *_SHA256,
        "Verified OK",
    ),
    "RS256": Spec("RS256", "rsa", ("genrsa", "-out", "{key}", "2048"), *_SHA256, "Verified OK"),
    "PS256": Spec("PS256", "rsa", ("genrsa", "-out", "{key}", "2048"), *_PSS, "Verified OK"),
    "EdDSA": Spec(
        "EdDSA",
        "ed25519",
        ("genpkey", "-algorithm", "ed25519", "-out", "{key}"),
        ("pkeyutl", "-sign", "-rawin", "-inkey", "{key}", "-in", "{msg}", "-out", "{sig}"),
        (
            "pkeyutl",
            "-verify",
            "-rawin",
            "-pubin",
            "-inkey",
            "{pub}",
            "-in",
            "{msg}",
            "-sigfile",
            "{sig}",
        ),
        "Signature Verified Successfully",
    ),
}


class OpenSSL:
    """Runs the openssl binary in a per-test directory."""

    def __init__(self, binary: str, workdir: Path) -> None:
        self.binary = binary
        self.workdir = workdir

    def path(self, name: str) -> Path:
        return self.workdir / name

    def run(
        self, args: Sequence[str], *, check: bool = True, **names: str
    ) -> subprocess.CompletedProcess[str]:
        argv = [self.binary, *(a.format(**names) for a in args)]
        proc = subprocess.run(
            argv, cwd=self.workdir, capture_output=True, text=True, timeout=120, check=False
        )
        if check and proc.returncode != 0:
            pytest.fail(
                f"{' '.join(argv)} exited {proc.returncode}\n"
                f"stdout: {proc.stdout}\nstderr: {proc.stderr}"
            )
        return proc

    def write(self, name: str, data: bytes) -> str:
        self.path(name).write_bytes(data)
        return name

    def read(self, name: str) -> bytes:
        return self.path(name).read_bytes()

    # -- composite steps

    def genkey(self, spec: Spec, key: str = "key.pem") -> str:
        self.run(spec.genkey, key=key)
        return key

    def pubout(self, key: str, pub: str = "pub.pem", password: str | None = None) -> str:
        extra = ("-passin", f"pass:{password}") if password else ()
        self.run(("pkey", "-in", key, *extra, "-pubout", "-out", pub))
        return pub

    def sign(
        self, spec: Spec, key: str, msg: str, sig: str = "sig.bin", password: str | None = None
    ) -> bytes:
        args = spec.sign
        if password:  # options go before the file operand
            args = (args[0], "-passin", f"pass:{password}", *args[1:])
        self.run(args, key=key, msg=msg, sig=sig)
        return self.read(sig)

    def verifies(self, spec: Spec, pub: str, msg: str, sig: str) -> bool:
        proc = self.run(spec.verify, check=False, pub=pub, msg=msg, sig=sig)
        ok = proc.returncode == 0 and spec.verified_text in proc.stdout
        if not ok:
            assert proc.returncode != 0, proc.stdout + proc.stderr
        return ok


@pytest.fixture
def openssl(openssl_bin: str, tmp_path: Path) -> OpenSSL:
    return OpenSSL(openssl_bin, tmp_path)


ALGS = list(SPECS)


# --- the skip-vs-fail rule


def test_require_tool_skips_locally(
    tool_requirement: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for ci in (None, "false", "1", "TRUE"):
        if ci is None:
            monkeypatch.delenv("CI", raising=False)
        else:
            monkeypatch.setenv("CI", ci)
        with pytest.raises(pytest.skip.Exception, match="not on PATH"):
            tool_requirement("govtrust-no-such-tool-x9")


def test_require_tool_fails_on_ci(
    tool_requirement: Callable[[str], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="CI=true"):
        tool_requirement("govtrust-no-such-tool-x9")


def test_require_tool_finds_a_present_tool(
    tool_requirement: Callable[[str], str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    tool = tmp_path / "govtrust-fake-tool"
    tool.write_text("#!/bin/sh\nexit 0\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setenv("CI", "true")
    assert tool_requirement("govtrust-fake-tool") == str(tool)


# --- both ways, every family


@pytest.mark.openssl
@pytest.mark.parametrize("alg", ALGS)
def test_openssl_key_loads_and_our_signature_verifies_in_openssl(
    openssl: OpenSSL, alg: str
) -> None:
    spec = SPECS[alg]
    key_file = openssl.genkey(spec)
    pub_file = openssl.pubout(key_file)
    key = load_private_key(openssl.read(key_file))
    assert key.family == spec.family
    assert load_public_key(openssl.read(pub_file)) == key.public_key()

    msg = openssl.write("msg.bin", MESSAGE)
    openssl.write("ours.sig", key.sign(alg, MESSAGE))
    assert openssl.verifies(spec, pub_file, msg, "ours.sig") is True
    # the check discriminates: a different message fails
    other = openssl.write("other.bin", MESSAGE + b"!")
    assert openssl.verifies(spec, pub_file, other, "ours.sig") is False


@pytest.mark.openssl
@pytest.mark.parametrize("alg", ALGS)
def test_openssl_signature_verifies_in_trust(openssl: OpenSSL, alg: str) -> None:
    spec = SPECS[alg]
    key_file = openssl.genkey(spec)
    public = load_public_key(openssl.read(openssl.pubout(key_file)))
    msg = openssl.write("msg.bin", MESSAGE)
    for i in range(3):
        signature = openssl.sign(spec, key_file, msg, sig=f"sig{i}.bin")
        assert public.verify(alg, MESSAGE, signature) is True
        assert public.verify(alg, MESSAGE + b"!", signature) is False
        if alg in ("SM2", "ES256"):  # the same signature as JOSE/COSE raw r‖s
            raw = der_to_raw(signature, 32)
            assert public.verify(alg, MESSAGE, raw, encoding=SigEncoding.RAW) is True


@pytest.mark.openssl
@pytest.mark.parametrize("password", [None, "s3cret pass"], ids=["plain", "encrypted"])
@pytest.mark.parametrize("alg", ALGS)
def test_our_private_key_works_in_openssl(
    openssl: OpenSSL, private_keys: dict[str, PrivateKey], alg: str, password: str | None
) -> None:
    spec = SPECS[alg]
    key = private_keys[spec.family]
    key_file = openssl.write("ours.key.pem", key.pem(password.encode() if password else None))
    ours_pub = openssl.write("ours.pub.pem", key.public_key().pem())

    extra = ("-passin", f"pass:{password}") if password else ()
    openssl.run(("pkey", "-in", key_file, *extra, "-noout"))
    if spec.family in ("p256", "rsa"):  # key consistency check (EC point, RSA primes)
        openssl.run(("pkey", "-in", key_file, *extra, "-check", "-noout"))
    if password:  # and the password is really needed
        wrong = openssl.run(
            ("pkey", "-in", key_file, "-passin", "pass:wrong", "-noout"), check=False
        )
        assert wrong.returncode != 0

    # OpenSSL derives the same public key from our private key
    assert (
        load_public_key(openssl.read(openssl.pubout(key_file, "derived.pub.pem", password)))
        == key.public_key()
    )

    # OpenSSL signs with our key; we verify
    msg = openssl.write("msg.bin", MESSAGE)
    signature = openssl.sign(spec, key_file, msg, password=password)
    assert key.public_key().verify(alg, MESSAGE, signature) is True

    # we sign; OpenSSL verifies with our exported public key
    openssl.write("ours.sig", key.sign(alg, MESSAGE))
    assert openssl.verifies(spec, ours_pub, msg, "ours.sig") is True


@pytest.mark.openssl
def test_openssl_verifies_the_annex_a_signature(
    openssl: OpenSSL, vectors: Callable[[str], Any]
) -> None:
    vector = vectors("sm2/gmt0003-annexA.json")["sm2_sign"][0]
    public = public_key_from_jwk(
        {
            "kty": "EC",
            "crv": "SM2",
            "x": b64url(bytes.fromhex(vector["public_key_x"])),
            "y": b64url(bytes.fromhex(vector["public_key_y"])),
        }
    )
    pub = openssl.write("annexA.pub.pem", public.pem())
    msg = openssl.write("annexA.msg", vector["message_ascii"].encode())
    openssl.write("annexA.sig", encode_der_rs(int(vector["r"], 16), int(vector["s"], 16)))
    assert openssl.verifies(SPECS["SM2"], pub, msg, "annexA.sig") is True


@pytest.mark.openssl
def test_openssl_ec_key_without_parameters_block_and_sec1_sm2(openssl: OpenSSL) -> None:
    openssl.run(("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", "p256.pem"))
    assert load_private_key(openssl.read("p256.pem")).family == "p256"
    # `openssl ecparam -name SM2 -genkey` writes "SM2 PARAMETERS" then a PKCS#8 key
    openssl.run(("ecparam", "-name", "SM2", "-genkey", "-out", "sm2.pem"))
    key = load_private_key(openssl.read("sm2.pem"))
    assert key.family == "sm2"
    msg = openssl.write("msg.bin", MESSAGE)
    openssl.write("ours.sig", key.sign("SM2", MESSAGE))
    pub = openssl.pubout("sm2.pem", "sm2.pub.pem")
    assert openssl.verifies(SPECS["SM2"], pub, msg, "ours.sig") is True


@pytest.mark.openssl
def test_openssl_rsa_1024_key_is_refused(openssl: OpenSSL) -> None:
    openssl.run(("genrsa", "-out", "weak.pem", "1024"))
    with pytest.raises(InvalidKey):
        load_private_key(openssl.read("weak.pem"))
    with pytest.raises(InvalidKey):
        load_public_key(openssl.read(openssl.pubout("weak.pem", "weak.pub.pem")))
