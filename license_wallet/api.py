"""The e-license issuing API (``/api/license/v1``).

Issuers are ``license_issuer`` participants' machine clients of the hub with an
RFC 9068 access token from ``client_credentials`` (``Authorization: Bearer …``):
scope ``license:issue`` to issue and read, ``license:revoke`` to revoke, suspend
and reinstate. The token's client must belong to a registry participant: that
participant is the issuer, and only its own licenses may be read or changed
(403 ``license_forbidden`` and an audit event otherwise).

Endpoints (OpenAPI 3.1 at ``/api/license/v1/openapi.json``):

* ``POST /licenses`` — one license (JSON, below); 201 with the license and its
  credential (base64url COSE_Sign1 with every disclosure, for the wallet).
  ``Idempotency-Key`` is honoured: same key + same body → the same license
  (200, ``Idempotent-Replayed: true``), same key + other body → 422;
* ``POST /batches`` — ``{"items": [license, ...]}`` (at most 1,000); each item
  is issued whole or not at all; 200 with one result per item. With an
  ``Idempotency-Key`` a retried batch issues nothing twice: item *i* is keyed
  ``KEY#i`` with its own body hash, so an item issued before is returned again
  (``"replayed": true``, not counted in ``issued``), a changed item is a 422
  ``idempotency_conflict`` result, and items that failed before are tried again;
* ``POST /licenses/{id}/revoke|suspend|reinstate`` — optional ``{"reason": …}``;
* ``GET /licenses/{id}`` — the issuer's own license;
* ``GET /status/{list}.cwt`` — public: the signed Token Status List
  (``application/statuslist+cwt``, ``Cache-Control: public, max-age=300``,
  ``ETag``); ``{list}`` is a list id (``mps.1``) or an issuer (its first list);
  also at the short URI that credentials name, ``GET <base>/sl/{list}``;
* ``GET /issuers`` — public: every listed license issuer with its ``status``
  (active, suspended, revoked), license types and license and status-list
  public keys (JWK, with the COSE ``kid``).

A license in JSON: ``{"type": code or slug, "holder": {"subject": account,
"key": P-256 public JWK}, "fields": {key: text}, "valid_from": ISO 8601,
"valid_until": ISO 8601 or null}`` (times without an offset are Beijing time,
UTC+08:00; a date alone is its midnight). Every error is JSON ``{"error": code,
"error_description": text}`` (plus ``field`` for a license field) with 400, 401,
403, 404, 409, 413 or 422 — never a 500 for bad input — or 429 ``rate_limited``
with ``Retry-After`` when one client sends more than 100 requests a second
(bursts of 300; ``LICENSE_API_RATE_LIMIT``).
"""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime, timedelta, timezone
from typing import Any, Final

from flask import Blueprint, current_app, jsonify, request
from werkzeug.wrappers import Response

from govtrust.ratelimit import RateLimiter, rate_limiter, retry_after
from trust.errors import TrustError

from .service import (
    MAX_BATCH,
    STATUS_LIST_MEDIA_TYPE,
    STATUS_TOKEN_TTL,
    Idempotency,
    IssueRequest,
    LicenseServiceError,
    LicenseView,
)

__all__ = ["MAX_BATCH_BODY", "MAX_LICENSE_BODY", "bp", "openapi"]

bp = Blueprint("license_api", __name__, url_prefix="/api/license/v1")

SCOPE_ISSUE: Final = "license:issue"
SCOPE_REVOKE: Final = "license:revoke"
MAX_LICENSE_BODY: Final = 64 * 1024
MAX_BATCH_BODY: Final = 4 * 1024 * 1024
MAX_IDEMPOTENCY_KEY: Final = 200
#: Authenticated requests per second per client, and the burst (a batch is one request).
DEFAULT_RATE_LIMIT: Final = (100.0, 300)
#: A batch key leaves room for the item suffix ``#999`` in the 200-character column.
MAX_BATCH_IDEMPOTENCY_KEY: Final = MAX_IDEMPOTENCY_KEY - 6
BEIJING: Final = timezone(timedelta(hours=8))
_STATUS_FOR_CODE: Final = {
    "license_unknown": 404,
    "status_list_unknown": 404,
    "license_forbidden": 403,
    "invalid_transition": 409,
    "batch_too_large": 413,
    "idempotency_conflict": 422,
}


def _hub() -> Any:
    return current_app.extensions["govtrust"]


