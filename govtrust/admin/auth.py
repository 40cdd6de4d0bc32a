"""Administrator login for the hub console: argon2id passwords, no user
enumeration, a throttle that expires (an attacker cannot lock an admin out for
good), a fresh session at login, CSRF tokens on every form.

This is the hub's own operator login; when the identity provider lands the
console signs in through it and this module keeps only the CSRF helpers.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any, Final, TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import abort, current_app, redirect, request, session, url_for
from sqlalchemy import select

from govtrust.db import Database

from .models import AdminUser

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

# OWASP Password Storage Cheat Sheet minimum for argon2id: m=19 MiB, t=2, p=1.
hasher: Final = PasswordHasher(time_cost=2, memory_cost=19456, parallelism=1)
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


def current_admin() -> str | None:
    admin = session.get("admin")
    return admin if isinstance(admin, str) else None


def login_required(view: F) -> F:
    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not current_admin():
            return redirect(url_for("admin.login", next=request.full_path))
        return view(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


def csrf_token() -> str:
    token = session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return str(token)


def check_csrf() -> None:
    sent = request.form.get("csrf_token", "")
    expected = session.get("csrf", "")
    if not expected or not hmac.compare_digest(sent, expected):
        current_app.logger.warning("CSRF token mismatch on %s", request.path)
        abort(400, description="CSRF token missing or wrong / 表单已过期，请刷新后重试")
