"""The hub's single sign-on session.

The browser holds ``<sid>.<secret>`` in an HttpOnly, SameSite=Lax cookie; the
database holds the session with a SHA-256 of the secret, so a database read
does not yield usable cookies. A new session (new ``sid``) is created at every
login and at every step-up (no fixation). Every relying party a session serves
is recorded for single logout.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import bindparam, select, update

from govtrust.db import Database, insert_now, utcnow

from .models import HubSession, SessionClient

__all__ = ["SessionStore", "SessionView", "COOKIE_NAME", "SESSION_LIFETIME"]

COOKIE_NAME: Final = "gt_sso"
SESSION_LIFETIME: Final = timedelta(hours=8)


@dataclass(frozen=True)
class SessionView:
    sid: str
    account_id: str
    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    created_at: datetime
    last_seen: datetime
    expires_at: datetime
    user_agent: str
    ip: str
    clients: tuple[str, ...] = ()


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


# Hot-path statements, built once per database (Database.statement).
def _session_by_sid(_db: Database) -> Any:
    return select(HubSession.__table__).where(HubSession.sid == bindparam("sid"))


def _clients_of(_db: Database) -> Any:
    return select(SessionClient.client_id).where(SessionClient.sid == bindparam("sid"))


def _add_client(db: Database) -> Any:
    return (
        db.insert(SessionClient)
        .values(sid=bindparam("sid"), client_id=bindparam("client_id"), first_at=bindparam("now"))
        .on_conflict_do_nothing(index_elements=["sid", "client_id"])
    )


def _touch(_db: Database) -> Any:
    return (
        update(HubSession)
        .where(HubSession.sid == bindparam("sid_"))
        .values(last_seen=bindparam("now"))
    )


def _view(s: Any, clients: tuple[str, ...] = ()) -> SessionView:
    return SessionView(
        s.sid,
        s.account_id,
        s.auth_time,
        s.acr,
        tuple(s.amr),
        s.created_at,
        s.last_seen,
        s.expires_at,
        s.user_agent,
        s.ip,
        clients,
    )


class SessionStore:
    def __init__(self, db: Database, *, clock: Callable[[], datetime] = utcnow) -> None:
        self._db = db
        self._clock = clock

    def create(
        self,
        account_id: str,
        *,
        acr: str,
        amr: list[str],
        user_agent: str = "",
        ip: str = "",
        replaces: str | None = None,
        auth_time: datetime | None = None,
    ) -> tuple[SessionView, str]:
        """Sign in; returns (view, cookie value). A new login gets a new ``sid``.
        With ``replaces`` (re-authentication or step-up of the same account) the
        session keeps its OIDC ``sid`` — relying parties hold it in ID tokens and
        back-channel logout must still name it — but the cookie secret is replaced,
        so a cookie captured before the step-up no longer works (no fixation)."""
        now = self._clock()
        secret = secrets.token_urlsafe(32)
        with self._db.write() as s:
            old = s.get(HubSession, replaces) if replaces else None
            if (
                old is not None
                and old.account_id == account_id
                and old.ended_at is None
                and old.expires_at > now
            ):
                old.secret_hash = _digest(secret)
                old.auth_time = auth_time or now
                old.acr = acr
                old.amr = list(amr)
                old.last_seen = now
                old.user_agent = user_agent[:300]
                old.ip = ip[:64]
                s.flush()
                return _view(old), f"{old.sid}.{secret}"
            sid = secrets.token_urlsafe(24)
            row = HubSession(
                sid=sid,
                secret_hash=_digest(secret),
                account_id=account_id,
                auth_time=auth_time or now,
                acr=acr,
                amr=list(amr),
                created_at=now,
                last_seen=now,
                expires_at=now + SESSION_LIFETIME,
                user_agent=user_agent[:300],
                ip=ip[:64],
            )
            insert_now(s, row)
            return _view(row), f"{sid}.{secret}"

    def lookup(self, cookie: str | None) -> SessionView | None:
        """The live session for a cookie value, or None (expired, ended, forged)."""
        if not cookie or "." not in cookie or len(cookie) > 200:
            return None
        sid, secret = cookie.split(".", 1)
        now = self._clock()
        db = self._db
        with db.connection() as c:
            row = c.execute(db.statement(_session_by_sid), {"sid": sid}).first()
            if row is None or row.ended_at is not None or row.expires_at <= now:
                return None
            if not hmac.compare_digest(row.secret_hash, _digest(secret)):
                return None
            clients = tuple(c.execute(db.statement(_clients_of), {"sid": sid}).scalars())
            return _view(row, clients)

    def record_client(self, sid: str, client_id: str) -> None:
        """Remember that the session served ``client_id`` (for single logout).
        Idempotent and conflict-free, so it can join a unit of work."""
        now = self._clock()
        db = self._db
        with db.connection(write=True) as c:
            c.execute(db.statement(_add_client), {"sid": sid, "client_id": client_id, "now": now})
            c.execute(db.statement(_touch), {"sid_": sid, "now": now})

    def end(self, sid: str) -> tuple[str, ...]:
        """End a session; returns the relying parties it served (once: a second call returns ())."""
        now = self._clock()
        with self._db.write() as s:
            result = s.execute(
                update(HubSession)
                .where(HubSession.sid == sid, HubSession.ended_at.is_(None))
                .values(ended_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return ()
            return tuple(
                s.scalars(select(SessionClient.client_id).where(SessionClient.sid == sid)).all()
            )

    def for_account(self, account_id: str) -> list[SessionView]:
        now = self._clock()
        with self._db.session() as s:
            rows = s.scalars(
                select(HubSession)
                .where(
                    HubSession.account_id == account_id,
                    HubSession.ended_at.is_(None),
                    HubSession.expires_at > now,
                )
                .order_by(HubSession.created_at.desc())
            ).all()
            out = []
            for row in rows:
                clients = tuple(
                    s.scalars(
                        select(SessionClient.client_id).where(SessionClient.sid == row.sid)
                    ).all()
                )
                out.append(_view(row, clients))
            return out
