"""PAdES B-LT end to end: the hub's CRLs embedded in a /DSS by SealingService, the
``level`` field of the sealing API, ``govtrust seal sign --level B-LT``, and the
verdicts of our verifier and of pyHanko's validator (SQLite and PostgreSQL)."""

from __future__ import annotations

import base64
import io
import json
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from asn1crypto import crl as asn1_crl
from asn1crypto import x509 as asn1_x509
from click.testing import CliRunner
from pdf_samples import blank_pdf
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.dss import DocumentSecurityStore

from govtrust.app import create_app
from govtrust.cli import cli
from govtrust.demo import DEMO_AGENCY_CLIENT, seed_demo
from govtrust.portals import portal_secret
from seal_service.pades import PadesSealError, seal_pdf, verify_pdf
from seal_service.registry import SealError
from seal_service.report import Indication
from seal_service.service import SealRequest
from trust.identifiers import seed_participants
from trust.pki import load_crl
from verifier.documents import verify_document

PDF = blank_pdf()


class _StillClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> None:
        self.now += timedelta(**kwargs)


@pytest.fixture
def clock() -> _StillClock:
    # The CRLs are made at the hub's "now"; pyHanko and our verifier judge them at the
    # real now unless told otherwise — so this hub's clock is the real one, held still.
    return _StillClock(datetime.now(UTC).replace(microsecond=0))


@pytest.fixture
def api(hub: Any) -> Any:
    hub.ensure_hub_keys()
    hub.pki.ensure()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    client = create_app(hub.config, hub=hub).test_client()
    secret = portal_secret(hub.master_key, DEMO_AGENCY_CLIENT)
    basic = base64.b64encode(f"{DEMO_AGENCY_CLIENT}:{secret}".encode()).decode()
    r = client.post(
        "/idp/token",
        data={"grant_type": "client_credentials", "scope": "seal:sign"},
        headers={"Authorization": f"Basic {basic}"},
    )
    assert r.status_code == 200, r.data
    headers = {"Authorization": f"Bearer {r.get_json()['access_token']}"}
    seal = next(s for s in hub.seals.list(holder_id="zj") if s.algorithm == "RS256")
    return hub, client, headers, seal


def _sign(client: Any, seal_id: str, headers: dict[str, str], **form: Any) -> Any:
    data = {"format": "pdf", "x_mm": "100", "y_mm": "100", "file": (io.BytesIO(PDF), "a.pdf")}
    data.update(form)
    return client.post(
        f"/api/seal/v1/seals/{seal_id}/sign",
        data=data,
        headers=headers,
        content_type="multipart/form-data",
    )


def _dss_crls(pdf: bytes) -> list[bytes]:
    dss = PdfFileReader(io.BytesIO(pdf)).root["/DSS"]
    return [ref.get_object().data for ref in dss["/CRLs"]]


def _pyhanko_status(pdf: bytes, roots: list[Any]) -> Any:
    """pyHanko's own validator: the hub roots as the only anchors, revocation data
    required, and only what the document's /DSS holds."""
    reader = PdfFileReader(io.BytesIO(pdf))
    vc = DocumentSecurityStore.read_dss(reader).as_validation_context(
        {
            "trust_roots": [asn1_x509.Certificate.load(r.der) for r in roots],
            "allow_fetching": False,
            "revocation_mode": "require",
        }
    )
    # In a worker thread: Playwright's sync API (browser tests, same session) keeps an
    # event loop running on this thread, and pyHanko's sync wrapper calls asyncio.run.
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(
            validate_pdf_signature, reader.embedded_signatures[0], signer_validation_context=vc
        ).result()


def test_api_seals_at_b_lt_with_the_hubs_crls(api: Any) -> None:
    hub, client, headers, seal = api
    r = _sign(client, seal.id, headers, level="B-LT")
    assert r.status_code == 200, r.data
    assert r.mimetype == "application/pdf" and r.data.startswith(PDF)

    crls = _dss_crls(r.data)
    issuer = {load_crl(c).issuer.der for c in crls}
    seal_cert = hub.seals.get(seal.id).certificate
    assert seal_cert.issuer.der in issuer  # the seal's issuing CA's CRL
    ca = next(c for c in hub.pki.cas() if c.subject.matches(seal_cert.issuer))
    assert ca.issuer.der in issuer  # and its root's CRL (for the CA certificate)
    for der in crls:
        crl = load_crl(der)
        anchor = next(c for c in [*hub.pki.cas(), *hub.pki.roots()] if c.subject == crl.issuer)
        crl.verify(anchor, at=hub.clock())
        assert crl.entry(seal_cert.serial) is None
    assert hub.pki.crl("RS256") in crls  # exactly what /pki/crl/RS256.crl serves now
    served = client.get("/pki/crl/RS256.crl")
    assert served.data in crls

    verdict = verify_document(r.data, roots=hub.pki.roots())
    assert verdict.verdict == "VALID", verdict.to_dict()
    assert verdict.signatures[0]["pades_level"] == "B-LT"
    # The embedded CRLs alone satisfy "revocation data required".
    (report,) = verify_pdf(r.data, trust_roots=hub.pki.roots(), revocation_mode="require")
    assert report.indication is Indication.PASSED, report.checks
    assert report.pades_level == "B-LT" and report.timestamp_valid

    status = _pyhanko_status(r.data, hub.pki.roots())
    assert status.intact and status.valid and status.trusted, status.pretty_print_details()


