"""Protection shared by every page: per-session CSRF tokens (synchronizer pattern) and
the security headers of every response."""

from __future__ import annotations

import hmac
import secrets
from typing import Final

from flask import abort, current_app, request, session

__all__ = ["SECURITY_HEADERS", "csrf_token", "check_csrf"]

#: Set on every response that does not set its own (SECURITY.md).
SECURITY_HEADERS: Final = (
    ("X-Frame-Options", "DENY"),
    (
        "Content-Security-Policy",
        "default-src 'self'; img-src 'self' data: blob:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'self'",
    ),
    ("Referrer-Policy", "no-referrer"),
    ("X-Content-Type-Options", "nosniff"),
)


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(str(sent), str(expected)):
        current_app.logger.warning("CSRF token mismatch on %s", request.path)
        abort(400, description="CSRF token missing or wrong / 表单已过期，请刷新后重试")
