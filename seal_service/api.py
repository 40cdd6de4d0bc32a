"""The sealing API (``/api/seal/v1``): agencies seal documents with their own seals.

Callers are agency machine clients of the hub with an RFC 9068 access token from
``client_credentials`` and scope ``seal:sign`` (``Authorization: Bearer …``). The
token's client must belong to a registry participant: that participant is the
caller's agency, and only its own seals may be listed or used (403 and an audit
event otherwise — :class:`seal_service.service.SealingService`).

Endpoints (described in OpenAPI 3.1 at ``/api/seal/v1/openapi.json``):

* ``GET  /api/seal/v1/seals`` — the agency's seals;
* ``GET  /api/seal/v1/seals/{id}`` and ``…/{id}/image.png``;
* ``POST /api/seal/v1/seals/{id}/sign`` — ``multipart/form-data`` with ``file``
  and ``format`` (``ofd``, ``pdf``, ``ses``, ``cms``) and, for documents,
  ``page``/``x_mm``/``y_mm``/``cross_page``, and for ``pdf`` an optional
  ``level`` (``B-T``, the default, or ``B-LT``: the hub's CA certificates and
  CRLs embedded in a /DSS); or ``application/json``
  ``{"format": "ses"|"cms", "digest": hex, "digest_alg": "sm3"|"sha256"}``
  (hash mode; ``level`` is accepted and must be absent or ``B-T``, as it applies
  to PDF only). An unknown level is a 400 ``invalid_level``. The response body is the sealed document or the detached
  signature; ``Seal-Operation`` and ``Seal-Log-Index`` headers name the stored
  record. ``Idempotency-Key`` is honoured (same key + same request → same
  bytes, other request → 422).

Bodies are capped before parsing (413, the application's limit), every caller
has a token bucket (429 with ``Retry-After``; shared by every worker through
Redis when ``REDIS_URL`` is set, else per worker process — the effective limit
is then the number of workers times the rate), and every error is
JSON ``{"error": code, "error_description": text}`` — never a 500 for bad input.
"""

from __future__ import annotations

import json
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response

from govtrust.ratelimit import RateLimiter, rate_limiter, retry_after
from trust.errors import TrustError

from .registry import SealError, SealView
from .service import (
    DEFAULT_PADES_LEVEL,
    FORMATS,
    PADES_LEVELS,
    IdempotencyConflict,
    SealForbidden,
    SealRequest,
)

__all__ = ["RATE_BURST", "RATE_PER_SECOND", "bp", "openapi", "tsa_bp"]

bp = Blueprint("seal_api", __name__, url_prefix="/api/seal/v1")
#: RFC 3161 over HTTP (§3.4): ``POST /tsa`` with ``application/timestamp-query``.
tsa_bp = Blueprint("tsa", __name__)
MAX_TSA_QUERY: Final = 4096

SCOPE: Final = "seal:sign"
RATE_PER_SECOND: Final = 50.0
RATE_BURST: Final = 100
_STATUS_FOR_CODE: Final = {
    "seal_unknown": 404,
    "seal_forbidden": 403,
    "idempotency_conflict": 422,
    "seal_suspended": 409,
    "seal_revoked": 409,
    "seal_expired": 409,
    "seal_applied": 409,
    "seal_approved": 409,
}
# The hub's side failed (the seal key's HSM, the time-stamping authority): retry later.
_UNAVAILABLE: Final = frozenset({"signer_failed", "tsa_unavailable"})


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _buckets() -> RateLimiter:
    """One bucket per machine client: shared by every worker when the hub has a
    Redis (``REDIS_URL``), else per process (:func:`govtrust.ratelimit.rate_limiter`)."""
    found = current_app.extensions.get("govtrust_seal_buckets")
    if found is None:
        found = rate_limiter(_hub().config.redis_url, "seal-api", RATE_PER_SECOND, RATE_BURST)
        current_app.extensions["govtrust_seal_buckets"] = found
    return found  # type: ignore[no-any-return]


def _error(code: str, description: str, status: int, **headers: str) -> Response:
    response = jsonify({"error": code, "error_description": description})
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


class _Caller:
    def __init__(self, client_id: str, holder_id: str) -> None:
        self.client_id, self.holder_id = client_id, holder_id


def _authenticate() -> _Caller | Response:
    from idp.tokens import TokenError

    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() != "bearer " or not auth[7:].strip():
        return _error("invalid_token", "a bearer token is required", 401, WWW_Authenticate="Bearer")
    idp = _hub().idp
    try:
        claims = idp.tokens.validate_access_token(auth[7:].strip(), required_scopes=(SCOPE,))
    except TokenError as exc:
        status = 403 if exc.code == "insufficient_scope" else 401
        return _error(exc.code, exc.message, status, WWW_Authenticate=f'Bearer error="{exc.code}"')
    if not idp.access_token_active(claims.jti):
        return _error("invalid_token", "the token was revoked", 401)
    client = idp.clients.get(claims.client_id)
    if client is None or not client.participant_id:
        return _error("forbidden", "the client does not belong to an agency", 403)
    wait = _buckets().take(client.client_id)
    if wait > 0:
        return _error("rate_limited", "too many requests", 429, Retry_After=retry_after(wait))
    return _Caller(client.client_id, client.participant_id)


