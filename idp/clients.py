"""OIDC clients: regional platforms (relying parties) and agency machine clients.

Clients come from the trust registry (participants with the ``relying_party``
role) or are added by an operator (``govtrust idp client add``). Redirect URIs
match by exact string comparison (RFC 9700 §4.1.3); client secrets are stored
as SHA-256 digests of high-entropy values and compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin
from sqlalchemy import select

from govtrust.db import Database, utcnow
from trust import TrustError, public_key_from_jwk

from .models import AuthEvent, Client

__all__ = [
    "ClientStore",
    "ClientView",
    "ClientError",
    "MACHINE_SCOPES",
    "USER_SCOPES",
    "hash_secret",
]

USER_SCOPES: Final = ("openid", "profile", "phone", "identity", "enterprise", "offline_access")
MACHINE_SCOPES: Final = ("seal:sign", "license:issue", "license:revoke")
AUTH_METHODS: Final = ("client_secret_basic", "private_key_jwt")
ID_TOKEN_ALGS: Final = ("RS256", "ES256", "SM2")
CLIENT_CACHE_SECONDS: Final = 5.0


class ClientError(TrustError):
    code = "invalid_client_metadata"


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class ClientView(ClientMixin):  # type: ignore[misc]
    """An immutable client, also the object Authlib's server works with."""

    client_id: str
    name: str
    participant_id: str | None
    redirect_uris: tuple[str, ...]
    post_logout_redirect_uris: tuple[str, ...]
    backchannel_logout_uri: str | None
    token_endpoint_auth_method: str
    client_secret_hash: str | None = field(repr=False)
    jwks: Mapping[str, Any] | None
    grant_types: tuple[str, ...]
    scopes: tuple[str, ...]
    id_token_signed_response_alg: str
    subject_type: str
    sector: str
    first_party: bool
    disabled: bool = False

    # --- authlib ClientMixin ------------------------------------------------
    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        # Never guess: a request without redirect_uri is refused (see server).
        return None

    def get_allowed_scope(self, scope: str) -> str:
        if not scope:
            return ""
        return " ".join(s for s in scope.split() if s in self.scopes)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris  # exact string match

    def check_client_secret(self, client_secret: str) -> bool:
        if self.client_secret_hash is None or not isinstance(client_secret, str):
            return False
        return hmac.compare_digest(hash_secret(client_secret), self.client_secret_hash)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.token_endpoint_auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in self.grant_types

    # --- helpers ------------------------------------------------------------
    def public_keys(self) -> list[tuple[str | None, Any]]:
        """(kid, PublicKey) for every key in the registered JWKS."""
        out = []
        for jwk in (self.jwks or {}).get("keys", []):
            try:
                out.append((jwk.get("kid"), public_key_from_jwk(jwk)))
            except TrustError:
                continue
        return out


def _view(c: Client) -> ClientView:
    return ClientView(
        client_id=c.client_id,
        name=c.name,
        participant_id=c.participant_id,
        redirect_uris=tuple(c.redirect_uris),
        post_logout_redirect_uris=tuple(c.post_logout_redirect_uris),
        backchannel_logout_uri=c.backchannel_logout_uri,
        token_endpoint_auth_method=c.token_endpoint_auth_method,
        client_secret_hash=c.client_secret_hash,
        jwks=c.jwks,
        grant_types=tuple(c.grant_types),
        scopes=tuple(c.scopes),
        id_token_signed_response_alg=c.id_token_signed_response_alg,
        subject_type=c.subject_type,
        sector=c.sector,
        first_party=c.first_party,
        disabled=bool(c.disabled),
    )


def _check_uri(uri: str, what: str) -> None:
    parts = urlsplit(uri)
    if parts.scheme not in ("https", "http") or not parts.netloc or parts.fragment:
        raise ClientError(f"{what} must be an absolute http(s) URI without fragment: {uri!r}")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        raise ClientError(f"{what} must use https except on loopback: {uri!r}")


