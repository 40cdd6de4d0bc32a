"""``govtrust pki root|issue|verify`` through click's CliRunner, checked with OpenSSL.

For SM2 chains OpenSSL 3.0 needs ``-vfyopt distid:1234567812345678`` and one
command per link (see tests/trust/test_pki.py).
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from govtrust.cli import cli
from trust import load_private_key
from trust.pki import load_certificate, validate_path

DISTID = "distid:1234567812345678"
ROOT_SUBJECT = "CN=国家政务服务平台 {alg} 根 CA,O=国家政务服务平台,C=CN"


def require_openssl() -> str:
    path = shutil.which("openssl")
    if path is None:
        reason = "'openssl' is not on PATH (Debian package openssl)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip")
        pytest.skip(reason)
    return path


def invoke(*args: str | Path) -> Result:
    return CliRunner().invoke(cli, ["pki", *map(str, args)], catch_exceptions=False)


def ok(*args: str | Path) -> Result:
    result = invoke(*args)
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def make_chain(d: Path, alg: str, *, leaf_purpose: str = "seal") -> dict[str, Path]:
    files = {name: d / f"{name}.pem" for name in ("root", "inter", "leaf")}
    keys = {name: d / f"{name}.key" for name in ("root", "inter", "leaf")}
    ok(
        "root",
        "--alg",
        alg,
        "--subject",
        ROOT_SUBJECT.format(alg=alg),
        "--days",
        "3650",
        "--rsa-bits",
        "2048",
        "--key-out",
        keys["root"],
        "--cert-out",
        files["root"],
    )
    ok(
        "issue",
        "--ca-key",
        keys["root"],
        "--ca-cert",
        files["root"],
        "--key-out",
        keys["inter"],
        "--alg",
        alg,
        "--rsa-bits",
        "2048",
        "--subject",
        "CN=广东省政务服务 CA,O=广东省人民政府,C=CN",
        "--purpose",
        "ca",
        "--days",
        "1825",
        "--cert-out",
        files["inter"],
    )
    ok(
        "issue",
        "--ca-key",
        keys["inter"],
        "--ca-cert",
        files["inter"],
        "--key-out",
        keys["leaf"],
        "--alg",
        alg,
        "--rsa-bits",
        "2048",
        "--subject",
        "CN=某市市场监管局电子印章,O=某市市场监管局,C=CN",
        "--purpose",
        leaf_purpose,
        "--days",
        "365",
        "--cert-out",
        files["leaf"],
    )
    return {**files, **{f"{k}_key": v for k, v in keys.items()}}


@pytest.mark.parametrize("alg", ["SM2", "ES256", "RS256"])
def test_cli_chain_verifies(alg: str, tmp_path: Path) -> None:
    f = make_chain(tmp_path, alg)
    for name in ("root_key", "inter_key", "leaf_key"):
        assert stat.S_IMODE(f[name].stat().st_mode) == 0o600
        assert load_private_key(f[name].read_bytes()).family.value in ("sm2", "p256", "rsa")
    result = ok(
        "verify", "--roots", f["root"], "--untrusted", f["inter"], "--purpose", "seal", f["leaf"]
    )
    assert result.stdout.splitlines()[0] == "OK"
    assert "CN=某市市场监管局电子印章,O=某市市场监管局,C=CN" in result.stdout
    root, inter, leaf = (load_certificate(f[n].read_bytes()) for n in ("root", "inter", "leaf"))
    assert root.subject.common_name == f"国家政务服务平台 {alg} 根 CA"
    assert inter.is_ca and inter.path_length == 0 and leaf.signature_algorithm.name == alg
    assert validate_path(
        leaf, intermediates=[inter], roots=[root], at=datetime.now(UTC), purpose="seal"
    ) == [leaf, inter, root]
    assert root.not_after - root.not_before == timedelta(days=3650, minutes=5)


@pytest.mark.openssl
@pytest.mark.parametrize("alg", ["SM2", "ES256", "RS256", "PS256", "EdDSA"])
def test_openssl_accepts_a_chain_made_by_the_cli(alg: str, tmp_path: Path) -> None:
    openssl = require_openssl()
    f = make_chain(tmp_path, alg, leaf_purpose="tsa")

    def verify(*args: str | Path) -> str:
        proc = subprocess.run(
            [openssl, "verify", "-x509_strict", *map(str, args)], capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stdout + proc.stderr
        return proc.stdout.strip()

    if alg == "SM2":
        assert verify("-vfyopt", DISTID, "-CAfile", f["root"], f["inter"]) == f"{f['inter']}: OK"
        assert (
            verify("-vfyopt", DISTID, "-partial_chain", "-CAfile", f["inter"], f["leaf"])
            == f"{f['leaf']}: OK"
        )
    else:
        assert (
            verify(
                "-CAfile",
                f["root"],
                "-untrusted",
                f["inter"],
                "-purpose",
                "timestampsign",
                f["leaf"],
            )
            == f"{f['leaf']}: OK"
        )
    # OpenSSL's keys are interchangeable: it signs with the key the CLI wrote.
    (tmp_path / "msg").write_bytes(b"hello")
    digest = (
        ["-sm3", "-sigopt", DISTID] if alg == "SM2" else ([] if alg == "EdDSA" else ["-sha256"])
    )
    subprocess.run(
        [openssl, "pkey", "-in", f["leaf_key"], "-pubout", "-out", tmp_path / "pub"],
        check=True,
        capture_output=True,
    )
    assert (
        load_certificate(f["leaf"].read_bytes()).public_key.pem() == (tmp_path / "pub").read_bytes()
    )
    if alg != "EdDSA":
        subprocess.run(
            [
                openssl,
                "dgst",
                *digest,
                "-sign",
                f["leaf_key"],
                "-out",
                tmp_path / "sig",
                tmp_path / "msg",
            ],
            check=True,
            capture_output=True,
        )


@pytest.mark.openssl
def test_issue_for_an_openssl_public_key(tmp_path: Path) -> None:
    openssl = require_openssl()
    f = make_chain(tmp_path, "SM2")
    subprocess.run(
        [openssl, "genpkey", "-algorithm", "SM2", "-out", tmp_path / "o.key"],
        check=True,
        capture_output=True,
    )
    subprocess.run(
        [openssl, "pkey", "-in", tmp_path / "o.key", "-pubout", "-out", tmp_path / "o.pub"],
        check=True,
        capture_output=True,
    )
    ok(
        "issue",
        "--ca-key",
        f["inter_key"],
        "--ca-cert",
        f["inter"],
        "--pub",
        tmp_path / "o.pub",
        "--subject",
        "CN=浙江省 ID token,C=CN",
        "--purpose",
        "id_token",
        "--dns",
        "zjzwfw.gov.cn",
        "--uri",
        "https://www.zjzwfw.gov.cn/",
        "--cert-out",
        tmp_path / "o.pem",
    )
    cert = load_certificate((tmp_path / "o.pem").read_bytes())
    assert cert.dns_names == ("zjzwfw.gov.cn",) and cert.uris == ("https://www.zjzwfw.gov.cn/",)
    result = ok(
        "verify",
        "--roots",
        f["root"],
        "--untrusted",
        f["inter"],
        "--purpose",
        "id_token",
        tmp_path / "o.pem",
    )
    assert result.stdout.startswith("OK\n")


def test_verify_failures_exit_1_with_the_code(tmp_path: Path) -> None:
    f = make_chain(tmp_path, "ES256")
    result = invoke(
        "verify", "--roots", f["root"], "--untrusted", f["inter"], "--purpose", "tsa", f["leaf"]
    )
    assert result.exit_code == 1
    assert result.stdout.strip() == "cert_key_usage"
    assert "govtrust: cert_key_usage:" in result.stderr
    result = invoke("verify", "--roots", f["root"], f["leaf"])
    assert (result.exit_code, result.stdout.strip()) == (1, "cert_unknown_issuer")
    result = invoke("verify", "--roots", f["inter"], "--at", "2099-01-01T00:00:00Z", f["leaf"])
    assert (result.exit_code, result.stdout.strip()) == (1, "cert_expired")
    result = invoke(
        "verify",
        "--roots",
        f["root"],
        "--untrusted",
        f["inter"],
        "--json",
        "--purpose",
        "id_token",
        f["leaf"],
    )
    assert result.exit_code == 1
    assert json.loads(result.stdout)["reasons"] == ["cert_key_usage"]
    assert json.loads(result.stdout)["verdict"] == "INVALID"
    result = invoke("verify", "--roots", f["root"], "--untrusted", f["inter"], "--json", f["leaf"])
    report = json.loads(result.stdout)
    assert result.exit_code == 0 and report["verdict"] == "VALID" and len(report["path"]) == 3


def test_unusable_input_exits_2(tmp_path: Path) -> None:
    f = make_chain(tmp_path, "ES256")
    junk = tmp_path / "junk.pem"
    junk.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    for args in (
        ("verify", "--roots", f["root"], junk),
        ("verify", "--roots", junk, f["leaf"]),
        ("verify", "--roots", tmp_path / "missing.pem", f["leaf"]),
        ("verify", "--roots", f["root"], "--at", "yesterday", f["leaf"]),
        ("verify", "--roots", f["root_key"], f["leaf"]),
    ):
        result = invoke(*args)
        assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert "govtrust: malformed:" in invoke("verify", "--roots", f["root"], junk).stderr


def test_issue_usage_errors_and_refusals(tmp_path: Path) -> None:
    f = make_chain(tmp_path, "ES256")
    base = (
        "issue",
        "--ca-key",
        f["inter_key"],
        "--ca-cert",
        f["inter"],
        "--subject",
        "CN=x",
        "--purpose",
        "log",
        "--cert-out",
        tmp_path / "x.pem",
    )
    assert invoke(*base).exit_code == 2  # neither --pub nor --key-out
    assert invoke(*base, "--key-out", tmp_path / "x.key").exit_code == 2  # no --alg
    both = invoke(*base, "--key-out", tmp_path / "x.key", "--alg", "ES256", "--pub", f["leaf"])
    assert both.exit_code == 2
    # Never overwrite a private key.
    before = f["leaf_key"].read_bytes()
    result = invoke(*base, "--key-out", f["leaf_key"], "--alg", "ES256")
    assert result.exit_code == 2 and "refusing to overwrite" in result.stderr
    assert f["leaf_key"].read_bytes() == before
    # An end-entity certificate cannot issue.
    result = invoke(
        "issue",
        "--ca-key",
        f["leaf_key"],
        "--ca-cert",
        f["leaf"],
        "--key-out",
        tmp_path / "y.key",
        "--alg",
        "ES256",
        "--subject",
        "CN=y",
        "--purpose",
        "log",
        "--cert-out",
        tmp_path / "y.pem",
    )
    assert result.exit_code == 2 and "issuance_refused" in result.stderr
    assert not (tmp_path / "y.key").exists() and not (tmp_path / "y.pem").exists()
    # The CA key must belong to the CA certificate.
    result = invoke(
        "issue",
        "--ca-key",
        f["root_key"],
        "--ca-cert",
        f["inter"],
        "--pub",
        f["leaf"],
        "--subject",
        "CN=z",
        "--purpose",
        "log",
        "--cert-out",
        tmp_path / "z.pem",
    )
    assert result.exit_code == 2 and "issuance_refused" in result.stderr
    result = invoke(
        "root",
        "--alg",
        "ES256",
        "--subject",
        "C=China",
        "--key-out",
        tmp_path / "r.key",
        "--cert-out",
        tmp_path / "r.pem",
    )
    assert result.exit_code == 2 and "invalid_name" in result.stderr
    assert not (tmp_path / "r.key").exists()


def test_intermediate_path_length_via_cli(tmp_path: Path) -> None:
    f = make_chain(tmp_path, "ES256")
    # inter has pathlen 0: a CA below it is issued, but paths through it are refused.
    ok(
        "issue",
        "--ca-key",
        f["inter_key"],
        "--ca-cert",
        f["inter"],
        "--key-out",
        tmp_path / "sub.key",
        "--alg",
        "ES256",
        "--subject",
        "CN=sub",
        "--purpose",
        "ca",
        "--cert-out",
        tmp_path / "sub.pem",
    )
    ok(
        "issue",
        "--ca-key",
        tmp_path / "sub.key",
        "--ca-cert",
        tmp_path / "sub.pem",
        "--key-out",
        tmp_path / "l.key",
        "--alg",
        "ES256",
        "--subject",
        "CN=l",
        "--purpose",
        "log",
        "--cert-out",
        tmp_path / "l.pem",
    )
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(f["inter"].read_bytes() + (tmp_path / "sub.pem").read_bytes())
    result = invoke("verify", "--roots", f["root"], "--untrusted", bundle, tmp_path / "l.pem")
    assert (result.exit_code, result.stdout.strip()) == (1, "cert_path_length")
