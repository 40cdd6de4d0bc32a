"""``govtrust seal``: list, lifecycle and sealing from the command line, checked with
``govtrust verify`` (the same code paths as the API and the verifier)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from pdf_samples import blank_pdf

from govtrust.cli import cli

OFD = Path(__file__).resolve().parent.parent / "vectors" / "seal" / "ofdrw" / "helloworld.ofd"


@pytest.fixture
def run(config):
    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)

    assert invoke("init", "--demo").exit_code == 0
    return invoke


def test_list_shows_the_demo_seals(run) -> None:
    result = run("seal", "list", "--json")
    assert result.exit_code == 0, result.output
    seals = json.loads(result.stdout)
    assert {(s["holder"], s["kind"], s["algorithm"], s["status"]) for s in seals} == {
        ("zj", "official", "SM2", "active"),
        ("zj", "contract", "RS256", "active"),
    }
    lines = run("seal", "list").stdout.strip().splitlines()
    assert len(lines) == 2 and all(line.split("\t")[1] == "zj" for line in lines)


def _seal_id(run, algorithm: str) -> str:
    seals = json.loads(run("seal", "list", "--json").stdout)
    return next(s["id"] for s in seals if s["algorithm"] == algorithm)


def test_sign_ofd_pdf_and_detached_then_verify(run, tmp_path: Path) -> None:
    sm2, rsa = _seal_id(run, "SM2"), _seal_id(run, "RS256")
    pdf = tmp_path / "in.pdf"
    pdf.write_bytes(blank_pdf())
    text = tmp_path / "note.txt"
    text.write_text("准予行政许可决定书")
    cases = [
        (sm2, OFD, tmp_path / "out.ofd", ("--x", "40", "--y", "50")),
        (rsa, pdf, tmp_path / "out.pdf", ("--x", "100", "--y", "100")),
        (sm2, text, tmp_path / "note.ses", ("--detached",)),
        (rsa, text, tmp_path / "note.p7s", ("--detached",)),
    ]
    for seal_id, source, target, extra in cases:
        result = run(
            "seal", "sign", "--seal", seal_id, "--in", str(source), "--out", str(target), *extra
        )
        assert result.exit_code == 0, result.output
        record = json.loads(result.stdout)
        assert record["seal"] == seal_id and record["log_index"] is not None
        assert target.stat().st_size == record["bytes"]
        args = ["verify", str(target), "--json"]
        if "--detached" in extra:
            args += ["--data", str(text)]
        verdict = run(*args)
        assert verdict.exit_code == 0, verdict.output
        assert json.loads(verdict.stdout)["verdict"] == "VALID"
    # The detached signature does not cover another file.
    other = tmp_path / "other.txt"
    other.write_text("另一份文件")
    assert run("verify", str(tmp_path / "note.ses"), "--data", str(other)).exit_code == 1
    history = json.loads(run("seal", "show", sm2).stdout)["events"]
    assert [e["action"] for e in history] == ["seal.applied", "seal.approved", "seal.active"]


def test_lifecycle_from_the_command_line(run, tmp_path: Path) -> None:
    applied = run(
        "seal",
        "apply",
        "--holder",
        "zj",
        "--kind",
        "finance",
        "--name",
        "财务专用章",
        "--algorithm",
        "SM2",
        "--maker",
        "samr",
    )
    assert applied.exit_code == 0, applied.output
    seal_id = json.loads(applied.stdout)["id"]
    assert json.loads(run("seal", "approve", seal_id).stdout)["status"] == "approved"
    assert json.loads(run("seal", "activate", seal_id).stdout)["status"] == "active"
    assert (
        json.loads(run("seal", "suspend", seal_id, "--reason", "审计").stdout)["status"]
        == "suspended"
    )
    out = tmp_path / "x.ses"
    text = tmp_path / "t.txt"
    text.write_text("x")
    refused = run(
        "seal", "sign", "--seal", seal_id, "--in", str(text), "--out", str(out), "--detached"
    )
    assert refused.exit_code == 2 and "seal_suspended" in refused.stderr and not out.exists()
    assert json.loads(run("seal", "revoke", seal_id).stdout)["status"] == "revoked"
    again = run("seal", "reinstate", seal_id)
    assert again.exit_code == 2 and "invalid_transition" in again.stderr
    image = tmp_path / "seal.png"
    assert run("seal", "image", seal_id, "--out", str(image)).exit_code == 0
    assert image.read_bytes().startswith(b"\x89PNG")


def test_bad_input_is_exit_2_with_a_code(run, tmp_path: Path) -> None:
    text = tmp_path / "t.txt"
    text.write_text("not a document")
    sm2 = _seal_id(run, "SM2")
    result = run("seal", "sign", "--seal", sm2, "--in", str(text), "--out", str(tmp_path / "o"))
    assert result.exit_code == 2 and "unsupported_input" in result.stderr
    result = run(
        "seal",
        "sign",
        "--seal",
        "ES-none",
        "--in",
        str(text),
        "--out",
        str(tmp_path / "o"),
        "--detached",
    )
    assert result.exit_code == 2 and "seal_unknown" in result.stderr
    broken = tmp_path / "broken.ofd"
    broken.write_bytes(b"PK\x03\x04" + b"\0" * 40)
    result = run(
        "seal", "sign", "--seal", sm2, "--in", str(broken), "--out", str(tmp_path / "o.ofd")
    )
    assert result.exit_code == 2 and not (tmp_path / "o.ofd").exists()
    result = run(
        "seal",
        "apply",
        "--holder",
        "gd",
        "--kind",
        "official",
        "--name",
        "x",
        "--algorithm",
        "RS256",
    )
    assert result.exit_code == 2 and "role_missing" in result.stderr