def test_api_default_is_b_t_and_the_level_is_part_of_idempotency(api: Any) -> None:
    hub, client, headers, seal = api
    plain = _sign(client, seal.id, {**headers, "Idempotency-Key": "k-1"})
    assert plain.status_code == 200, plain.data
    assert b"/DSS" not in plain.data
    verdict = verify_document(plain.data, roots=hub.pki.roots())
    assert verdict.verdict == "VALID" and verdict.signatures[0]["pades_level"] == "B-T"
    explicit = _sign(client, seal.id, {**headers, "Idempotency-Key": "k-1"}, level="B-T")
    assert explicit.status_code == 200 and explicit.headers["Idempotent-Replayed"] == "true"
    other = _sign(client, seal.id, {**headers, "Idempotency-Key": "k-1"}, level="B-LT")
    assert other.status_code == 422


def test_api_tsa_failure_is_503_and_records_nothing(api: Any) -> None:
    """The hub's TSA failing is the hub's problem (503, retry), not a bad document;
    nothing is logged as a seal use."""
    from sqlalchemy import func, select

    from seal_service.models import SealOperation
    from seal_service.tsa_pyhanko import InProcessTimeStamper

    hub, client, headers, seal = api

    def authority() -> Any:
        raise OSError("HSM session closed")

    def operations() -> int:
        with hub.db.session() as s:
            return int(s.scalar(select(func.count()).select_from(SealOperation)) or 0)

    before = operations()
    hub.sealing._timestamper = InProcessTimeStamper(authority)
    r = _sign(client, seal.id, headers)
    assert r.status_code == 503, r.data
    assert r.get_json()["error"] == "tsa_unavailable"
    assert operations() == before


@pytest.mark.parametrize("level", ["B-LTA", "B-B", "b-lt", "B-LT\x00", "x" * 300])
def test_api_unknown_level_is_400(api: Any, level: str) -> None:
    hub, client, headers, seal = api
    r = _sign(client, seal.id, headers, level=level)
    assert r.status_code == 400, r.data
    body = r.get_json()
    assert body["error"] == "invalid_level" and "B-LT" in body["error_description"]
    assert hub.sealing.operations() == []


@pytest.mark.parametrize("level", ["B-LT", "B-LTA", 3, ["B-LT"]])
def test_api_json_hash_mode_refuses_pdf_levels(api: Any, level: Any) -> None:
    hub, client, headers, seal = api
    r = client.post(
        f"/api/seal/v1/seals/{seal.id}/sign",
        json={"format": "cms", "digest": "00" * 32, "level": level},
        headers=headers,
    )
    assert r.status_code == 400, r.data
    assert r.get_json()["error"] == "invalid_level"
    ok = client.post(
        f"/api/seal/v1/seals/{seal.id}/sign",
        json={"format": "cms", "digest": "00" * 32, "level": "B-T"},
        headers=headers,
    )
    assert ok.status_code == 200


def test_openapi_documents_the_level(api: Any) -> None:
    _hub, client, _headers, _seal = api
    doc = client.get("/api/seal/v1/openapi.json").get_json()
    level = doc["components"]["schemas"]["DocumentRequest"]["properties"]["level"]
    assert level["enum"] == ["B-T", "B-LT"] and level["default"] == "B-T"
    assert "level" in doc["components"]["schemas"]["DigestRequest"]["properties"]