def _error(code: str, description: str, status: int, **extra: Any) -> Response:
    headers = {k: v for k, v in extra.items() if k[0].isupper()}
    body = {"error": code, "error_description": description}
    body.update({k: v for k, v in extra.items() if not k[0].isupper()})
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    for name, value in headers.items():
        response.headers[name.replace("_", "-")] = value
    return response


def _trust_error(exc: TrustError) -> Response:
    field = getattr(exc, "field", None)
    extra = {"field": field} if isinstance(field, str) else {}
    return _error(exc.code, exc.message, _STATUS_FOR_CODE.get(exc.code, 400), **extra)


class _Caller:
    def __init__(self, client_id: str, issuer_id: str) -> None:
        self.client_id, self.issuer_id = client_id, issuer_id

    @property
    def actor(self) -> str:
        return f"client:{self.client_id}"


def _authenticate(*scopes: str) -> _Caller | Response:
    """The caller's client and participant, given a valid token with every scope."""
    from idp.tokens import TokenError

    auth = request.headers.get("Authorization", "")
    if auth[:7].lower() != "bearer " or not auth[7:].strip():
        return _error("invalid_token", "a bearer token is required", 401, WWW_Authenticate="Bearer")
    idp = _hub().idp
    try:
        claims = idp.tokens.validate_access_token(auth[7:].strip(), required_scopes=scopes)
    except TokenError as exc:
        status = 403 if exc.code == "insufficient_scope" else 401
        return _error(exc.code, exc.message, status, WWW_Authenticate=f'Bearer error="{exc.code}"')
    if not idp.access_token_active(claims.jti):
        return _error("invalid_token", "the token was revoked", 401)
    client = idp.clients.get(claims.client_id)
    if client is None or not client.participant_id:
        return _error("forbidden", "the client does not belong to a participant", 403)
    wait = _bucket().take(client.client_id)
    if wait:
        return _error(
            "rate_limited",
            "too many requests from this client; retry later",
            429,
            Retry_After=retry_after(wait),
        )
    return _Caller(client.client_id, client.participant_id)


def _bucket() -> RateLimiter:
    """Requests per second per machine client (``LICENSE_API_RATE_LIMIT`` = (rate,
    burst)): one agency's runaway job cannot take the issuing service from the others."""
    bucket = current_app.extensions.get("govtrust.license_api_bucket")
    if bucket is None:
        rate, burst = current_app.config.get("LICENSE_API_RATE_LIMIT", DEFAULT_RATE_LIMIT)
        bucket = rate_limiter(_hub().config.redis_url, "license-api", rate, burst)
        current_app.extensions["govtrust.license_api_bucket"] = bucket
    return bucket


class _BadRequest(ValueError):
    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def _json_body(limit: int) -> Any:
    return _json_body_raw(limit)[1]


def _json_body_raw(limit: int) -> tuple[bytes, Any]:
    """(raw bytes, parsed JSON), refusing bodies over ``limit`` before parsing."""
    if request.content_length is not None and request.content_length > limit:
        raise _TooLarge(f"the body has at most {limit} bytes")
    if not request.is_json:
        raise _BadRequest("send application/json")
    raw = request.stream.read(limit + 1)
    if len(raw) > limit:
        raise _TooLarge(f"the body has at most {limit} bytes")
    try:
        return raw, json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise _BadRequest("the body is not JSON") from None


def _idempotency(caller: _Caller, raw: bytes) -> Idempotency | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not 0 < len(key) <= MAX_IDEMPOTENCY_KEY or not key.isprintable():
        raise _BadRequest(f"Idempotency-Key: 1–{MAX_IDEMPOTENCY_KEY} printable characters")
    return caller.client_id, key, hashlib.sha256(raw).hexdigest()


class _TooLarge(ValueError):
    pass


