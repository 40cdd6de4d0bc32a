"""Status-list URIs: short (``<base>/sl/<list>``) for new lists, the long form kept for
lists made before schema revision 0013, both served; and the 居民身份证 QR size with
the URI a real hub puts in its credentials."""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

import cbor2
import pytest
from hub_helpers import demo_world
from sqlalchemy import update

from govtrust.app import create_app
from govtrust.config import Config
from govtrust.hub import Hub
from license_wallet.credential import present_qr_text, verify_presentation
from license_wallet.models import StatusListRecord
from license_wallet.qr import render_qr
from license_wallet.service import LicenseServiceError
from license_wallet.types import example_fields, license_type
from trust.algorithms import COSE_ALG_SM2
from trust.cose import decode_sign1
from trust.crypto import generate_private_key

ID_CARD = license_type("resident_id_card").code


def _issue(hub: Any, holder: Any, issuer: str = "mps") -> Any:
    return hub.licenses.issue(
        issuer, ID_CARD, "acct-1", holder.public_key().jwk(), example_fields(ID_CARD), actor="t"
    )


def _sub(token: bytes) -> str:
    return str(cbor2.loads(decode_sign1(token).payload)[2])


def test_new_lists_have_short_uris_served_at_both_paths(hub: Any, config: Config) -> None:
    demo_world(hub)
    view = _issue(hub, generate_private_key("p256"))
    base = config.base_url.rstrip("/")
    list_id = view.status_list_id
    assert view.status_uri == f"{base}/sl/{list_id}"
    client = create_app(config, hub=hub).test_client()
    short = client.get(f"/sl/{list_id}")
    long = client.get(f"/api/license/v1/status/{list_id}.cwt")
    assert short.status_code == long.status_code == 200
    assert short.headers["Content-Type"] == "application/statuslist+cwt"
    assert short.headers["ETag"] == long.headers["ETag"]
    assert _sub(short.data) == view.status_uri  # the token names the credential's URI
    assert client.get("/sl/nobody.1").status_code == 404
    assert client.get("/sl/" + "x" * 81).status_code == 404
    # the hub's own lookup takes the URI exactly as credentials carry it
    assert hub.licenses.status_of(view.status_uri, view.status_idx) == 0
    for wrong in (
        f"{base}/api/license/v1/status/{list_id}.cwt",  # the other form of this list
        f"{base}/sl/{list_id}/",
        f"https://elsewhere.example/sl/{list_id}",
        f"{base}/sl/",
    ):
        with pytest.raises(LicenseServiceError) as err:
            hub.licenses.status_of(wrong, view.status_idx)
        assert err.value.code == "status_list_unknown"


def test_lists_from_before_0013_keep_their_long_uri(config: Config, clock: Any) -> None:
    hub = Hub(config, clock=clock)
    hub.migrate()
    try:
        demo_world(hub)
        holder = generate_private_key("p256")
        first = _issue(hub, holder)
        with hub.db.write() as s:  # as a list made before the migration looks
            s.execute(update(StatusListRecord).values(uri_path=None))
    finally:
        hub.close()
    hub = Hub(config, clock=clock)  # a restarted hub: nothing cached
    try:
        base = config.base_url.rstrip("/")
        legacy = f"{base}/api/license/v1/status/{first.status_list_id}.cwt"
        again = _issue(hub, holder)
        assert again.status_list_id == first.status_list_id
        assert again.status_uri == legacy  # same list, same URI as its older credentials
        assert hub.licenses.status_of(legacy, first.status_idx) == 0
        token = hub.licenses.status_list_token(first.status_list_id)
        assert _sub(token.token) == legacy
        bundle = hub.verifier_bundle()
        assert legacy.encode() in bundle
        qr = present_qr_text(again.credential, "minimal", holder.signer("ES256"), now=clock())
        verdict = verify_presentation(
            qr,
            issuer_keys=hub.licenses.issuer_keys(),
            now=clock() + timedelta(seconds=1),
            status_lookup=hub.licenses.status_of,
        )
        assert verdict.status_uri == legacy
    finally:
        hub.close()


@pytest.mark.parametrize(("issuer", "algorithm"), [("mps", "SM2"), ("gd", "ES256")])
def test_id_card_minimal_presentation_fits_version_20_m_with_a_real_hub_uri(
    config: Config, clock: Any, issuer: str, algorithm: str
) -> None:
    """The size target of the issue, with the status URI the service itself builds
    for a hub at a realistic national address (not a shortened test URI)."""
    real = dataclasses.replace(config, base_url="https://trust.zwfw.gov.cn")
    hub = Hub(real, clock=clock)
    hub.migrate()
    try:
        demo_world(hub)
        if issuer != "mps":  # a province with an ES256 license key, allowed ID cards here
            hub.registry.grant_license_type(issuer, ID_CARD, actor="test")
        holder = generate_private_key("p256")
        view = _issue(hub, holder, issuer)
        assert decode_sign1(view.credential).alg == {"SM2": COSE_ALG_SM2, "ES256": -7}[algorithm]
        assert view.status_uri.startswith("https://trust.zwfw.gov.cn/sl/")
        for _ in range(5):  # fresh salts and signatures each time: the worst case counts
            qr = present_qr_text(
                view.credential,
                "minimal",
                holder.signer("ES256"),
                now=clock(),
                nonce=b"\x5a" * 8,
            )
            assert render_qr(qr, error="M").version <= 20, len(qr)
    finally:
        hub.close()
