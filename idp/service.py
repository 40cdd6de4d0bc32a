"""The identity provider as one object the web layer and the CLI use."""

from __future__ import annotations

import logging
import secrets
import threading
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from sqlalchemy import select, update

from govtrust.db import Database, insert_now, utcnow
from keys import KeyStore, MasterKey

from .accounts import Accounts
from .clients import ClientStore, ClientView
from .logout_sender import LogoutSender
from .models import (
    AccessTokenRecord,
    AuthEvent,
    Consent,
    Grant,
    LogoutDelivery,
    PushedRequest,
    RefreshToken,
)
from .server import IdpServer, remember_jti
from .sessions import SessionStore
from .tokens import AccessTokenClaims, TokenError, TokenService

__all__ = ["Idp", "ConsentView"]

log = logging.getLogger(__name__)

_RETRY: Final = (
    timedelta(seconds=30),
    timedelta(minutes=2),
    timedelta(minutes=10),
    timedelta(hours=1),
    timedelta(hours=6),
)
DELIVERY_TIMEOUT: Final = 3.0
#: How long a claimed delivery is left to its sender before another may try it.
CLAIM_LEASE: Final = timedelta(seconds=60)


@dataclass(frozen=True)
class ConsentView:
    id: int
    client_id: str
    scopes: tuple[str, ...]
    given_at: datetime


