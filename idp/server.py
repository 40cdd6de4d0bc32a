"""Authlib's authorization server, hardened per RFC 9700 and SECURITY.md.

Authlib parses and validates OAuth requests, authenticates clients and routes
grants. GovTrust replaces what Authlib leaves unsafe by default:

* PKCE is required for every client and only ``S256`` is accepted (Authlib
  accepts ``plain`` and lets confidential clients skip PKCE);
* authorization codes and refresh tokens are consumed with one atomic
  conditional ``UPDATE`` (Authlib saves the token before deleting the code —
  a race); a second redemption of a code revokes every token issued from it;
* refresh tokens rotate; reuse of a spent one revokes the whole grant; scope
  never grows;
* tokens are issued by :class:`idp.tokens.TokenService` (JWT access tokens per
  RFC 9068; ID tokens in RS256, ES256 or SM2), not Authlib's JOSE;
* ``private_key_jwt`` is verified with ``trust.jws`` (single-use ``jti``,
  ``aud``, ``exp`` required, registered key and algorithm only).
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from authlib.integrations.flask_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import OAuth2Request, grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
    InvalidScopeError,
    UnauthorizedClientError,
)
from authlib.oauth2.rfc7636 import CodeChallenge
from sqlalchemy import Table, bindparam, select, update

from govtrust.db import Database, insert_now, utcnow
from trust import TrustError, public_key_from_jwk
from trust.jws import JWSError, parse_compact

from .clients import ClientStore, ClientView
from .models import AccessTokenRecord, AuthEvent, AuthorizationCode, Grant, RefreshToken, UsedJti
from .tokens import LEEWAY, TokenService

audit = logging.getLogger("govtrust.audit.idp")

__all__ = ["GrantUser", "IdpServer", "CODE_LIFETIME", "REFRESH_LIFETIME"]

CODE_LIFETIME: Final = timedelta(minutes=2)
REFRESH_LIFETIME: Final = timedelta(days=30)
ASSERTION_TYPE: Final = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
# Written into ``idp_codes.grant_id`` by a second redemption that finds no grant yet:
# the redemption still issuing sees it and issues its tokens already revoked.
CODE_REPLAYED: Final = "replayed"
CLIENT_ASSERTION_ALGS: Final = frozenset({"ES256", "RS256", "PS256", "SM2", "EdDSA"})


def _h(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


@dataclass(frozen=True)
class GrantUser:
    """The end user as the authorization endpoint hands it to Authlib."""

    account_id: str
    sid: str
    auth_time: datetime
    acr: str
    amr: tuple[str, ...]
    claims_request: Mapping[str, Any] | None = None

    def get_user_id(self) -> str:
        return self.account_id


@dataclass
class _CodeRecord:
    """A consumed authorization code, shaped for Authlib."""

    row: Any  # a row of idp_codes (AuthorizationCode's columns)

    def get_redirect_uri(self) -> str:
        return str(self.row.redirect_uri)

    def get_scope(self) -> str:
        return str(self.row.scope)

    def get_nonce(self) -> str | None:
        return None if self.row.nonce is None else str(self.row.nonce)

    def get_auth_time(self) -> int:
        return int(self.row.auth_time.timestamp())


class StrictPKCE(CodeChallenge):  # type: ignore[misc]
    """RFC 7636 with S256 only, required for every client (RFC 9700 §2.1.1)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
    DEFAULT_CODE_CHALLENGE_METHOD = "S256"

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError(
                "PKCE is required: missing 'code_challenge'", redirect_uri=redirect_uri
            )
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError(
                "code_challenge_method must be S256", redirect_uri=redirect_uri
            )
        super().validate_code_challenge(grant, redirect_uri)

    def get_authorization_code_challenge(self, authorization_code: _CodeRecord) -> str:
        return str(authorization_code.row.code_challenge)

    def get_authorization_code_challenge_method(self, authorization_code: _CodeRecord) -> str:
        return "S256"


class _Issuing:
    """Token issuance shared by the grants (the server instance holds the services)."""

    server: Any
    request: Any
    TOKEN_RESPONSE_HEADER: Any

    @property
    def idp(self) -> IdpServer:
        return self.server.idp  # type: ignore[no-any-return]