def test_a_revoked_seal_is_refused_and_its_certificate_caught(api: Any) -> None:
    hub, client, headers, seal = api
    signer, cert, chain = hub.seals.signer(hub.seals.get(seal.id))
    hub.seals.revoke(seal.id, actor="test", reason="密钥泄露")
    r = _sign(client, seal.id, headers, level="B-LT")
    assert r.status_code == 409 and r.get_json()["error"] == "seal_revoked"
    # Even past the registry, B-LT validation against the hub's CRLs refuses the key.
    assert load_crl(hub.pki.crl("RS256")).entry(cert.serial) is not None
    hub.clock.advance(minutes=1)  # validation after the revocation, as in real life
    context = hub.sealing.pdf_validation_context()
    with pytest.raises(PadesSealError) as info:
        seal_pdf(
            PDF, signer=signer, certificate=cert, chain=chain, seal_png=seal.image_png,
            page=0, x_mm=100, y_mm=100, level="B-LT",
            timestamper=hub.sealing._timestamper, validation_context=context,
        )  # fmt: skip
    assert info.value.code == "pades_signing_failed"
    # A PDF sealed with the key before: the hub's CRLs make it not PASSED.
    before = seal_pdf(
        PDF, signer=signer, certificate=cert, chain=chain, seal_png=seal.image_png,
        page=0, x_mm=100, y_mm=100, level="B-T", timestamper=hub.sealing._timestamper,
    )  # fmt: skip
    crls = [
        asn1_crl.CertificateList.load(hub.pki.crl(alg, root=root))
        for alg in ("RS256", "ES256")
        for root in (False, True)
    ]
    (report,) = verify_pdf(
        before, trust_roots=hub.pki.roots(), revocation_mode="require", crls=crls, at=hub.clock()
    )
    assert report.indication is not Indication.PASSED
    assert report.ades_sub_indication in ("REVOKED", "REVOKED_NO_POE")


def test_service_level_rules(api: Any) -> None:
    hub, _client, _headers, seal = api
    for request, code in (
        (SealRequest(seal_id=seal.id, format="pdf", document=PDF, level="B-B"), "invalid_level"),
        (SealRequest(seal_id=seal.id, format="cms", document=PDF, level="B-LT"), "invalid_level"),
    ):
        with pytest.raises(SealError) as info:
            hub.sealing.seal(request, holder_id="zj", client_id="t")
        assert info.value.code == code
    result = hub.sealing.seal(
        SealRequest(seal_id=seal.id, format="pdf", document=PDF, level="B-LT"),
        holder_id="zj",
        client_id="t",
    )
    assert b"/DSS" in result.data
    (report,) = verify_pdf(
        result.data,
        trust_roots=hub.pki.roots(),
        revocation_mode="require",
        at=hub.clock() + timedelta(minutes=1),
    )
    assert report.indication is Indication.PASSED, report.checks
    # Days later the embedded CRLs are past their nextUpdate; the time-stamp proves the
    # seal existed while they were fresh, so the seal is judged at that time.
    later = hub.clock() + timedelta(days=3)
    (report,) = verify_pdf(result.data, trust_roots=hub.pki.roots(), at=later)
    assert report.indication is Indication.PASSED, report.checks
    assert "at the time-stamp" in next(
        c.detail for c in report.checks if c.name == "certificate_chain"
    )
    assert verify_document(result.data, roots=hub.pki.roots(), at=later).valid
    # Without a usable time-stamp nothing changes: an untrusted TSA stays undecided.
    (report,) = verify_pdf(
        result.data,
        trust_roots=[r for r in hub.pki.roots() if r.signature_algorithm.name == "RS256"],
        at=later,
    )
    assert report.indication is not Indication.PASSED


# --------------------------------------------------------------------------- CLI


@pytest.fixture
def run(config: Any) -> Any:
    def invoke(*args: str) -> Any:
        return CliRunner().invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)

    assert invoke("init", "--demo").exit_code == 0
    return invoke


def test_cli_seal_sign_level_b_lt(run: Any, tmp_path: Path) -> None:
    seals = json.loads(run("seal", "list", "--json").stdout)
    rsa = next(s["id"] for s in seals if s["algorithm"] == "RS256")
    source, target = tmp_path / "in.pdf", tmp_path / "out.pdf"
    source.write_bytes(PDF)
    result = run(
        "seal", "sign", "--seal", rsa, "--in", str(source), "--out", str(target),
        "--x", "100", "--y", "100", "--level", "B-LT",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    sealed = target.read_bytes()
    assert _dss_crls(sealed)
    verdict = run("verify", str(target), "--json")
    assert verdict.exit_code == 0, verdict.output
    body = json.loads(verdict.stdout)
    assert body["verdict"] == "VALID" and body["signatures"][0]["pades_level"] == "B-LT"

    bad = run(
        "seal", "sign", "--seal", rsa, "--in", str(source), "--out", str(tmp_path / "x.pdf"),
        "--level", "B-LTA",
    )  # fmt: skip
    assert bad.exit_code == 2 and not (tmp_path / "x.pdf").exists()
    text = tmp_path / "t.txt"
    text.write_text("x")
    detached = run(
        "seal", "sign", "--seal", rsa, "--in", str(text), "--out", str(tmp_path / "t.p7s"),
        "--detached", "--level", "B-LT",
    )  # fmt: skip
    assert detached.exit_code == 2 and "invalid_level" in detached.stderr
