"""``govtrust license``: types, issue, lifecycle, present and verify from the command
line, on the same code path as the API (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from govtrust.cli import cli
from govtrust.hub import Hub
from license_wallet.types import license_type
from trust.crypto import generate_private_key

ID_CARD = license_type("resident_id_card").code


@pytest.fixture
def run(config):
    def invoke(*args: str):
        return CliRunner().invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)

    assert invoke("init", "--demo").exit_code == 0
    return invoke


@pytest.fixture
def holder(tmp_path: Path) -> tuple[Path, Path]:
    key = generate_private_key("p256")
    private, public = tmp_path / "holder.pem", tmp_path / "holder.pub.pem"
    private.write_bytes(key.pem())
    public.write_bytes(key.public_key().pem())
    return private, public


def test_types_lists_catalogue_and_issuers(run) -> None:
    result = run("license", "types", "--json")
    assert result.exit_code == 0, result.output
    types = {t["slug"]: t for t in json.loads(result.stdout)}
    assert len(types) == 6
    assert types["resident_id_card"]["code"] == ID_CARD
    assert types["resident_id_card"]["issuers"] == ["mps"]
    assert types["business_license"]["issuers"] == ["samr"]
    assert "vehicle_class" in [f["key"] for f in types["driving_license"]["fields"]]
    plain = run("license", "types").stdout.splitlines()
    assert len(plain) == 6 and plain[0].split("\t")[1] == "居民身份证"


def test_issue_present_verify_revoke(run, holder, tmp_path: Path, config) -> None:
    private, public = holder
    fields = [
        "holder_name=张晓明",
        "holder_code=330106199003071236",
        "sex=男",
        "birth_date=1990-03-07",
        "address=浙江省杭州市西湖区文三路100号3幢201室",
        "issuer_name=杭州市公安局西湖分局",
        "ethnicity=汉",
    ]
    args = ["license", "issue", "--issuer", "mps", "--type", ID_CARD]
    args += ["--holder-key", str(public), "--valid-until", "2040-01-01", "--json"]
    for f in fields:
        args += ["--field", f]
    result = run(*args)
    assert result.exit_code == 0, result.output
    lic = json.loads(result.stdout)
    assert lic["issuer"] == "mps" and lic["status"] == "valid" and lic["log_index"] is not None
    assert lic["holder"].startswith("key:")

    png = tmp_path / "qr.png"
    shown = run(
        "license", "present", lic["id"], "--holder-key", str(private),
        "--disclose", "holder_name,birth_date", "--png", str(png),
    )  # fmt: skip
    assert shown.exit_code == 0, shown.output
    qr = shown.stdout.strip()
    assert qr.startswith("GT1:") and png.read_bytes().startswith(b"\x89PNG")

    verified = run("license", "verify", qr, "--json")
    assert verified.exit_code == 0, verified.output
    out = json.loads(verified.stdout)
    assert out["verdict"] == "VALID" and out["status"] == "VALID"
    assert out["fields"] == {"holder_name": "张晓明", "birth_date": "1990-03-07"}

    counter = run("verify", "--text", qr, "--json")  # the counter's command, same verdict
    assert counter.exit_code == 0, counter.output
    body = json.loads(counter.stdout)
    assert (body["verdict"], body["reasons"]) == ("VALID", [])
    assert body["issuer"]["id"] == "mps" and body["license"]["identifier"] == lic["identifier"]
    qr_file = tmp_path / "scan.txt"
    qr_file.write_text(qr + "\n")  # what a keyboard-wedge scanner saved
    photo = run("verify", str(png), "--json")  # the PNG the wallet would show, as a picture
    assert photo.exit_code == 0, photo.output
    assert json.loads(photo.stdout)["input"] == "qr-image"
    human = run("verify", str(qr_file))
    assert human.exit_code == 0 and human.stdout.splitlines()[0] == "有效 VALID"
    assert "张晓明" in human.stdout

    assert run("license", "suspend", lic["id"]).exit_code == 0
    counter = run("verify", "--text", qr, "--json")
    assert counter.exit_code == 1 and json.loads(counter.stdout)["reasons"] == ["suspended"]
    refused = run("license", "verify", qr, "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["reason"] == "license_suspended"
    assert run("license", "reinstate", lic["id"]).exit_code == 0
    # The issuer's authorisation for the type withdrawn: both commands refuse it.
    hub = Hub(config)
    try:
        hub.registry.revoke_license_type("mps", out["type_code"], actor="test")
    finally:
        hub.close()
    refused = run("license", "verify", qr, "--json")
    assert refused.exit_code == 1
    assert json.loads(refused.stdout)["reason"] == "issuer_not_authorized_for_type"
    counter = run("verify", "--text", qr, "--json")
    assert counter.exit_code == 1
    assert json.loads(counter.stdout)["reasons"] == ["issuer_not_authorized_for_type"]
    hub = Hub(config)
    try:
        hub.registry.grant_license_type("mps", out["type_code"], actor="test")
    finally:
        hub.close()
    assert run("license", "verify", qr, "--json").exit_code == 0
    assert run("license", "revoke", lic["id"], "--reason", "test").exit_code == 0
    refused = run("license", "verify", qr, "--json")
    assert json.loads(refused.stdout)["reason"] == "license_revoked"
    again = run("license", "reinstate", lic["id"])
    assert again.exit_code == 2 and "invalid_transition" in again.stderr

    show = json.loads(run("license", "show", lic["id"]).stdout)
    assert [e["action"] for e in show["events"]] == [
        "license.issued",
        "license.suspended",
        "license.reinstated",
        "license.revoked",
    ]


def test_errors_are_typed(run, holder) -> None:
    _private, public = holder
    result = run(
        "license", "issue", "--issuer", "samr", "--type", "resident_id_card",
        "--holder-key", str(public), "--field", "holder_name=张三",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "license_type_not_granted" in result.stderr
    result = run(
        "license", "issue", "--issuer", "mps", "--type", "resident_id_card",
        "--holder-key", str(public), "--field", "holder_name=张三",
    )  # fmt: skip
    assert result.exit_code == 2 and "field_missing" in result.stderr
    assert run("license", "revoke", "nope").exit_code == 2
    bad = run("license", "verify", "GT1:%%%", "--json")
    assert bad.exit_code == 1
    assert json.loads(bad.stdout)["reason"] == "presentation_malformed"


def test_bulk_import_from_csv(run, holder, tmp_path: Path) -> None:
    import csv

    from license_wallet.types import example_fields

    _private, public = holder
    from trust.crypto import load_public_key

    jwk = json.dumps(load_public_key(public.read_bytes()).jwk())
    fields = example_fields("business_license")
    path = tmp_path / "batch.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, ["holder", "holder_key", "valid_until", *fields])
        w.writeheader()
        w.writerow({"holder": "ent-1", "holder_key": jwk, **fields})
        w.writerow({"holder": "ent-2", "holder_key": jwk, **fields, "holder_code": "BAD"})
        w.writerow({"holder": "ent-3", "holder_key": "{not json", **fields})
        w.writerow({"holder": "ent-4", "holder_key": jwk, "valid_until": "2030-01-01", **fields})
    result = run("license", "import", "--issuer", "samr", "--type", "business_license",
                 str(path), "--json")  # fmt: skip
    assert result.exit_code == 1, result.output
    out = json.loads(result.stdout)
    assert (out["issued"], out["failed"]) == (2, 2)
    by_line = {r["line"]: r for r in out["results"]}
    assert by_line[3]["field"] == "holder_code" and by_line[4]["error"] == "invalid_row"
    issued = json.loads(run("license", "show", by_line[5]["id"]).stdout)
    assert issued["issuer"] == "samr" and issued["valid_until"].startswith("2029-12-31T16:00")
    plain = run("license", "import", "--issuer", "samr", "--type", "business_license", str(path))
    assert plain.exit_code == 1 and "issued 2, failed 2" in plain.stdout
    assert "line 3: field_bad_uscc holder_code" in plain.stderr
    assert "issuing" in plain.stderr  # the progress bar (its label when not a terminal)
    assert "issuing" not in result.stderr  # hidden under --json
