"""A fast lane for the hottest request of the hub: an agency's machine-token request.

``client_credentials`` with ``client_secret_basic`` is what every agency system
sends before every sealing or issuing call. :class:`MachineTokenLane` is WSGI
middleware in front of the Flask application that answers exactly the *success*
of that request — the same client lookup (:meth:`idp.clients.ClientStore.get`,
which also refuses clients whose participant is not active), the same secret
check, the same scope rule (:func:`idp.server.machine_scope`) and the same
token (:meth:`idp.server.IdpServer.issue_machine`) as ``POST /idp/token`` —
without Flask's request context and Authlib's request objects, about a third
of the request's CPU (benchmarks/idp).

Anything else — another grant, another authentication method, a query string,
a duplicated or unknown parameter, a wrong secret, a disallowed scope, an
unexpected content type or size, an error of any kind — is handed to the Flask
application untouched (the body is replayed), which gives the canonical answer
and error. The lane never produces an error response of its own, so it cannot
disagree with the full implementation about what is refused.
"""

from __future__ import annotations

import base64
import binascii
import io
import json
from collections.abc import Callable, Iterable
from typing import Any, Final
from urllib.parse import parse_qsl, unquote

from govtrust.security import SECURITY_HEADERS

from .server import IdpServer, machine_scope

__all__ = ["MachineTokenLane"]

#: A machine-token request is a few hundred bytes; anything larger takes the full path.
MAX_LANE_BODY: Final = 2048
_ALLOWED_PARAMS: Final = frozenset({"grant_type", "scope"})
_FORM: Final = "application/x-www-form-urlencoded"

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


class MachineTokenLane:
    """WSGI middleware: successful ``client_credentials`` + ``client_secret_basic``
    token requests are answered here; everything else goes to ``app``."""

    def __init__(
        self, app: WsgiApp, server: Callable[[], IdpServer], *, path: str = "/idp/token"
    ) -> None:
        self._app = app
        self._server = server
        self._path = path
        self._headers = [
            ("Content-Type", "application/json"),
            ("Cache-Control", "no-store"),
            ("Pragma", "no-cache"),
            *SECURITY_HEADERS,
        ]

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        if environ.get("PATH_INFO") == self._path and environ.get("REQUEST_METHOD") == "POST":
            body = self._answer(environ)
            if body is not None:
                start_response("200 OK", [*self._headers, ("Content-Length", str(len(body)))])
                return [body]
        return self._app(environ, start_response)

    def _answer(self, environ: dict[str, Any]) -> bytes | None:
        """The token response body, or None: let the application answer."""
        if environ.get("QUERY_STRING"):
            return None
        content_type = environ.get("CONTENT_TYPE", "").split(";", 1)[0].strip().lower()
        if content_type != _FORM:
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if not 0 < length <= MAX_LANE_BODY:
            return None
        raw = environ["wsgi.input"].read(length)
        environ["wsgi.input"] = io.BytesIO(raw)  # the application may still need it
        try:
            return self._issue(environ, raw)
        except Exception:  # noqa: BLE001 - anything unexpected: the full path decides
            environ["wsgi.input"] = io.BytesIO(raw)
            return None

    def _issue(self, environ: dict[str, Any], raw: bytes) -> bytes | None:
        if len(raw) != int(environ["CONTENT_LENGTH"]):
            return None
        pairs = parse_qsl(raw.decode("ascii"), keep_blank_values=True, strict_parsing=True)
        form = dict(pairs)
        if len(form) != len(pairs) or not set(form) <= _ALLOWED_PARAMS:
            return None
        if form.get("grant_type") != "client_credentials":
            return None
        client_id, secret = _basic_credentials(environ.get("HTTP_AUTHORIZATION", ""))
        if not client_id or not secret:
            return None
        server = self._server()
        client = server.clients.get(client_id)
        if (
            client is None
            or client.token_endpoint_auth_method != "client_secret_basic"
            or not client.check_grant_type("client_credentials")
            or not client.check_client_secret(secret)
        ):
            return None
        scope = machine_scope(client, form.get("scope"))
        return json.dumps(server.issue_machine(client, scope)).encode()


def _basic_credentials(header: str) -> tuple[str | None, str | None]:
    """(client_id, secret) from ``Authorization: Basic …`` (RFC 6749 §2.3.1: both
    form-urlencoded before base64), or (None, None)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token:
        return None, None
    try:
        text = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None, None
    client_id, sep, secret = text.partition(":")
    if not sep:
        return None, None
    return unquote(client_id), unquote(secret)
