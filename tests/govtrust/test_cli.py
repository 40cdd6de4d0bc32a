"""The command line: init is idempotent, crypto sign/verify exit codes, keys."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from govtrust.cli import cli
from govtrust.config import Config
from govtrust.hub import HUB_KEYS
from trust import generate_private_key


@pytest.fixture
def run(config):
    runner = CliRunner()

    def invoke(*args: str):
        return runner.invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)

    return invoke


def test_init_is_idempotent(run):
    first = run("init")
    assert first.exit_code == 0, first.output
    created = json.loads(first.output)["hub_keys_created"]
    assert len(created) == len(HUB_KEYS) == 9  # incl. the two TSA keys
    second = run("init", "--demo")
    assert second.exit_code == 0
    assert json.loads(second.output)["hub_keys_created"] == []


def test_keys_list_generate_rotate(run):
    run("init")
    out = run("keys", "generate", "--purpose", "seal", "--alg", "SM2", "--owner", "zj")
    assert out.exit_code == 0, out.output
    kid = json.loads(out.output)["kid"]
    listed = json.loads(run("keys", "list", "--json", "--owner", "zj").output)
    assert [k["kid"] for k in listed] == [kid]
    rot = run("keys", "rotate", "--purpose", "seal", "--alg", "SM2", "--owner", "zj")
    assert rot.exit_code == 0
    listed = json.loads(run("keys", "list", "--json", "--owner", "zj").output)
    assert sorted(k["state"] for k in listed) == ["active", "retiring"]
    jwks = json.loads(run("keys", "jwks", "--purpose", "seal", "--owner", "zj").output)
    assert len(jwks["keys"]) == 2 and all("d" not in k for k in jwks["keys"])


def test_keys_generate_refuses_wrong_algorithm(run):
    run("init")
    out = run("keys", "generate", "--purpose", "license", "--alg", "RS256")
    assert out.exit_code == 2
    assert "unsupported_algorithm" in out.output


@pytest.mark.parametrize(
    "family,alg",
    [("sm2", "SM2"), ("p256", "ES256"), ("rsa", "RS256"), ("rsa", "PS256"), ("ed25519", "EdDSA")],
)
def test_crypto_sign_verify_exit_codes(run, tmp_path, family, alg):
    key = generate_private_key(family, rsa_bits=2048)
    (tmp_path / "k.pem").write_bytes(key.pem())
    (tmp_path / "p.pem").write_bytes(key.public_key().pem())
    (tmp_path / "m").write_bytes(b"document")
    r = run(
        "crypto",
        "sign",
        "--alg",
        alg,
        "--key",
        str(tmp_path / "k.pem"),
        "--in",
        str(tmp_path / "m"),
        "--out",
        str(tmp_path / "s"),
    )
    assert r.exit_code == 0, r.output
    ok = run(
        "crypto",
        "verify",
        "--alg",
        alg,
        "--pub",
        str(tmp_path / "p.pem"),
        "--in",
        str(tmp_path / "m"),
        "--sig",
        str(tmp_path / "s"),
    )
    assert ok.exit_code == 0 and "Verified OK" in ok.output
    (tmp_path / "m").write_bytes(b"documenT")
    bad = run(
        "crypto",
        "verify",
        "--alg",
        alg,
        "--pub",
        str(tmp_path / "p.pem"),
        "--in",
        str(tmp_path / "m"),
        "--sig",
        str(tmp_path / "s"),
    )
    assert bad.exit_code == 1 and "Verification failure" in bad.output


def test_crypto_verify_unusable_input_exits_2(run, tmp_path):
    (tmp_path / "junk.pem").write_bytes(
        b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n"
    )
    (tmp_path / "m").write_bytes(b"x")
    (tmp_path / "s").write_bytes(b"y")
    r = run(
        "crypto",
        "verify",
        "--alg",
        "SM2",
        "--pub",
        str(tmp_path / "junk.pem"),
        "--in",
        str(tmp_path / "m"),
        "--sig",
        str(tmp_path / "s"),
    )
    assert r.exit_code == 2 and "invalid_key" in r.output
    missing = run(
        "crypto",
        "verify",
        "--alg",
        "SM2",
        "--pub",
        str(tmp_path / "nope.pem"),
        "--in",
        str(tmp_path / "m"),
        "--sig",
        str(tmp_path / "s"),
    )
    assert missing.exit_code == 2
    key = generate_private_key("p256")
    (tmp_path / "p.pem").write_bytes(key.public_key().pem())
    wrong = run(
        "crypto",
        "verify",
        "--alg",
        "SM2",
        "--pub",
        str(tmp_path / "p.pem"),
        "--in",
        str(tmp_path / "m"),
        "--sig",
        str(tmp_path / "s"),
    )
    assert wrong.exit_code == 2 and "unsupported_algorithm" in wrong.output


def test_config_rejects_unknown_keys():
    with pytest.raises(ValueError):
        Config.from_mapping({"data_dir": "x", "databse_url": "typo"})