class Idp:
    def __init__(
        self,
        *,
        db: Database,
        keys: KeyStore,
        master_key: MasterKey,
        issuer: str,
        clock: Callable[[], datetime] = utcnow,
        participant_active: Callable[[str], bool] | None = None,
    ) -> None:
        self.db = db
        self.keystore = keys
        self.issuer = issuer
        self.clock = clock
        self.clients = ClientStore(db, clock=clock, participant_active=participant_active)
        self.sessions = SessionStore(db, clock=clock)
        self.accounts = Accounts(db, master_key=master_key, clock=clock)
        self.tokens = TokenService(issuer=issuer, keys=keys, master_key=master_key, clock=clock)
        self.server = IdpServer(
            db=db,
            clients=self.clients,
            tokens=self.tokens,
            issuer=issuer,
            token_endpoint=f"{issuer}/idp/token",
            clock=clock,
        )
        self.authlib = self.server.authlib
        self.logout_sender = LogoutSender(lambda sid: self.deliver_logouts(sid=sid))

    # ------------------------------------------------------------ small helpers

    def server_check_client_auth(self, request: Any) -> None:
        self.server.check_client_auth_conflict(request)

    def subject_for(self, account_id: str, client: ClientView) -> str:
        return self.tokens.subject(
            account_id, subject_type=client.subject_type, sector=client.sector
        )

    def event(
        self,
        kind: str,
        *,
        account_id: str | None = None,
        client_id: str | None = None,
        ip: str | None = None,
        detail: dict[str, Any] | None = None,
    ) -> None:
        with self.db.write() as s:
            insert_now(
                s,
                AuthEvent(
                    at=self.clock(),
                    kind=kind,
                    account_id=account_id,
                    client_id=client_id,
                    ip=ip,
                    detail=detail or {},
                ),
            )

    def client_events(self, client_id: str, limit: int = 100) -> list[AuthEvent]:
        """Events about one client (administration, deliveries, tokens), oldest first."""
        with self.db.session() as s:
            return list(
                s.scalars(
                    select(AuthEvent)
                    .where(AuthEvent.client_id == client_id)
                    .order_by(AuthEvent.id)
                    .limit(max(1, min(limit, 1000)))
                ).all()
            )

    def remember_nonce(self, client_id: str, nonce: str) -> bool:
        """Nonces are single use per client (replayed authorization requests fail)."""
        return remember_jti(
            self.db,
            kind="nonce",
            issuer=client_id,
            jti=nonce,
            expires_at=self.clock() + timedelta(days=1),
        )

    # ------------------------------------------------------------ PAR

    def save_par(self, client_id: str, params: dict[str, str], lifetime: timedelta) -> str:
        uri = f"urn:ietf:params:oauth:request_uri:{secrets.token_urlsafe(24)}"
        with self.db.write() as s:
            s.add(
                PushedRequest(
                    request_uri=uri,
                    client_id=client_id,
                    params=params,
                    expires_at=self.clock() + lifetime,
                )
            )
        return uri

    def load_par(self, request_uri: str, client_id: str) -> dict[str, str] | None:
        """Single use, bound to the client that pushed it."""
        now = self.clock()
        with self.db.write() as s:
            result = s.execute(
                update(PushedRequest)
                .where(
                    PushedRequest.request_uri == request_uri,
                    PushedRequest.client_id == client_id,
                    PushedRequest.used_at.is_(None),
                    PushedRequest.expires_at > now,
                )
                .values(used_at=now)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return None
            row = s.get(PushedRequest, request_uri)
            return dict(row.params) if row else None

    # ------------------------------------------------------------ consent

    def has_consent(self, account_id: str, client_id: str, scopes: Iterable[str]) -> bool:
        needed = set(scopes) - {"openid"}
        if not needed:
            return True
        with self.db.session() as s:
            rows = s.scalars(
                select(Consent).where(
                    Consent.account_id == account_id,
                    Consent.client_id == client_id,
                    Consent.revoked_at.is_(None),
                )
            ).all()
            granted: set[str] = set()
            for r in rows:
                granted |= set(r.scopes)
        return needed <= granted

    def save_consent(self, account_id: str, client_id: str, scopes: Iterable[str]) -> None:
        with self.db.write() as s:
            s.add(
                Consent(
                    account_id=account_id,
                    client_id=client_id,
                    scopes=sorted(set(scopes)),
                    given_at=self.clock(),
                )
            )
            s.add(
                AuthEvent(
                    at=self.clock(),
                    kind="consent",
                    account_id=account_id,
                    client_id=client_id,
                    detail={"scopes": sorted(set(scopes))},
                )
            )

    def consents(self, account_id: str) -> list[ConsentView]:
        with self.db.session() as s:
            rows = s.scalars(
                select(Consent)
                .where(Consent.account_id == account_id, Consent.revoked_at.is_(None))
                .order_by(Consent.given_at.desc())
            ).all()
            return [ConsentView(r.id, r.client_id, tuple(r.scopes), r.given_at) for r in rows]

    def revoke_consent(self, account_id: str, consent_id: int) -> None:
        now = self.clock()
        with self.db.write() as s:
            row = s.get(Consent, consent_id)
            if row is None or row.account_id != account_id or row.revoked_at is not None:
                return
            row.revoked_at = now
            grants = s.scalars(
                select(Grant.id).where(
                    Grant.account_id == account_id,
                    Grant.client_id == row.client_id,
                    Grant.revoked_at.is_(None),
                )
            ).all()
            s.add(
                AuthEvent(
                    at=now, kind="consent_revoked", account_id=account_id, client_id=row.client_id
                )
            )
        for gid in grants:
            self.server.revoke_grant(gid, reason="consent_revoked")

    # ------------------------------------------------------------ resources

    def access_token_active(self, jti: str) -> bool:
        return self.server.access_token_active(jti)

    def userinfo(self, claims: AccessTokenClaims) -> dict[str, Any] | None:
        with self.db.session() as s:
            row = s.get(AccessTokenRecord, claims.jti)
            account_id = row.account_id if row else None
            grant = s.get(Grant, row.grant_id) if row and row.grant_id else None
        if account_id is None:
            return None
        account = self.accounts.get(account_id)
        if account is None:
            return None
        body: dict[str, Any] = {"sub": claims.sub}
        scopes = claims.scope
        requested = ((grant.claims or {}).get("userinfo") or {}) if grant else {}
        if "profile" in scopes or "identity" in scopes:
            body["name"] = account.name
        if "phone" in scopes and account.phone:
            body["phone_number"] = account.phone
        if "identity" in scopes and account.id_number:
            body["cn_citizen_id"] = account.id_number
        if "enterprise" in scopes and account.kind == "enterprise":
            body["enterprise_name"] = account.enterprise_name
            body["cn_uscc"] = account.uscc
        if isinstance(requested, dict) and requested:
            # The claims parameter narrows what is returned; it never widens scopes.
            body = {k: v for k, v in body.items() if k == "sub" or k in requested}
        return body

    def introspect(self, token: str, client: ClientView) -> dict[str, Any]:
        inactive = {"active": False}
        if not isinstance(token, str) or not token or len(token) > 8192:
            return inactive
        if token.count(".") == 2:
            try:
                claims = self.tokens.validate_access_token(token)
            except TokenError:
                return inactive
            if not self.access_token_active(claims.jti):
                return inactive
            return {
                "active": True,
                "scope": " ".join(sorted(claims.scope)),
                "client_id": claims.client_id,
                "sub": claims.sub,
                "token_type": "Bearer",
                "exp": int(claims.exp.timestamp()),
                "iat": int(claims.iat.timestamp()),
                "iss": self.issuer,
                "jti": claims.jti,
            }
        import hashlib

        with self.db.session() as s:
            row = s.get(RefreshToken, hashlib.sha256(token.encode()).hexdigest())
            if row is None:
                return inactive
            grant = s.get(Grant, row.grant_id)
            now = self.clock()
            if (
                grant is None
                or grant.client_id != client.client_id
                or grant.revoked_at is not None
                or row.used_at is not None
                or row.revoked_at is not None
                or row.expires_at <= now
            ):
                return inactive
            return {
                "active": True,
                "scope": row.scope,
                "client_id": grant.client_id,
                "token_type": "refresh_token",
                "exp": int(row.expires_at.timestamp()),
                "iss": self.issuer,
            }

    def revoke_token(self, token: str, client: ClientView) -> None:
        """RFC 7009 §2.2: the response is 200 whether or not the token was valid."""
        if not isinstance(token, str) or not token or len(token) > 8192:
            return
        if token.count(".") == 2:
            try:
                claims = self.tokens.validate_access_token(token)
            except TokenError:
                return
            if claims.client_id != client.client_id:
                return
            self.server.revoke_access_token(
                claims.jti, client_id=claims.client_id, expires_at=claims.exp
            )
            return
        import hashlib

        with self.db.session() as s:
            row = s.get(RefreshToken, hashlib.sha256(token.encode()).hexdigest())
            grant = s.get(Grant, row.grant_id) if row else None
        if grant is not None and grant.client_id == client.client_id:
            self.server.revoke_grant(grant.id, reason="revoked_by_client")

    # ------------------------------------------------------------ logout

    def logout_session(self, sid: str) -> list[LogoutDelivery]:
        """End a hub session everywhere: revoke its online grants and send a signed
        logout token to the back-channel endpoint of every platform it served."""
        clients = self.sessions.end(sid)
        self.server.revoke_for_session(sid)
        with self.db.session() as s:
            account_id = s.scalar(select(Grant.account_id).where(Grant.sid == sid).limit(1))
        deliveries = []
        with self.db.write() as s:
            for client_id in clients:
                client = self.clients.get(client_id)
                if client is None or not client.backchannel_logout_uri:
                    continue
                sub = self.subject_for(account_id, client) if account_id else None
                token = self.tokens.logout_token(
                    alg=client.id_token_signed_response_alg, sub=sub, sid=sid, client_id=client_id
                )
                row = LogoutDelivery(
                    sid=sid,
                    client_id=client_id,
                    uri=client.backchannel_logout_uri,
                    logout_token=token,
                    status="pending",
                    attempts=0,
                    next_attempt_at=self.clock(),
                    created_at=self.clock(),
                )
                s.add(row)
                deliveries.append(row)
        if deliveries:
            self.logout_sender.kick(sid)  # sent off the user's request
        return deliveries

    def deliver_logouts(self, *, sid: str | None = None) -> dict[str, int]:
        """Send pending back-channel logout tokens (in parallel, bounded time);
        failures are retried later with backoff (the background sender, or
        ``govtrust idp deliver-logouts``). Rows are claimed first (a lease on
        ``next_attempt_at``), so concurrent senders never send one token twice."""
        now = self.clock()
        stmt = select(LogoutDelivery.id).where(
            LogoutDelivery.status == "pending", LogoutDelivery.next_attempt_at <= now
        )
        if sid is not None:
            stmt = stmt.where(LogoutDelivery.sid == sid)
        with self.db.session() as s:  # a read first: the periodic poll rarely finds work
            due = list(s.scalars(stmt.order_by(LogoutDelivery.id).limit(200)).all())
        counts = {"delivered": 0, "retry": 0, "failed": 0}
        if not due:
            return counts
        rows = []
        with self.db.write() as s:
            for row_id in due:
                r = s.get(LogoutDelivery, row_id)
                if r is None:
                    continue
                claimed = s.execute(
                    update(LogoutDelivery)
                    .where(
                        LogoutDelivery.id == r.id,
                        LogoutDelivery.status == "pending",
                        LogoutDelivery.next_attempt_at <= now,
                    )
                    .values(next_attempt_at=now + CLAIM_LEASE)
                    .execution_options(synchronize_session=False)
                )
                if claimed.rowcount == 1:  # type: ignore[attr-defined]
                    rows.append((r.id, r.uri, r.logout_token))
        results: dict[int, str | None] = {}

        def send(row_id: int, uri: str, token: str) -> None:
            data = urllib.parse.urlencode({"logout_token": token}).encode()
            req = urllib.request.Request(
                uri,
                data=data,
                method="POST",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            try:
                with urllib.request.urlopen(req, timeout=DELIVERY_TIMEOUT) as resp:  # noqa: S310
                    results[row_id] = None if resp.status in (200, 204) else f"HTTP {resp.status}"
            except urllib.error.HTTPError as exc:
                results[row_id] = f"HTTP {exc.code}"
            except (urllib.error.URLError, OSError, ValueError) as exc:
                results[row_id] = str(exc)[:300]

        threads = [threading.Thread(target=send, args=row, daemon=True) for row in rows]
        for t in threads:
            t.start()
        for t in threads:
            t.join(DELIVERY_TIMEOUT + 1)
        with self.db.write() as s:
            for row_id, _uri, _token in rows:
                row = s.get(LogoutDelivery, row_id)
                if row is None:
                    continue
                row.attempts += 1
                error = results.get(row_id, "timeout")
                if error is None:
                    row.status = "delivered"
                    counts["delivered"] += 1
                elif row.attempts > len(_RETRY):
                    row.status, row.last_error = "failed", error
                    counts["failed"] += 1
                else:
                    row.last_error = error
                    row.next_attempt_at = now + _RETRY[row.attempts - 1]
                    counts["retry"] += 1
                s.add(
                    AuthEvent(
                        at=now,
                        kind=f"backchannel_logout_{row.status}",
                        client_id=row.client_id,
                        detail={"sid": row.sid, "attempts": row.attempts, "error": row.last_error},
                    )
                )
        return counts

    def deliveries(self, sid: str) -> list[LogoutDelivery]:
        with self.db.session() as s:
            return list(s.scalars(select(LogoutDelivery).where(LogoutDelivery.sid == sid)).all())