def _own_seal(caller: _Caller, seal_id: str) -> SealView | Response:
    try:
        seal = _hub().seals.get(seal_id)
    except SealError as exc:
        return _error(exc.code, exc.message, 404)
    if seal.holder_id != caller.holder_id:
        current_app.logger.warning(
            "seal api: %s (%s) asked for seal %s of %s",
            caller.client_id,
            caller.holder_id,
            seal_id,
            seal.holder_id,
        )
        return _error("seal_forbidden", "this seal is not your agency's", 403)
    return seal


@bp.get("/seals")
def list_seals() -> Response:
    caller = _authenticate()
    if isinstance(caller, Response):
        return caller
    seals = _hub().seals.list(holder_id=caller.holder_id)
    return jsonify({"holder": caller.holder_id, "seals": [s.as_json() for s in seals]})


@bp.get("/seals/<seal_id>")
def get_seal(seal_id: str) -> Response:
    caller = _authenticate()
    if isinstance(caller, Response):
        return caller
    seal = _own_seal(caller, seal_id)
    return seal if isinstance(seal, Response) else jsonify(seal.as_json())


@bp.get("/seals/<seal_id>/image.png")
def seal_image(seal_id: str) -> Response:
    caller = _authenticate()
    if isinstance(caller, Response):
        return caller
    seal = _own_seal(caller, seal_id)
    if isinstance(seal, Response):
        return seal
    response = Response(seal.image_png, mimetype="image/png")
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


@bp.post("/seals/<seal_id>/sign")
def sign(seal_id: str) -> Response:
    caller = _authenticate()
    if isinstance(caller, Response):
        return caller
    try:
        sealing_request = _sealing_request(seal_id)
    except _BadLevel as exc:
        return _error("invalid_level", str(exc), 400)
    except _BadRequest as exc:
        return _error("invalid_request", str(exc), 400)
    except HTTPException as exc:  # 413 while reading the body
        return _error("request_too_large", exc.description or "", exc.code or 400)
    key = request.headers.get("Idempotency-Key")
    try:
        result = _hub().sealing.seal(
            sealing_request,
            holder_id=caller.holder_id,
            client_id=caller.client_id,
            idempotency_key=key,
        )
    except SealForbidden as exc:
        return _error(exc.code, exc.message, 403)
    except IdempotencyConflict as exc:
        return _error(exc.code, exc.message, 422)
    except SealError as exc:
        return _error(exc.code, exc.message, _STATUS_FOR_CODE.get(exc.code, 400))
    except TrustError as exc:  # the document itself (OFD/PDF/ASN.1) is unusable
        if exc.code in _UNAVAILABLE:  # our key or TSA, not the caller's request
            return _error(exc.code, exc.message, 503)
        return _error(exc.code, exc.message, 422 if exc.code.startswith("seal") else 400)
    response = Response(result.data, mimetype=result.media_type)
    response.headers["Seal-Operation"] = result.operation_id
    if result.log_index is not None:
        response.headers["Seal-Log-Index"] = str(result.log_index)
    response.headers["Seal-Digest"] = f"{result.digest_alg}={result.digest_hex}"
    if result.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Cache-Control"] = "no-store"
    extension = {"ofd": "ofd", "pdf": "pdf", "ses": "ses", "cms": "p7s"}[result.format]
    response.headers["Content-Disposition"] = f'attachment; filename="sealed.{extension}"'
    return response


class _BadRequest(ValueError):
    pass


class _BadLevel(_BadRequest):
    pass


def _level(value: object) -> str:
    if value is None or value == "":
        return DEFAULT_PADES_LEVEL
    if not isinstance(value, str) or value not in PADES_LEVELS:
        shown = value[:20] if isinstance(value, str) else type(value).__name__
        raise _BadLevel(f"level must be one of {', '.join(PADES_LEVELS)}, not {shown!r}")
    return value


def _number(form: Any, name: str, default: float, low: float, high: float) -> float:
    raw = form.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise _BadRequest(f"{name} must be a number") from None
    if not low <= value <= high:
        raise _BadRequest(f"{name} must be between {low:g} and {high:g}")
    return value