def _time(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    if not isinstance(value, str) or len(value) > 40:
        raise _BadRequest(f"{name} must be an ISO 8601 date or time", name)
    try:
        if len(value) == 10:
            d = date.fromisoformat(value)
            return datetime(d.year, d.month, d.day, tzinfo=BEIJING)
        t = datetime.fromisoformat(value)
    except ValueError:
        raise _BadRequest(f"{name} must be an ISO 8601 date or time", name) from None
    return t if t.tzinfo is not None else t.replace(tzinfo=BEIJING)


def _issue_request(issuer_id: str, body: object) -> IssueRequest:
    if not isinstance(body, dict):
        raise _BadRequest("a license is a JSON object")
    unknown = set(body) - {"type", "holder", "fields", "valid_from", "valid_until"}
    if unknown:
        raise _BadRequest(f"unknown member {sorted(unknown)[0]!r}")
    type_code, holder, fields = body.get("type"), body.get("holder"), body.get("fields")
    if not isinstance(type_code, str):
        raise _BadRequest("type is required (a type code or slug)", "type")
    if not isinstance(holder, dict) or not isinstance(holder.get("subject"), str):
        raise _BadRequest("holder.subject is required", "holder")
    if not isinstance(holder.get("key"), dict):
        raise _BadRequest("holder.key must be a public JWK", "holder")
    if not isinstance(fields, dict) or not all(isinstance(v, str) for v in fields.values()):
        raise _BadRequest("fields must map keys to text", "fields")
    return IssueRequest(
        issuer_id=issuer_id,
        type_code=type_code,
        holder_subject=holder["subject"],
        holder_key_jwk=holder["key"],
        fields=fields,
        valid_from=_time(body.get("valid_from"), "valid_from"),
        valid_until=_time(body.get("valid_until"), "valid_until"),
    )


def _issue(item: IssueRequest, actor: str, idempotency: Idempotency | None = None) -> LicenseView:
    return _hub().licenses.issue(  # type: ignore[no-any-return]
        item.issuer_id,
        item.type_code,
        item.holder_subject,
        item.holder_key_jwk,
        item.fields,
        item.valid_from,
        item.valid_until,
        actor=actor,
        idempotency=idempotency,
    )


@bp.post("/licenses")
def issue_license() -> Response:
    caller = _authenticate(SCOPE_ISSUE)
    if isinstance(caller, Response):
        return caller
    try:
        raw, parsed = _json_body_raw(MAX_LICENSE_BODY)
        item = _issue_request(caller.issuer_id, parsed)
        view = _issue(item, caller.actor, _idempotency(caller, raw))
    except _TooLarge as exc:
        return _error("request_too_large", str(exc), 413)
    except _BadRequest as exc:
        extra = {"field": exc.field} if exc.field else {}
        return _error("invalid_request", str(exc), 400, **extra)
    except TrustError as exc:
        return _trust_error(exc)
    response = jsonify(view.as_json())
    response.status_code = 200 if view.replayed else 201
    if view.replayed:
        response.headers["Idempotent-Replayed"] = "true"
    response.headers["Location"] = f"{bp.url_prefix}/licenses/{view.id}"
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/batches")
def issue_batch() -> Response:
    caller = _authenticate(SCOPE_ISSUE)
    if isinstance(caller, Response):
        return caller
    try:
        body = _json_body(MAX_BATCH_BODY)
        items = body.get("items") if isinstance(body, dict) else None
        if not isinstance(items, list) or not items:
            raise _BadRequest("items must be a non-empty array")
        if len(items) > MAX_BATCH:
            raise _TooLarge(f"a batch has at most {MAX_BATCH} items")
    except _TooLarge as exc:
        return _error("request_too_large", str(exc), 413)
    except _BadRequest as exc:
        return _error("invalid_request", str(exc), 400)
    try:
        batch_key = _idempotency(caller, b"")
        if batch_key is not None and len(batch_key[1]) > MAX_BATCH_IDEMPOTENCY_KEY:
            raise _BadRequest(
                f"a batch Idempotency-Key has at most {MAX_BATCH_IDEMPOTENCY_KEY} characters"
            )
    except _BadRequest as exc:
        return _error("invalid_request", str(exc), 400)
    results: list[dict[str, Any]] = []
    for i, raw in enumerate(items):
        try:
            item_key = None
            if batch_key is not None:  # item i of a retried batch: its own key and body hash
                canonical = json.dumps(raw, sort_keys=True, ensure_ascii=False).encode()
                item_key = (
                    batch_key[0],
                    f"{batch_key[1]}#{i}",
                    hashlib.sha256(canonical).hexdigest(),
                )
            view = _issue(_issue_request(caller.issuer_id, raw), caller.actor, item_key)
        except _BadRequest as exc:
            results.append(
                {"index": i, "error": "invalid_request", "error_description": str(exc)}
                | ({"field": exc.field} if exc.field else {})
            )
        except TrustError as exc:
            field = getattr(exc, "field", None)
            results.append(
                {"index": i, "error": exc.code, "error_description": exc.message}
                | ({"field": field} if isinstance(field, str) else {})
            )
        else:
            entry = {"index": i, "license": view.as_json()}
            results.append(entry | ({"replayed": True} if view.replayed else {}))
    issued = sum(1 for r in results if "license" in r and not r.get("replayed"))
    failed = sum(1 for r in results if "error" in r)
    response = jsonify({"issued": issued, "failed": failed, "results": results})
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/licenses/<license_id>")
def get_license(license_id: str) -> Response:
    caller = _authenticate(SCOPE_ISSUE)
    if isinstance(caller, Response):
        return caller
    try:
        view = _hub().licenses.check_owner(
            license_id, caller.issuer_id, actor=caller.actor, action="read"
        )
    except TrustError as exc:
        return _trust_error(exc)
    response = jsonify(view.as_json())
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/licenses/<license_id>/<any(revoke, suspend, reinstate):action>")
def change_status(license_id: str, action: str) -> Response:
    caller = _authenticate(SCOPE_REVOKE)
    if isinstance(caller, Response):
        return caller
    reason = ""
    try:
        if request.content_length:
            body = _json_body(MAX_LICENSE_BODY)
            if not isinstance(body, dict) or not isinstance(body.get("reason", ""), str):
                raise _BadRequest('the body is {"reason": text}')
            reason = body.get("reason", "")[:200]
        method = getattr(_hub().licenses, action)
        view = method(license_id, actor=caller.actor, reason=reason, issuer_id=caller.issuer_id)
    except _TooLarge as exc:
        return _error("request_too_large", str(exc), 413)
    except _BadRequest as exc:
        return _error("invalid_request", str(exc), 400)
    except TrustError as exc:
        return _trust_error(exc)
    response = jsonify(view.as_json(with_credential=False))
    response.headers["Cache-Control"] = "no-store"
    return response


#: The short status-list URIs (``<base>/sl/<list>``, what new credentials name);
#: registered with :data:`bp` by :func:`register`.
short_bp = Blueprint("license_status", __name__)


@short_bp.get("/sl/<list_id>")
@bp.get("/status/<list_id>.cwt")
def status_list(list_id: str) -> Response:
    """The signed Token Status List, under its short URI or the long one (the
    same token: its ``sub`` names the URI the list's credentials carry)."""
    if len(list_id) > 80:
        return _error("status_list_unknown", "no such status list", 404)
    try:
        token = _hub().licenses.status_list_token(list_id)
    except LicenseServiceError as exc:
        return _trust_error(exc)
    etag = f'"{token.etag}"'
    if etag in request.headers.get("If-None-Match", ""):
        response = Response(status=304)
    else:
        response = Response(token.token, mimetype=STATUS_LIST_MEDIA_TYPE)
    response.headers["ETag"] = etag
    response.headers["Cache-Control"] = f"public, max-age={STATUS_TOKEN_TTL}"
    response.headers["Access-Control-Allow-Origin"] = "*"  # verifiers in browsers
    return response


@bp.get("/issuers")
def issuers() -> Response:
    response = jsonify({"issuers": _hub().licenses.issuers()})
    response.headers["Cache-Control"] = "public, max-age=300"
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/openapi.json")
def openapi_document() -> Response:
    return jsonify(openapi(_hub().config.base_url))


def openapi(base_url: str) -> dict[str, Any]:
    """The OpenAPI 3.1 description of this API."""
    error = {"$ref": "#/components/schemas/Error"}

    def errors(*codes: int) -> dict[str, Any]:
        texts = {
            400: "malformed request, unknown type, invalid field (with `field`) or holder key",
            401: "missing, invalid or revoked token",
            403: "missing scope, the type is not granted, or another issuer's license",
            404: "no such license or status list",
            409: "the transition is not allowed (revoked is final)",
            413: "body too large",
            422: "Idempotency-Key reused for another request",
        }
        return {
            str(c): {"description": texts[c], "content": {"application/json": {"schema": error}}}
            for c in codes
        }

    lic = {"$ref": "#/components/schemas/License"}
    license_id = {
        "name": "license_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
    }
    lifecycle = {
        "post": {
            "summary": "Change the license's status (revoke is final; suspend ⇄ reinstate)",
            "security": [{"hubToken": [SCOPE_REVOKE]}],
            "parameters": [license_id],
            "requestBody": {
                "required": False,
                "content": {
                    "application/json": {
                        "schema": {
                            "type": "object",
                            "properties": {"reason": {"type": "string", "maxLength": 200}},
                        }
                    }
                },
            },
            "responses": {
                "200": {
                    "description": "the license",
                    "content": {"application/json": {"schema": lic}},
                },
                **errors(400, 401, 403, 404, 409),
            },
        }
    }
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "GovTrust 电子证照签发 / E-license issuing API",
            "version": "1.0.0",
            "description": "License issuers issue, revoke, suspend and reinstate e-licenses "
            "(docs/licenses.md); verifiers fetch status lists and issuer keys.",
        },
        "servers": [{"url": f"{base_url.rstrip('/')}/api/license/v1"}],
        "paths": {
            "/licenses": {
                "post": {
                    "summary": "Issue one license",
                    "security": [{"hubToken": [SCOPE_ISSUE]}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "schema": {"type": "string", "maxLength": MAX_IDEMPOTENCY_KEY},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/LicenseRequest"}
                            }
                        },
                    },
                    "responses": {
                        "201": {
                            "description": "issued (stored and logged)",
                            "content": {"application/json": {"schema": lic}},
                        },
                        "200": {
                            "description": "replayed for a repeated Idempotency-Key",
                            "content": {"application/json": {"schema": lic}},
                        },
                        **errors(400, 401, 403, 413, 422),
                    },
                }
            },
            "/batches": {
                "post": {
                    "summary": f"Issue up to {MAX_BATCH} licenses, each whole or not at all",
                    "security": [{"hubToken": [SCOPE_ISSUE]}],
                    "parameters": [
                        {
                            "name": "Idempotency-Key",
                            "in": "header",
                            "required": False,
                            "description": "item i is keyed KEY#i: a retried batch issues "
                            "nothing twice",
                            "schema": {"type": "string", "maxLength": MAX_BATCH_IDEMPOTENCY_KEY},
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "type": "object",
                                    "required": ["items"],
                                    "properties": {
                                        "items": {
                                            "type": "array",
                                            "maxItems": MAX_BATCH,
                                            "items": {
                                                "$ref": "#/components/schemas/LicenseRequest"
                                            },
                                        }
                                    },
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {"description": "one result per item (license or error)"},
                        **errors(400, 401, 403, 413),
                    },
                }
            },
            "/licenses/{license_id}": {
                "get": {
                    "summary": "One of the issuer's licenses",
                    "security": [{"hubToken": [SCOPE_ISSUE]}],
                    "parameters": [license_id],
                    "responses": {
                        "200": {
                            "description": "the license",
                            "content": {"application/json": {"schema": lic}},
                        },
                        **errors(401, 403, 404),
                    },
                }
            },
            "/licenses/{license_id}/revoke": lifecycle,
            "/licenses/{license_id}/suspend": lifecycle,
            "/licenses/{license_id}/reinstate": lifecycle,
            "/status/{list_id}.cwt": {
                "get": {
                    "summary": "Signed Token Status List (CWT, draft-ietf-oauth-status-list)",
                    "security": [],
                    "parameters": [
                        {
                            "name": "list_id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "string"},
                        }
                    ],
                    "responses": {
                        "200": {
                            "description": "the token",
                            "content": {STATUS_LIST_MEDIA_TYPE: {}},
                        },
                        "304": {"description": "not modified (ETag)"},
                        **errors(404),
                    },
                }
            },
            "/issuers": {
                "get": {
                    "summary": "Active license issuers and their public keys",
                    "security": [],
                    "responses": {"200": {"description": "issuers"}},
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
                            "scopes": {
                                SCOPE_ISSUE: "issue and read the participant's licenses",
                                SCOPE_REVOKE: "revoke, suspend, reinstate them",
                            },
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
                        "field": {"type": "string"},
                    },
                },
                "LicenseRequest": {
                    "type": "object",
                    "required": ["type", "holder", "fields"],
                    "additionalProperties": False,
                    "properties": {
                        "type": {"type": "string", "description": "证照类型代码 or slug"},
                        "holder": {
                            "type": "object",
                            "required": ["subject", "key"],
                            "properties": {
                                "subject": {"type": "string", "maxLength": 128},
                                "key": {"type": "object", "description": "P-256 public JWK"},
                            },
                        },
                        "fields": {"type": "object", "additionalProperties": {"type": "string"}},
                        "valid_from": {"type": "string"},
                        "valid_until": {"type": ["string", "null"]},
                    },
                },
                "License": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "identifier": {"type": "string", "description": "电子证照标识"},
                        "type_code": {"type": "string"},
                        "issuer": {"type": "string"},
                        "holder": {"type": "string"},
                        "fields": {"type": "object"},
                        "valid_from": {"type": "string", "format": "date-time"},
                        "valid_until": {"type": ["string", "null"], "format": "date-time"},
                        "status": {"type": "string", "enum": ["valid", "revoked", "suspended"]},
                        "status_list": {"type": "object"},
                        "credential": {"type": "string", "description": "base64url COSE_Sign1"},
                        "log_index": {"type": ["integer", "null"]},
                    },
                },
            },
        },
    }
