"""Public trust endpoints: the signed trust list, the hub roots and the hub CAs' CRLs."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

bp = Blueprint("trust", __name__)


@bp.get("/.well-known/trust-list")
def trust_list() -> Any:
    """The latest signed trust list, with ETag / conditional GET."""
    published = current_app.extensions["govtrust"].trust_lists.current()
    if request.if_none_match.contains_weak(published.digest):
        response = Response(status=304)
    else:
        response = Response(published.document, mimetype="application/json")
    response.set_etag(published.digest)
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["X-Trust-List-Sequence"] = str(published.sequence)
    response.last_modified = published.issued_at
    return response


@bp.get("/verifier/bundle.json")
def verifier_bundle() -> Any:
    """The offline verifiers' trust bundle (``govtrust verifier sync``): the signed
    trust list, every license status list and the log checkpoint. Each part is
    signed on its own; the envelope is not, and verifiers trust nothing in it."""
    from verifier.bundle import BUNDLE_MEDIA_TYPE

    body = current_app.extensions["govtrust"].verifier_bundle()
    response = Response(body, mimetype=BUNDLE_MEDIA_TYPE)
    response.set_etag(hashlib.sha256(body).hexdigest()[:32])
    response.headers["Cache-Control"] = "public, max-age=60"
    return response.make_conditional(request)


@bp.get("/.well-known/trust-roots.pem")
def trust_roots() -> Any:
    """The hub root certificates. Verifiers must pin these from an out-of-band
    copy (install media, the operator's bulletin); this copy is for comparison."""
    roots = current_app.extensions["govtrust"].pki.roots()
    body = b"".join(c.pem() for c in roots)
    return Response(
        body, mimetype="application/x-pem-file", headers={"Cache-Control": "public, max-age=3600"}
    )


@bp.get("/pki/crl/<name>.crl")
def crl(name: str) -> Any:
    """The current X.509 v2 CRL (RFC 5280 §5) of a hub CA, DER as
    ``application/pkix-crl`` (RFC 2585 §4.2): ``/pki/crl/ES256.crl`` for the
    ECDSA issuing CA (which certifies seals), ``/pki/crl/ES256-root.crl`` for the
    ECDSA root; likewise ``SM2`` and ``RS256``. Cacheable for five minutes:
    a revocation reaches fetchers at most that late."""
    from trust.errors import CertificateError
    from trust.pki import load_crl

    alg, _, which = name.partition("-")
    if which not in ("", "root") or alg not in ("SM2", "ES256", "RS256"):
        abort(404, description="CRLs: /pki/crl/{SM2,ES256,RS256}[-root].crl")
    try:
        der = current_app.extensions["govtrust"].pki.crl(alg, root=which == "root")
    except CertificateError:
        abort(404, description=f"no {name} CA yet")
    parsed = load_crl(der)
    response = Response(der, mimetype="application/pkix-crl")
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Content-Disposition"] = (
        f'attachment; filename="{alg}{"-root" if which else ""}.crl"'
    )
    response.set_etag(hashlib.sha256(der).hexdigest())
    response.last_modified = parsed.this_update
    if parsed.next_update is not None:
        response.expires = parsed.next_update
    return response.make_conditional(request)