def _sealing_request(seal_id: str) -> SealRequest:
    if request.is_json:
        try:
            body = json.loads(request.get_data(cache=False))
        except (ValueError, UnicodeDecodeError):
            raise _BadRequest("the body is not JSON") from None
        if not isinstance(body, dict):
            raise _BadRequest("the body must be a JSON object")
        fmt, digest_hex = body.get("format"), body.get("digest")
        if fmt not in ("ses", "cms"):
            raise _BadRequest("hash mode is for format ses or cms")
        if not isinstance(digest_hex, str) or len(digest_hex) > 128:
            raise _BadRequest("digest must be a hex string")
        try:
            digest = bytes.fromhex(digest_hex)
        except ValueError:
            raise _BadRequest("digest must be a hex string") from None
        alg = body.get("digest_alg")
        if alg is not None and alg not in ("sm3", "sha256"):
            raise _BadRequest("digest_alg must be sm3 or sha256")
        info = body.get("property_info", "")
        if not isinstance(info, str):
            raise _BadRequest("property_info must be a string")
        return SealRequest(
            seal_id=seal_id,
            format=fmt,
            digest=digest,
            digest_alg=alg,
            property_info=info,
            level=_level(body.get("level")),
        )
    if not (request.mimetype or "").startswith("multipart/form-data"):
        raise _BadRequest("send multipart/form-data with a file, or JSON in hash mode")
    form = request.form
    fmt = form.get("format", "")
    if fmt not in FORMATS:
        raise _BadRequest(f"format must be one of {', '.join(FORMATS)}")
    level = _level(form.get("level"))
    upload = request.files.get("file")
    if upload is None:
        raise _BadRequest("file is required")
    document = upload.read()
    if not document:
        raise _BadRequest("the file is empty")
    return SealRequest(
        seal_id=seal_id,
        format=fmt,
        document=document,
        page=int(_number(form, "page", 1, 1, 10_000)),
        x_mm=_number(form, "x_mm", 20.0, 0, 2000),
        y_mm=_number(form, "y_mm", 20.0, 0, 2000),
        cross_page=form.get("cross_page", "") in ("1", "true", "on"),
        property_info=form.get("property_info", "")[:200],
        level=level,
    )


@tsa_bp.post("/tsa")
@tsa_bp.post("/tsa/<algorithm>")
def timestamp(algorithm: str = "ES256") -> Response:
    """The hub's time-stamping authority (ES256 by default, ``/tsa/SM2`` for SM2).
    Every well-formed query gets a TimeStampResp — rejections included (PKIStatus
    with a failure reason); only an unusable HTTP request is an HTTP error."""
    if algorithm not in ("ES256", "SM2"):
        return _error("not_found", "TSA algorithms: ES256, SM2", 404)
    if request.mimetype != "application/timestamp-query":
        return _error("invalid_request", "send application/timestamp-query", 415)
    if request.content_length is None or request.content_length > MAX_TSA_QUERY:
        return _error("invalid_request", f"a query has at most {MAX_TSA_QUERY} bytes", 413)
    reply = _hub().tsa(algorithm).respond(request.get_data(cache=False))
    response = Response(reply, mimetype="application/timestamp-reply")
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi(_hub().config.base_url))


