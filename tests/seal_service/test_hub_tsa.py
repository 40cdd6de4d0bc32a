"""The hub's RFC 3161 time-stamping authority: ``POST /tsa`` (ES256 and SM2), OpenSSL
accepting its replies, and PAdES seals through the sealing service at level B-T."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from pdf_samples import blank_pdf

from govtrust.app import create_app
from govtrust.demo import seed_demo
from govtrust.hub import HUB_TSA_POLICY
from seal_service.pades import verify_pdf
from seal_service.service import SealRequest
from seal_service.tsa import (
    PKIFailure,
    make_request,
    new_nonce,
    parse_response,
    verify_timestamp_response,
)
from trust.hashes import sm3
from trust.identifiers import seed_participants


@pytest.fixture
def served(hub: Any) -> Any:
    hub.ensure_hub_keys()
    hub.pki.ensure()
    return hub, create_app(hub.config, hub=hub).test_client()


def _query(client: Any, body: bytes, path: str = "/tsa") -> Any:
    return client.post(path, data=body, content_type="application/timestamp-query")


@pytest.mark.parametrize(
    ("path", "alg", "hash_name"), [("/tsa", "ES256", "sha256"), ("/tsa/SM2", "SM2", "sm3")]
)
def test_hub_tsa_grants_verifiable_tokens(
    served: Any, clock: Any, path: str, alg: str, hash_name: str
) -> None:
    hub, client = served
    data = "电子证照 签发记录".encode()
    digest = sm3(data) if hash_name == "sm3" else hashlib.sha256(data).digest()
    nonce = new_nonce()
    r = _query(client, make_request(hash_name, digest, nonce=nonce), path)
    assert r.status_code == 200 and r.mimetype == "application/timestamp-reply"
    info = verify_timestamp_response(
        r.data,
        digest_alg=hash_name,
        digest=digest,
        trusted_certs=hub.pki.roots(),
        intermediates=hub.pki.cas(),
        nonce=nonce,
    )
    assert abs((info.gen_time - clock.now).total_seconds()) < 1
    assert info.policy == HUB_TSA_POLICY
    assert info.path and info.path[-1] in hub.pki.roots()
    assert info.tsa_certificate.public_key.family.name.startswith(("SM2", "P256"))
    two = verify_timestamp_response(
        _query(client, make_request(hash_name, digest), path).data,
        digest_alg=hash_name,
        digest=digest,
        trusted_certs=hub.pki.roots(),
        intermediates=hub.pki.cas(),
    )
    assert two.serial != info.serial


def test_bad_queries(served: Any) -> None:
    hub, client = served
    r = client.post("/tsa", data=b"x", content_type="application/octet-stream")
    assert r.status_code == 415
    r = _query(client, b"\x30" + b"\x00" * 5000)
    assert r.status_code == 413
    r = _query(client, b"\x30\x03\x02\x01\x01")  # DER, but not a TimeStampReq
    assert r.status_code == 200
    parsed = parse_response(r.data)
    assert not parsed.granted and PKIFailure.BAD_DATA_FORMAT in parsed.failures
    assert _query(client, make_request("sha256", b"\0" * 32), "/tsa/RSA").status_code == 404


def test_openssl_verifies_the_hub_tsa(served: Any, tmp_path: Path) -> None:
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI") == "true":
            pytest.fail("required in CI: 'openssl' not found (Debian package openssl)")
        pytest.skip("'openssl' not found")
    hub, client = served
    data = tmp_path / "doc.txt"
    data.write_bytes(b"time-stamped by the hub")
    query = tmp_path / "q.tsq"
    subprocess.run(
        [openssl, "ts", "-query", "-data", str(data), "-sha256", "-cert", "-out", str(query)],
        check=True,
        capture_output=True,
    )
    reply = tmp_path / "r.tsr"
    reply.write_bytes(_query(client, query.read_bytes()).data)
    roots = tmp_path / "roots.pem"
    roots.write_bytes(b"".join(c.pem() for c in hub.pki.roots()))
    cas = tmp_path / "cas.pem"
    cas.write_bytes(b"".join(c.pem() for c in hub.pki.cas()))
    ok = subprocess.run(
        [
            openssl,
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(reply),
            "-CAfile",
            str(roots),
            "-untrusted",
            str(cas),
        ],
        capture_output=True,
        text=True,
    )
    assert ok.returncode == 0 and "Verification: OK" in ok.stdout, ok.stdout + ok.stderr
    data.write_bytes(b"something else")
    bad = subprocess.run(
        [
            openssl,
            "ts",
            "-verify",
            "-data",
            str(data),
            "-in",
            str(reply),
            "-CAfile",
            str(roots),
            "-untrusted",
            str(cas),
        ],
        capture_output=True,
        text=True,
    )
    assert bad.returncode != 0


def test_pdf_seals_are_b_t_with_the_hub_timestamp(served: Any, clock: Any) -> None:
    hub, _client = served
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    rsa = next(s for s in hub.seals.list(holder_id="zj") if s.algorithm == "RS256")
    result = hub.sealing.seal(
        SealRequest(seal_id=rsa.id, format="pdf", document=blank_pdf(), x_mm=80, y_mm=80),
        holder_id="zj",
        client_id="test",
    )
    (report,) = verify_pdf(result.data, trust_roots=hub.pki.roots())
    assert report.indication.value == "PASSED", report
    assert report.timestamp_valid is True
    assert report.timestamp_time is not None
    assert abs((report.timestamp_time - clock.now).total_seconds()) < 2