class ClientStore:
    def __init__(
        self,
        db: Database,
        *,
        clock: Callable[[], datetime] = utcnow,
        participant_active: Callable[[str], bool] | None = None,
    ) -> None:
        self._db = db
        self._clock = clock
        # A client of a participant that is not active in the trust registry
        # (suspended, revoked) is treated as unknown: no authorization, no tokens.
        self._participant_active = participant_active
        self._cache: dict[str, tuple[float, ClientView | None]] = {}

    def get(self, client_id: str) -> ClientView | None:
        """A client, cached per process for :data:`CLIENT_CACHE_SECONDS` (clients are
        read several times per login); changes through this store clear the cache."""
        if not isinstance(client_id, str) or not client_id or len(client_id) > 100:
            return None
        hit = self._cache.get(client_id)
        if hit is not None and time.monotonic() - hit[0] < CLIENT_CACHE_SECONDS:
            return hit[1]
        with self._db.session() as s:
            c = s.get(Client, client_id)
            view = _view(c) if c is not None and not c.disabled else None
        if view is not None and view.participant_id and self._participant_active is not None:
            if not self._participant_active(view.participant_id):
                view = None
        self._cache[client_id] = (time.monotonic(), view)
        return view

    def list(self) -> list[ClientView]:
        with self._db.session() as s:
            return [_view(c) for c in s.scalars(select(Client).order_by(Client.client_id)).all()]

    def add(
        self,
        *,
        client_id: str,
        name: str,
        redirect_uris: Iterable[str] = (),
        post_logout_redirect_uris: Iterable[str] = (),
        backchannel_logout_uri: str | None = None,
        secret: str | None = None,
        jwks: Mapping[str, Any] | None = None,
        scopes: Iterable[str] = ("openid", "profile"),
        grant_types: Iterable[str] | None = None,
        id_token_alg: str = "RS256",
        subject_type: str = "pairwise",
        sector: str | None = None,
        participant_id: str | None = None,
        first_party: bool = False,
        replace: bool = False,
    ) -> ClientView:
        """Register (or, with ``replace``, update) a client. Returns the view; a
        generated secret is never stored in the clear (pass ``secret`` to choose one)."""
        redirect_uris = tuple(redirect_uris)
        scopes = tuple(dict.fromkeys(scopes))
        for uri in redirect_uris:
            _check_uri(uri, "redirect_uri")
        post_logout = tuple(post_logout_redirect_uris)
        for uri in post_logout:
            _check_uri(uri, "post_logout_redirect_uri")
        if backchannel_logout_uri:
            _check_uri(backchannel_logout_uri, "backchannel_logout_uri")
        unknown = set(scopes) - set(USER_SCOPES) - set(MACHINE_SCOPES)
        if unknown:
            raise ClientError(f"unknown scopes {sorted(unknown)}")
        if (secret is None) == (jwks is None):
            raise ClientError("a client authenticates with exactly one of a secret or a JWKS")
        if jwks is not None:
            keys = jwks.get("keys") if isinstance(jwks, Mapping) else None
            if not isinstance(keys, list) or not keys:
                raise ClientError("jwks must be a JWK Set with keys")
            for jwk in keys:
                try:
                    public_key_from_jwk(jwk)
                except TrustError as exc:
                    raise ClientError(f"unusable key in jwks: {exc.message}") from None
        if secret is not None and len(secret) < 32:
            raise ClientError("client secrets must have at least 32 characters")
        if id_token_alg not in ID_TOKEN_ALGS:
            raise ClientError(f"id_token_signed_response_alg must be one of {ID_TOKEN_ALGS}")
        if subject_type not in ("pairwise", "public"):
            raise ClientError("subject_type must be pairwise or public")
        if grant_types is None:
            machine = set(scopes) <= set(MACHINE_SCOPES)
            grant_types = (
                ("client_credentials",) if machine else ("authorization_code", "refresh_token")
            )
        grant_types = tuple(grant_types)
        if "authorization_code" in grant_types and not redirect_uris:
            raise ClientError("authorization_code clients need redirect URIs")
        row = Client(
            client_id=client_id,
            name=name,
            participant_id=participant_id,
            redirect_uris=list(redirect_uris),
            post_logout_redirect_uris=list(post_logout),
            backchannel_logout_uri=backchannel_logout_uri,
            token_endpoint_auth_method="private_key_jwt"
            if jwks is not None
            else "client_secret_basic",
            client_secret_hash=hash_secret(secret) if secret is not None else None,
            jwks=dict(jwks) if jwks is not None else None,
            grant_types=list(grant_types),
            scopes=list(scopes),
            id_token_signed_response_alg=id_token_alg,
            subject_type=subject_type,
            sector=sector or (urlsplit(redirect_uris[0]).netloc if redirect_uris else client_id),
            first_party=first_party,
            created_at=self._clock(),
        )
        with self._db.write() as s:
            existing = s.get(Client, client_id)
            if existing is not None:
                if not replace:
                    raise ClientError(f"client {client_id} exists", code="client_exists")
                s.delete(existing)
                s.flush()
            s.add(row)
        self._cache.clear()
        return _view(row)

    @staticmethod
    def new_secret() -> str:
        return secrets.token_urlsafe(32)

    def set_disabled(self, client_id: str, disabled: bool) -> bool:
        """Disable (or enable again) a client: a disabled client is refused at every
        endpoint — in this process at once, in the other workers within
        :data:`CLIENT_CACHE_SECONDS`. Its access tokens run out (minutes); its refresh
        tokens are useless, since the client can no longer authenticate. Returns
        whether anything changed."""
        with self._db.write() as s:
            row = s.get(Client, client_id)
            if row is None:
                raise ClientError(f"no client {client_id}", code="client_unknown")
            changed = bool(row.disabled) != disabled
            row.disabled = disabled
            if changed:
                s.add(
                    AuthEvent(
                        at=self._clock(),
                        kind="client_disabled" if disabled else "client_enabled",
                        client_id=client_id,
                        detail={},
                    )
                )
        self._cache.clear()
        return changed

    def rotate_secret(self, client_id: str, secret: str | None = None) -> str:
        """A new client secret (generated unless given); the old one stops working."""
        secret = secret if secret is not None else self.new_secret()
        if len(secret) < 32:
            raise ClientError("client secrets must have at least 32 characters")
        with self._db.write() as s:
            row = s.get(Client, client_id)
            if row is None:
                raise ClientError(f"no client {client_id}", code="client_unknown")
            if row.token_endpoint_auth_method != "client_secret_basic":
                raise ClientError(f"client {client_id} authenticates with keys, not a secret")
            row.client_secret_hash = hash_secret(secret)
            s.add(
                AuthEvent(
                    at=self._clock(), kind="client_secret_rotated", client_id=client_id, detail={}
                )
            )
        self._cache.clear()
        return secret

    def is_disabled(self, client_id: str) -> bool | None:
        """True/False for a registered client, None for an unknown one (not cached)."""
        with self._db.session() as s:
            row = s.get(Client, client_id)
            return None if row is None else bool(row.disabled)