def openapi(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API."""
    error = {"$ref": "#/components/schemas/Error"}
    errors = {
        str(code): {"description": text, "content": {"application/json": {"schema": error}}}
        for code, text in (
            (400, "malformed request or document; invalid_level for an unknown PAdES level"),
            (401, "missing, invalid or revoked token"),
            (403, "token without seal:sign, or the seal is not the agency's"),
            (404, "no such seal"),
            (409, "the seal is not active (suspended, revoked, expired, not yet approved)"),
            (413, "body too large"),
            (422, "Idempotency-Key reused for another request"),
            (429, "rate limit; see Retry-After"),
            (
                503,
                "the hub's seal key or time-stamping authority failed "
                "(signer_failed, tsa_unavailable); nothing was recorded, retry later",
            ),
        )
    }
    seal_id = {"name": "seal_id", "in": "path", "required": True, "schema": {"type": "string"}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GovTrust 电子印章服务 / Electronic seal API",
            "version": "1.0.0",
            "description": "Agencies seal documents with their own seals (GB/T 38540 SES, "
            "OFD per GB/T 33190, PAdES, CMS). Bearer tokens from the hub's "
            "client_credentials grant with scope seal:sign.",
        },
        "servers": [{"url": f"{base_url.rstrip('/')}/api/seal/v1"}],
        "security": [{"hubToken": ["seal:sign"]}],
        "paths": {
            "/seals": {
                "get": {
                    "summary": "The calling agency's seals",
                    "responses": {
                        "200": {
                            "description": "seals",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/SealList"}
                                }
                            },
                        },
                        **{k: errors[k] for k in ("401", "403", "429")},
                    },
                }
            },
            "/seals/{seal_id}": {
                "get": {
                    "summary": "One seal",
                    "parameters": [seal_id],
                    "responses": {
                        "200": {
                            "description": "the seal",
                            "content": {
                                "application/json": {
                                    "schema": {"$ref": "#/components/schemas/Seal"}
                                }
                            },
                        },
                        **{k: errors[k] for k in ("401", "403", "404", "429")},
                    },
                }
            },
            "/seals/{seal_id}/image.png": {
                "get": {
                    "summary": "The seal image (transparent PNG)",
                    "parameters": [seal_id],
                    "responses": {
                        "200": {"description": "PNG", "content": {"image/png": {}}},
                        **{k: errors[k] for k in ("401", "403", "404")},
                    },
                }
            },
            "/seals/{seal_id}/sign": {
                "post": {
                    "summary": "Seal a document, or sign a digest (hash mode)",
                    "parameters": [
                        seal_id,
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": 200},
                        },
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "multipart/form-data": {
                                "schema": {"$ref": "#/components/schemas/DocumentRequest"}
                            },
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/DigestRequest"}
                            },
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "the sealed document or detached signature",
                            "headers": {
                                "Seal-Operation": {"schema": {"type": "string"}},
                                "Seal-Log-Index": {"schema": {"type": "integer"}},
                                "Seal-Digest": {"schema": {"type": "string"}},
                            },
                            "content": {
                                "application/ofd": {},
                                "application/pdf": {},
                                "application/octet-stream": {},
                                "application/pkcs7-signature": {},
                            },
                        },
                        **errors,
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "hubToken": {
                    "type": "oauth2",
                    "flows": {
                        "clientCredentials": {
                            "tokenUrl": f"{base_url.rstrip('/')}/idp/token",
                            "scopes": {"seal:sign": "apply the agency's seals"},
                        }
                    },
                }
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {"type": "string"},
                        "error_description": {"type": "string"},
                    },
                },
                "Seal": {
                    "type": "object",
                    "required": ["id", "holder", "kind", "name", "algorithm", "status"],
                    "properties": {
                        "id": {"type": "string", "description": "esID 印章标识"},
                        "holder": {"type": "string"},
                        "kind": {
                            "type": "string",
                            "enum": ["official", "contract", "finance", "legal_rep"],
                        },
                        "kind_zh": {"type": "string"},
                        "name": {"type": "string", "description": "印章名称"},
                        "algorithm": {"type": "string", "enum": ["SM2", "ES256", "RS256"]},
                        "maker": {"type": ["string", "null"]},
                        "status": {
                            "type": "string",
                            "enum": [
                                "applied",
                                "approved",
                                "active",
                                "suspended",
                                "revoked",
                                "expired",
                            ],
                        },
                        "valid_from": {"type": "string", "format": "date-time"},
                        "valid_to": {"type": "string", "format": "date-time"},
                        "width_mm": {"type": "integer"},
                        "height_mm": {"type": "integer"},
                        "certificate_serial": {"type": ["string", "null"]},
                    },
                },
                "SealList": {
                    "type": "object",
                    "properties": {
                        "holder": {"type": "string"},
                        "seals": {"type": "array", "items": {"$ref": "#/components/schemas/Seal"}},
                    },
                },
                "DocumentRequest": {
                    "type": "object",
                    "required": ["file", "format"],
                    "properties": {
                        "file": {"type": "string", "contentMediaType": "application/octet-stream"},
                        "format": {"type": "string", "enum": list(FORMATS)},
                        "page": {"type": "integer", "minimum": 1},
                        "x_mm": {"type": "number", "minimum": 0},
                        "y_mm": {"type": "number", "minimum": 0},
                        "cross_page": {"type": "boolean"},
                        "property_info": {"type": "string", "maxLength": 200},
                        "level": {
                            "type": "string",
                            "enum": list(PADES_LEVELS),
                            "default": DEFAULT_PADES_LEVEL,
                            "description": "PAdES level for format pdf (ETSI EN 319 142-1): "
                            "B-T adds a time-stamp from the hub's TSA; B-LT also embeds a "
                            "/DSS with the hub's CA certificates and current CRLs "
                            "(served at /pki/crl/{alg}.crl). Other formats: B-T only.",
                        },
                    },
                },
                "DigestRequest": {
                    "type": "object",
                    "required": ["format", "digest"],
                    "properties": {
                        "format": {"type": "string", "enum": ["ses", "cms"]},
                        "digest": {"type": "string", "pattern": "^[0-9a-fA-F]{64}$"},
                        "digest_alg": {"type": "string", "enum": ["sm3", "sha256"]},
                        "property_info": {"type": "string", "maxLength": 200},
                        "level": {
                            "type": "string",
                            "enum": [DEFAULT_PADES_LEVEL],
                            "description": "PAdES levels apply to PDF documents only",
                        },
                    },
                },
            },
        },
    }
