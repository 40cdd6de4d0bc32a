"""Public trust endpoints: the signed trust list and the hub roots."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, request

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


@bp.get("/.well-known/trust-roots.pem")
def trust_roots() -> Any:
    """The hub root certificates. Verifiers must pin these from an out-of-band
    copy (install media, the operator's bulletin); this copy is for comparison."""
    roots = current_app.extensions["govtrust"].pki.roots()
    body = b"".join(c.pem() for c in roots)
    return Response(
        body, mimetype="application/x-pem-file", headers={"Cache-Control": "public, max-age=3600"}
    )
