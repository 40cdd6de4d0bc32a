"""Identity provider tables: accounts, clients, SSO sessions, codes, grants, tokens.

Secrets are never stored in the clear: passwords as argon2id, client secrets,
authorization codes, refresh tokens and recovery codes as SHA-256 digests
(they are high-entropy random strings), TOTP seeds envelope-encrypted under
the master key. Anything that must be single-use (codes, refresh tokens,
assertion ``jti``s, nonces) is consumed with an atomic conditional update or
a unique constraint, never a read-then-write in Python.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy import false as sa_false
from sqlalchemy.orm import Mapped, mapped_column

from govtrust.db import Base, UTCDateTime, utcnow

__all__ = [
    "Account",
    "Client",
    "HubSession",
    "SessionClient",
    "AuthorizationCode",
    "Grant",
    "RefreshToken",
    "AccessTokenRecord",
    "Consent",
    "UsedJti",
    "PushedRequest",
    "LogoutDelivery",
    "LoginThrottle",
    "AuthEvent",
]


class Account(Base):
    """A citizen (公民) or a legal person's authorised operator (法人经办人)."""

    __tablename__ = "idp_accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # opaque, never shown
    username: Mapped[str] = mapped_column(String(64), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # citizen | enterprise
    password_hash: Mapped[str] = mapped_column(String(200))
    name: Mapped[str] = mapped_column(String(100))  # 姓名
    id_number: Mapped[str | None] = mapped_column(
        String(18), nullable=True, unique=True
    )  # 公民身份号码
    phone: Mapped[str | None] = mapped_column(String(20), nullable=True)  # 手机号码
    enterprise_name: Mapped[str | None] = mapped_column(String(200), nullable=True)  # 企业名称
    uscc: Mapped[str | None] = mapped_column(String(18), nullable=True)  # 统一社会信用代码
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # encrypted
    totp_last_step: Mapped[int] = mapped_column(Integer, default=0)  # replay guard
    recovery_codes: Mapped[list[str]] = mapped_column(JSON, default=list)  # SHA-256 hex
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)


class Client(Base):
    """An OIDC relying party (a regional platform) or an agency machine client."""

    __tablename__ = "idp_clients"

    client_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    participant_id: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    name: Mapped[str] = mapped_column(String(200))
    redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    post_logout_redirect_uris: Mapped[list[str]] = mapped_column(JSON, default=list)
    backchannel_logout_uri: Mapped[str | None] = mapped_column(String(500), nullable=True)
    token_endpoint_auth_method: Mapped[str] = mapped_column(String(40))
    client_secret_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    jwks: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    grant_types: Mapped[list[str]] = mapped_column(JSON, default=list)
    scopes: Mapped[list[str]] = mapped_column(JSON, default=list)  # the most it may ask for
    id_token_signed_response_alg: Mapped[str] = mapped_column(String(16), default="RS256")
    subject_type: Mapped[str] = mapped_column(String(16), default="pairwise")
    sector: Mapped[str] = mapped_column(String(100))  # pairwise sector (a province is one)
    first_party: Mapped[bool] = mapped_column(Boolean, default=False)  # consent implied
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # A disabled client is refused everywhere (authorize, token, PAR, logout hints).
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default=sa_false())


class HubSession(Base):
    """The single sign-on session at the hub (cookie holds ``sid``'s secret half)."""

    __tablename__ = "idp_sessions"

    sid: Mapped[str] = mapped_column(String(64), primary_key=True)
    secret_hash: Mapped[str] = mapped_column(String(64))
    account_id: Mapped[str] = mapped_column(ForeignKey("idp_accounts.id"), index=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list[str]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")


class SessionClient(Base):
    """Every relying party a hub session has served (for single logout)."""

    __tablename__ = "idp_session_clients"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sid: Mapped[str] = mapped_column(ForeignKey("idp_sessions.sid", ondelete="CASCADE"))
    client_id: Mapped[str] = mapped_column(String(100))
    first_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("sid", "client_id", name="uq_idp_session_clients_pair"),)


class AuthorizationCode(Base):
    __tablename__ = "idp_codes"

    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str] = mapped_column(String(36))
    sid: Mapped[str] = mapped_column(String(64))
    redirect_uri: Mapped[str] = mapped_column(Text)
    scope: Mapped[str] = mapped_column(Text)
    nonce: Mapped[str | None] = mapped_column(String(300), nullable=True)
    code_challenge: Mapped[str] = mapped_column(String(128))
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    auth_time: Mapped[datetime] = mapped_column(UTCDateTime)
    acr: Mapped[str] = mapped_column(String(16))
    amr: Mapped[list[str]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    grant_id: Mapped[str | None] = mapped_column(String(36), nullable=True)


class Grant(Base):
    """What one account granted one client; refresh tokens and access tokens hang off it.
    Revoking the grant revokes every token issued under it."""

    __tablename__ = "idp_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100), index=True)
    account_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    sid: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    scope: Mapped[str] = mapped_column(Text)
    claims: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    auth_time: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    acr: Mapped[str | None] = mapped_column(String(16), nullable=True)
    amr: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_reason: Mapped[str | None] = mapped_column(String(64), nullable=True)


class RefreshToken(Base):
    __tablename__ = "idp_refresh_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str] = mapped_column(ForeignKey("idp_grants.id"), index=True)
    scope: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AccessTokenRecord(Base):
    """JWT access tokens are self-contained; this row lets introspection and
    revocation work by ``jti`` (RFC 7662, RFC 7009)."""

    __tablename__ = "idp_access_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    grant_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    client_id: Mapped[str] = mapped_column(String(100))
    account_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    scope: Mapped[str] = mapped_column(Text)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class Consent(Base):
    __tablename__ = "idp_consents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(String(36))
    client_id: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    given_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    __table_args__ = (Index("ix_idp_consents_account_client", "account_id", "client_id"),)


class UsedJti(Base):
    """Single use of client assertions (private_key_jwt) and nonces."""

    __tablename__ = "idp_used_jti"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # assertion | nonce
    issuer: Mapped[str] = mapped_column(String(100), primary_key=True)
    jti: Mapped[str] = mapped_column(String(300), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class PushedRequest(Base):
    """RFC 9126 pushed authorization requests."""

    __tablename__ = "idp_par"

    request_uri: Mapped[str] = mapped_column(String(100), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(100))
    params: Mapped[dict[str, Any]] = mapped_column(JSON)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class LogoutDelivery(Base):
    """One back-channel logout token to deliver; retried until it succeeds or gives up."""

    __tablename__ = "idp_logout_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    sid: Mapped[str] = mapped_column(String(64), index=True)
    client_id: Mapped[str] = mapped_column(String(100))
    uri: Mapped[str] = mapped_column(String(500))
    logout_token: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|delivered|failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class LoginThrottle(Base):
    """Failures per key (``acct:<id>`` or ``ip:<addr>``) for progressive delays."""

    __tablename__ = "idp_login_throttle"

    key: Mapped[str] = mapped_column(String(100), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    blocked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)


class AuthEvent(Base):
    """Login, failure, lockout, consent, token issue, refresh, logout, admin changes."""

    __tablename__ = "idp_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    kind: Mapped[str] = mapped_column(String(40))
    account_id: Mapped[str | None] = mapped_column(String(36), nullable=True, index=True)
    client_id: Mapped[str | None] = mapped_column(String(100), nullable=True)
    ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
