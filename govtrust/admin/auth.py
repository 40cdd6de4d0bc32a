"""Administrator login for the hub console: argon2id passwords, no user
enumeration, a throttle that expires (an attacker cannot lock an admin out for
good), a fresh session at login, CSRF tokens on every form.

This is the hub's own operator login; when the identity provider lands the
console signs in through it and this module keeps only the CSRF helpers.
"""

from __future__ import annotations

import functools
import hashlib
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, TypeVar

from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, g, redirect, request, session, url_for
from sqlalchemy import select

from govtrust.db import Database
from govtrust.security import check_csrf, csrf_token
from trust.passwords import OWASP_ARGON2ID

from .models import AdminSession, AdminUser

__all__ = [
    "hasher",
    "add_admin",
    "authenticate",
    "login_required",
    "csrf_token",
    "check_csrf",
    "current_admin",
    "LoginFailed",
]

F = TypeVar("F", bound=Callable[..., Any])

# An OWASP Password Storage Cheat Sheet minimum configuration for argon2id (trust.passwords).
hasher: Final = OWASP_ARGON2ID
_DUMMY_HASH: Final = hasher.hash(secrets.token_hex(16))
THROTTLE_AFTER: Final = 5
THROTTLE_FOR: Final = timedelta(seconds=30)


class LoginFailed(Exception):
    """One message for every failure: unknown user, wrong password, throttled."""


def add_admin(db: Database, username: str, password: str, display_name: str | None = None) -> None:
    if len(password) < 12:
        raise ValueError("administrator passwords need at least 12 characters")
    with db.write() as s:
        existing = s.scalars(select(AdminUser).where(AdminUser.username == username)).first()
        if existing is not None:
            existing.password_hash = hasher.hash(password)
            return
        s.add(
            AdminUser(
                username=username,
                display_name=display_name or username,
                password_hash=hasher.hash(password),
            )
        )


def authenticate(db: Database, username: str, password: str, now: Any) -> AdminUser:
    """Check a password; failures are counted (and committed) before LoginFailed is raised."""
    user: AdminUser | None
    with db.write() as s:
        user = s.scalars(select(AdminUser).where(AdminUser.username == username)).first()
        if user is None:
            try:  # same work as a real check: no timing oracle for unknown names
                hasher.verify(_DUMMY_HASH, password)
            except VerificationError:
                pass
        else:
            throttled = user.throttled_until is not None and user.throttled_until > now
            ok: bool
            try:
                ok = hasher.verify(user.password_hash, password)
            except (VerificationError, InvalidHashError):
                ok = False
            if not ok:
                user.failed_logins += 1
                if user.failed_logins >= THROTTLE_AFTER:
                    user.throttled_until = now + THROTTLE_FOR
                user = None
            elif throttled:
                user = None
            else:
                user.failed_logins = 0
                user.throttled_until = None
                if hasher.check_needs_rehash(user.password_hash):
                    user.password_hash = hasher.hash(password)
                s.flush()
                s.expunge(user)
    if user is None:
        raise LoginFailed
    return user


SESSION_LIFETIME: Final = timedelta(hours=8)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(db: Database, username: str, now: Any) -> str:
    token = secrets.token_urlsafe(32)
    with db.write() as s:
        s.add(
            AdminSession(
                token_hash=_token_hash(token),
                username=username,
                created_at=now,
                expires_at=now + SESSION_LIFETIME,
            )
        )
    return token


def end_session(db: Database, token: str | None, now: Any) -> None:
    if not token:
        return
    with db.write() as s:
        row = s.get(AdminSession, _token_hash(token))
        if row is not None and row.ended_at is None:
            row.ended_at = now


def current_admin() -> str | None:
    """The signed-in administrator, checked against the server-side session."""
    token = session.get("admin_token")
    if not isinstance(token, str):
        return None
    cached = getattr(g, "_admin", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    hub = current_app.extensions["govtrust"]
    with hub.db.session() as s:
        row = s.get(AdminSession, _token_hash(token))
        if row is None or row.ended_at is not None or row.expires_at <= hub.clock():
            return None
        g._admin = row.username
        return str(row.username)


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_admin():
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]