class CodeGrant(_Issuing, grants.AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]

    def save_authorization_code(self, code: str, request: Any) -> None:
        user: GrantUser = request.user
        data = request.payload.data
        idp = self.idp
        with idp.db.write() as s:
            insert_now(
                s,
                AuthorizationCode(
                    code_hash=_h(code),
                    client_id=request.client.client_id,
                    account_id=user.account_id,
                    sid=user.sid,
                    redirect_uri=request.payload.redirect_uri,
                    scope=request.scope or "",
                    nonce=data.get("nonce"),
                    code_challenge=data["code_challenge"],
                    claims=dict(user.claims_request) if user.claims_request else None,
                    auth_time=user.auth_time,
                    acr=user.acr,
                    amr=list(user.amr),
                    expires_at=idp.clock() + CODE_LIFETIME,
                ),
            )

    def query_authorization_code(self, code: str, client: ClientView) -> _CodeRecord | None:
        """Consume the code atomically: of N concurrent redemptions exactly one wins.
        A second redemption revokes everything issued from the code (RFC 6749 §4.1.2)."""
        if not isinstance(code, str) or len(code) > 200:
            return None
        idp = self.idp
        now = idp.clock()
        digest = _h(code)
        db = idp.db
        with db.connection(write=True) as c:
            params = {"code_hash_": digest, "client_id_": client.client_id, "now": now}
            row = c.execute(db.statement(_consume_code), params).first()
            if row is not None:
                return _CodeRecord(row)
            row = c.execute(db.statement(_code_by_hash), {"code_hash_": digest}).first()
        if row is not None and row.used_at is not None and row.client_id == client.client_id:
            idp.revoke_code_grant(digest, reason="code_reuse")
        return None

    def delete_authorization_code(self, authorization_code: _CodeRecord) -> None:
        """Already consumed in :meth:`query_authorization_code`."""

    def authenticate_user(self, authorization_code: _CodeRecord) -> GrantUser:
        row = authorization_code.row
        return GrantUser(
            row.account_id, row.sid, row.auth_time, row.acr, tuple(row.amr), row.claims
        )

    def validate_token_request(self) -> None:
        redirect_uri = self.request.payload.redirect_uri
        if not redirect_uri:
            raise InvalidRequestError("Missing 'redirect_uri'")
        super().validate_token_request()

    def create_token_response(self) -> tuple[int, dict[str, Any], Any]:
        code: _CodeRecord = self.request.authorization_code
        client: ClientView = self.request.client
        row = code.row
        body = self.idp.issue_for_user(
            client=client,
            account_id=row.account_id,
            scope=row.scope,
            sid=row.sid,
            auth_time=row.auth_time,
            acr=row.acr,
            amr=list(row.amr),
            nonce=row.nonce,
            claims=row.claims,
            code_hash=row.code_hash,
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER


@dataclass
class _RefreshRecord:
    row: RefreshToken
    grant: Grant

    def check_client(self, client: ClientView) -> bool:
        return self.grant.client_id == client.client_id

    def get_scope(self) -> str:
        return self.row.scope


class RefreshGrant(_Issuing, grants.RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]
    INCLUDE_NEW_REFRESH_TOKEN = True

    def _validate_request_token(self, client: ClientView) -> _RefreshRecord:
        token = self.request.form.get("refresh_token")
        if not token:
            raise InvalidRequestError("Missing 'refresh_token' in request.")
        record = self.idp.consume_refresh_token(token, client, scope=self.request.payload.scope)
        if record is None:
            raise InvalidGrantError()
        return record

    def create_token_response(self) -> tuple[int, dict[str, Any], Any]:
        record: _RefreshRecord = self.request.refresh_token
        g = record.grant
        scope = self.request.payload.scope or record.row.scope  # subset checked by Authlib
        body = self.idp.issue_for_user(
            client=self.request.client,
            account_id=g.account_id or "",
            scope=scope,
            sid=g.sid,
            auth_time=g.auth_time,
            acr=g.acr or "loa1",
            amr=list(g.amr or []),
            nonce=None,
            claims=g.claims,
            grant_id=g.id,
        )
        return 200, body, self.TOKEN_RESPONSE_HEADER


class MachineGrant(_Issuing, grants.ClientCredentialsGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_basic", "private_key_jwt"]

    def create_token_response(self) -> tuple[int, dict[str, Any], Any]:
        client: ClientView = self.request.client
        body = self.idp.issue_machine(client, machine_scope(client, self.request.payload.scope))
        return 200, body, self.TOKEN_RESPONSE_HEADER


# Hot-path statements, built once per database (Database.statement).
def _consume_code(_db: Database) -> Any:
    """Mark an unused, unexpired code of this client used; the row if this call did."""
    t: Table = AuthorizationCode.__table__  # type: ignore[assignment]
    return (
        update(t)
        .where(
            t.c.code_hash == bindparam("code_hash_"),
            t.c.used_at.is_(None),
            t.c.client_id == bindparam("client_id_"),
            t.c.expires_at > bindparam("now"),
        )
        .values(used_at=bindparam("now"))
        .returning(*t.c)
    )


def _code_by_hash(_db: Database) -> Any:
    t: Table = AuthorizationCode.__table__  # type: ignore[assignment]
    return select(t).where(t.c.code_hash == bindparam("code_hash_"))


def _token_state(_db: Database) -> Any:
    """An access token's row with its grant's revocation (one read per API call)."""
    t: Table = AccessTokenRecord.__table__  # type: ignore[assignment]
    g: Table = Grant.__table__  # type: ignore[assignment]
    return (
        select(t.c.revoked_at, t.c.expires_at, g.c.revoked_at.label("grant_revoked_at"))
        .select_from(t.outerjoin(g, g.c.id == t.c.grant_id))
        .where(t.c.jti == bindparam("jti"))
    )


def _link_code(_db: Database) -> Any:
    """Link a code to its grant unless another redemption did (RFC 6749 §4.1.2)."""
    t: Table = AuthorizationCode.__table__  # type: ignore[assignment]
    return (
        update(t)
        .where(t.c.code_hash == bindparam("code_hash_"), t.c.grant_id.is_(None))
        .values(grant_id=bindparam("grant_id_"))
    )


def remember_jti(db: Database, *, kind: str, issuer: str, jti: str, expires_at: datetime) -> bool:
    """Record a single-use identifier (assertion ``jti``, nonce); False if it was seen.
    A conflict is an answer, not an error, so this can join a unit of work."""
    with db.connection(write=True) as c:
        result = c.execute(
            db.statement(_insert_jti),
            {"kind": kind, "issuer": issuer, "jti": jti, "expires_at": expires_at},
        )
        return result.first() is not None


def _insert_jti(db: Database) -> Any:
    return (
        db.insert(UsedJti)
        .on_conflict_do_nothing()
        .returning(UsedJti.jti)  # rowcount is -1 here with psycopg 3
    )


def machine_scope(client: ClientView, requested: str | None) -> str:
    """The scope of a client_credentials token: what was asked (default: everything the
    client may have), never more than the client's registration allows."""
    wanted = (requested or "").split() or list(client.scopes)
    if not set(wanted) <= set(client.scopes):
        raise InvalidScopeError("scope exceeds what this client may ask for")
    return " ".join(dict.fromkeys(wanted))


class _AuthlibServer(AuthorizationServer):  # type: ignore[misc]
    """Authlib's Flask server, but it accepts an already-built OAuth2Request (PAR,
    resumed requests) instead of always re-reading ``flask.request``."""

    def create_oauth2_request(self, request: Any) -> Any:
        if isinstance(request, OAuth2Request):
            return request
        return super().create_oauth2_request(request)


class IdpServer:
    """The hub's authorization server and the token bookkeeping behind it."""

    def __init__(
        self,
        *,
        db: Database,
        clients: ClientStore,
        tokens: TokenService,
        issuer: str,
        token_endpoint: str,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.clients = clients
        self.tokens = tokens
        self.issuer = issuer
        self.token_endpoint = token_endpoint
        self.clock = clock
        server = _AuthlibServer(query_client=clients.get, save_token=lambda token, request: None)
        server.idp = self
        server.register_grant(CodeGrant, [StrictPKCE(required=True)])
        server.register_grant(RefreshGrant)
        server.register_grant(MachineGrant)
        server.register_client_auth_method("private_key_jwt", self._authenticate_private_key_jwt)
        server.scopes_supported = None
        self.authlib = server

    # ------------------------------------------------------------ client auth

    def _authenticate_private_key_jwt(
        self, query_client: Callable[[str], Any], request: Any
    ) -> ClientView | None:
        form = request.form
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            return None
        assertion = form.get("client_assertion")
        if not isinstance(assertion, str):
            return None
        try:
            payload, payload_b64, sig = parse_compact(assertion, allowed=CLIENT_ASSERTION_ALGS)
            claims = json.loads(payload)
        except (JWSError, ValueError):
            return None
        if not isinstance(claims, dict):
            return None
        client_id = claims.get("iss")
        if not isinstance(client_id, str) or claims.get("sub") != client_id:
            return None
        if form.get("client_id") not in (None, client_id):
            return None  # mismatched client_id
        client: ClientView | None = query_client(client_id)
        if client is None or client.token_endpoint_auth_method != "private_key_jwt":
            return None
        # Registered key and algorithm only; try every key that shares the kid.
        kid = sig.header.get("kid")
        verified = False
        for jwk in (client.jwks or {}).get("keys", []):
            key_kid = jwk.get("kid")
            if kid is not None and key_kid is not None and key_kid != kid:
                continue
            # Each key's own registered algorithm (keys may share a kid).
            registered_alg = jwk.get("alg")
            if registered_alg and registered_alg != sig.algorithm.jose:
                continue
            try:
                key = public_key_from_jwk(jwk)
            except TrustError:
                continue
            if sig.verify(payload_b64, key):
                verified = True
                break
        if not verified:
            return None
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.token_endpoint not in audiences and self.issuer not in audiences:
            return None
        now = self.clock()
        exp, jti = claims.get("exp"), claims.get("jti")
        if not isinstance(exp, int) or not isinstance(jti, str) or not jti or len(jti) > 300:
            return None
        if exp + LEEWAY.total_seconds() < now.timestamp() or exp > now.timestamp() + 600:
            return None
        iat = claims.get("iat")
        if isinstance(iat, int) and iat > now.timestamp() + 60:
            return None
        if not remember_jti(
            self.db,
            kind="assertion",
            issuer=client_id,
            jti=jti,
            expires_at=datetime.fromtimestamp(exp, UTC) + LEEWAY,
        ):
            return None  # replayed assertion
        return client

    # ------------------------------------------------------------ issuance

    def issue_for_user(
        self,
        *,
        client: ClientView,
        account_id: str,
        scope: str,
        sid: str | None,
        auth_time: datetime | None,
        acr: str,
        amr: list[str],
        nonce: str | None,
        claims: Mapping[str, Any] | None,
        code_hash: str | None = None,
        grant_id: str | None = None,
    ) -> dict[str, Any]:
        """Access token, ID token (with ``openid``), rotated refresh token (with
        ``offline_access`` or an existing grant). The grant records everything so
        that one revocation reaches every token."""
        now = self.clock()
        scopes = scope.split()
        sub = self.tokens.subject(
            account_id, subject_type=client.subject_type, sector=client.sector
        )
        access, jti, exp = self.tokens.access_token(
            sub=sub, client_id=client.client_id, scope=scope, auth_time=auth_time, acr=acr
        )
        replayed = False
        refreshing = grant_id is not None
        with self.db.write() as s:
            if grant_id is None:
                grant_id = str(uuid.uuid4())
                if code_hash is not None:
                    # Link the code to its grant unless a second redemption got there
                    # first (it marked the code): then everything issued here is
                    # revoked at once (RFC 6749 §4.1.2, under concurrency).
                    linked = s.connection().execute(
                        self.db.statement(_link_code),
                        {"code_hash_": code_hash, "grant_id_": grant_id},
                    )
                    replayed = linked.rowcount != 1
                insert_now(
                    s,
                    Grant(
                        id=grant_id,
                        client_id=client.client_id,
                        account_id=account_id,
                        sid=sid,
                        scope=scope,
                        claims=dict(claims) if claims else None,
                        auth_time=auth_time,
                        acr=acr,
                        amr=amr,
                        created_at=now,
                        revoked_at=now if replayed else None,
                        revoked_reason="code_reuse" if replayed else None,
                    ),
                )
            insert_now(
                s,
                AccessTokenRecord(
                    jti=jti,
                    grant_id=grant_id,
                    client_id=client.client_id,
                    account_id=account_id,
                    scope=scope,
                    expires_at=exp,
                    revoked_at=now if replayed else None,
                ),
                AuthEvent(
                    at=now,
                    kind="token_refreshed" if refreshing else "token_issued",
                    account_id=account_id,
                    client_id=client.client_id,
                    detail={"grant": grant_id, "jti": jti, "scope": scope},
                ),
            )
            refresh = None
            if "offline_access" in scopes and client.check_grant_type("refresh_token"):
                refresh = secrets.token_urlsafe(32)
                insert_now(
                    s,
                    RefreshToken(
                        token_hash=_h(refresh),
                        grant_id=grant_id,
                        scope=scope,
                        created_at=now,
                        expires_at=now + REFRESH_LIFETIME,
                        revoked_at=now if replayed else None,
                    ),
                )
        body: dict[str, Any] = {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int((exp - now).total_seconds()),
            "scope": scope,
        }
        if refresh:
            body["refresh_token"] = refresh
        if "openid" in scopes and auth_time is not None:
            body["id_token"] = self.tokens.id_token(
                alg=client.id_token_signed_response_alg,
                sub=sub,
                client_id=client.client_id,
                auth_time=auth_time,
                acr=acr,
                amr=amr,
                sid=sid,
                nonce=nonce,
                access_token=access,
            )
        return body

    def issue_machine(self, client: ClientView, scope: str) -> dict[str, Any]:
        """client_credentials: a short-lived JWT access token and nothing stored —
        the token is self-contained and a row per machine token would put a
        database write on the hottest path. Revocation writes a tombstone
        (:meth:`revoke_access_token`); issuance goes to the audit log stream."""
        now = self.clock()
        access, jti, exp = self.tokens.access_token(
            sub=client.client_id, client_id=client.client_id, scope=scope
        )
        audit.info(
            "token_issued grant_type=client_credentials client_id=%s jti=%s scope=%s",
            client.client_id,
            jti,
            scope,
        )
        return {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": int((exp - now).total_seconds()),
            "scope": scope,
        }

    # ------------------------------------------------------------ refresh and revocation

    def consume_refresh_token(
        self, token: str, client: ClientView, *, scope: str | None = None
    ) -> _RefreshRecord | None:
        """Rotate: the token is spent now. Reuse of a spent token revokes its grant.
        A ``scope`` wider than the token's raises ``invalid_scope`` and leaves a live
        token unspent (a retry must not look like reuse)."""
        if not isinstance(token, str) or len(token) > 200:
            return None
        digest = _h(token)
        now = self.clock()
        with self.db.write() as s:
            row = s.get(RefreshToken, digest)
            if row is None:
                return None
            grant = s.get(Grant, row.grant_id)
            if grant is None or grant.client_id != client.client_id:
                return None
            if scope and row.used_at is None and not set(scope.split()) <= set(row.scope.split()):
                raise InvalidScopeError("scope exceeds what was granted")
            result = s.execute(
                update(RefreshToken)
                .where(
                    RefreshToken.token_hash == digest,
                    RefreshToken.used_at.is_(None),
                    RefreshToken.revoked_at.is_(None),
                    RefreshToken.expires_at > now,
                )
                .values(used_at=now)
                .execution_options(synchronize_session=False)
            )
            won = result.rowcount == 1  # type: ignore[attr-defined]
            # Read back from the database, not the row loaded before the UPDATE: a
            # concurrent winner's commit is only visible now.
            spent = s.scalar(select(RefreshToken.used_at).where(RefreshToken.token_hash == digest))
            reuse = not won and spent is not None
            if won and grant.revoked_at is None:
                s.expunge(row)
                s.expunge(grant)
                return _RefreshRecord(row, grant)
        if reuse:
            self.revoke_grant(row.grant_id, reason="refresh_reuse")
        return None

    def revoke_grant(self, grant_id: str, *, reason: str) -> None:
        now = self.clock()
        with self.db.write() as s:
            s.execute(
                update(Grant)
                .where(Grant.id == grant_id, Grant.revoked_at.is_(None))
                .values(revoked_at=now, revoked_reason=reason)
            )
            s.execute(
                update(RefreshToken)
                .where(RefreshToken.grant_id == grant_id, RefreshToken.revoked_at.is_(None))
                .values(revoked_at=now)
            )
            s.execute(
                update(AccessTokenRecord)
                .where(
                    AccessTokenRecord.grant_id == grant_id, AccessTokenRecord.revoked_at.is_(None)
                )
                .values(revoked_at=now)
            )

    def revoke_code_grant(self, code_hash: str, *, reason: str) -> None:
        """A second redemption: revoke the grant issued from the code, or, when the
        first redemption has not linked one yet, mark the code so that it issues its
        tokens revoked (see :meth:`issue_for_user`)."""
        with self.db.write() as s:
            s.execute(
                update(AuthorizationCode)
                .where(
                    AuthorizationCode.code_hash == code_hash,
                    AuthorizationCode.grant_id.is_(None),
                )
                .values(grant_id=CODE_REPLAYED)
                .execution_options(synchronize_session=False)
            )
            grant_id = s.scalar(
                select(AuthorizationCode.grant_id).where(AuthorizationCode.code_hash == code_hash)
            )
        if grant_id and grant_id != CODE_REPLAYED:
            self.revoke_grant(grant_id, reason=reason)

    def revoke_for_session(self, sid: str, *, reason: str = "logout") -> None:
        """Logout ends the grants issued in that session that carry no offline access."""
        with self.db.session() as s:
            ids = s.scalars(
                select(Grant.id).where(Grant.sid == sid, Grant.revoked_at.is_(None))
            ).all()
            scopes = {
                g.id: g.scope for g in s.scalars(select(Grant).where(Grant.id.in_(ids))).all()
            }
        for gid in ids:
            if "offline_access" not in scopes.get(gid, "").split():
                self.revoke_grant(gid, reason=reason)

    def access_token_active(self, jti: str) -> bool:
        """False when the access token was revoked (directly or through its grant)."""
        db = self.db
        with db.connection() as c:
            row = c.execute(db.statement(_token_state), {"jti": jti}).first()
        if row is None:
            # Tokens issued to users always have a row (written before the token is
            # returned); machine tokens have none unless revoked. Callers verify the
            # signature and expiry first.
            return True
        if row.revoked_at is not None or row.expires_at <= self.clock():
            return False
        # The grant decides too: a token issued while its grant was being revoked
        # (concurrent refresh and reuse) must not outlive it.
        return row.grant_revoked_at is None

    def revoke_access_token(self, jti: str, *, client_id: str, expires_at: datetime) -> None:
        """Revoke one access token (a tombstone for machine tokens, which have no row)."""
        now = self.clock()
        with self.db.write() as s:
            row = s.get(AccessTokenRecord, jti)
            if row is None:
                s.add(
                    AccessTokenRecord(
                        jti=jti,
                        grant_id=None,
                        client_id=client_id,
                        account_id=None,
                        scope="",
                        expires_at=expires_at,
                        revoked_at=now,
                    )
                )
            elif row.revoked_at is None:
                row.revoked_at = now

    def check_client_auth_conflict(self, request: Any) -> None:
        """Refuse requests that authenticate a client in more than one way (RFC 6749 §2.3)."""
        methods = 0
        if request.headers.get("Authorization", "").lower().startswith("basic "):
            methods += 1
        if request.form.get("client_assertion") is not None:
            methods += 1
        if request.form.get("client_secret") is not None:
            raise InvalidClientError(description="client_secret_post is not accepted")
        if methods > 1:
            raise InvalidClientError(description="more than one client authentication method")


def _unused(*_: Any) -> None:  # keep imported names referenced for type checkers
    _ = (UnauthorizedClientError, TrustError)
