"""Tokens the hub issues and the checks every consumer applies.

* ID tokens (OpenID Connect Core §2), signed with the algorithm the client
  registered: RS256 (default), ES256 or SM2 (GovTrust's private JOSE value).
* Access tokens as JWTs per RFC 9068 (``typ: at+jwt``), signed ES256 with the
  hub's ``access_token`` key; resource servers (seal and license APIs) check
  them with :meth:`TokenService.validate_access_token`.
* Logout tokens (OpenID Connect Back-Channel Logout §2.4): ``sid``,
  ``events``, never a ``nonce``.

Pairwise subject identifiers (OIDC Core §8.1): ``sub`` = base64url of
HMAC-SHA256(key derived from the master key, sector ‖ account id), so that
two provinces cannot correlate a citizen by ``sub``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final

from govtrust.db import utcnow
from keys import KeyPurpose, KeyStore, MasterKey
from trust import TrustError, b64url
from trust.jws import JWSError, parse_compact, sign_compact

__all__ = [
    "TokenService",
    "TokenError",
    "AccessTokenClaims",
    "ACCESS_TOKEN_LIFETIME",
    "ID_TOKEN_LIFETIME",
    "LEEWAY",
]

ACCESS_TOKEN_LIFETIME: Final = timedelta(minutes=10)
ID_TOKEN_LIFETIME: Final = timedelta(minutes=10)
LOGOUT_TOKEN_LIFETIME: Final = timedelta(minutes=2)
LEEWAY: Final = timedelta(seconds=15)  # RFC 8725 / SECURITY.md: at most 15 s
MAX_TOKEN_SIZE: Final = 8192
ACCESS_TOKEN_ALGS: Final = frozenset({"ES256"})
BACKCHANNEL_EVENT: Final = "http://schemas.openid.net/event/backchannel-logout"


class TokenError(TrustError):
    """A token is not acceptable (code says why)."""

    code = "invalid_token"


@dataclass(frozen=True)
class AccessTokenClaims:
    sub: str
    client_id: str
    scope: frozenset[str]
    jti: str
    exp: datetime
    iat: datetime
    claims: Mapping[str, Any]


class TokenService:
    def __init__(
        self,
        *,
        issuer: str,
        keys: KeyStore,
        master_key: MasterKey,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.issuer = issuer
        self._keys = keys
        self._pairwise_key = master_key.derive("idp-pairwise-sub")
        self._clock = clock

    # ------------------------------------------------------------ subjects

    def subject(self, account_id: str, *, subject_type: str, sector: str) -> str:
        if subject_type == "public":
            return account_id
        mac = hmac.new(self._pairwise_key, f"{sector}|{account_id}".encode(), hashlib.sha256)
        return b64url(mac.digest())

    # ------------------------------------------------------------ issuing

    def _sign(self, purpose: KeyPurpose, alg: str, claims: Mapping[str, Any], typ: str) -> str:
        signer = self._keys.signer(purpose, algorithm=alg)
        payload = json.dumps(claims, separators=(",", ":"), ensure_ascii=False).encode()
        return sign_compact(payload, signer, {"typ": typ})

    def id_token(
        self,
        *,
        alg: str,
        sub: str,
        client_id: str,
        auth_time: datetime,
        acr: str,
        amr: list[str],
        sid: str | None,
        nonce: str | None,
        access_token: str | None = None,
        extra: Mapping[str, Any] | None = None,
    ) -> str:
        now = self._clock()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": client_id,
            "azp": client_id,
            "iat": int(now.timestamp()),
            "exp": int((now + ID_TOKEN_LIFETIME).timestamp()),
            "auth_time": int(auth_time.timestamp()),
            "acr": acr,
            "amr": amr,
        }
        if sid:
            claims["sid"] = sid
        if nonce:
            claims["nonce"] = nonce
        if access_token:
            digest = hashlib.sha256(access_token.encode()).digest()  # RS256/ES256/SM2 → 256-bit
            claims["at_hash"] = b64url(digest[:16])
        if extra:
            claims.update({k: v for k, v in extra.items() if k not in claims})
        return self._sign(KeyPurpose.ID_TOKEN, alg, claims, "JWT")

    def access_token(
        self,
        *,
        sub: str,
        client_id: str,
        scope: str,
        audience: str | None = None,
        auth_time: datetime | None = None,
        acr: str | None = None,
        lifetime: timedelta = ACCESS_TOKEN_LIFETIME,
    ) -> tuple[str, str, datetime]:
        """Returns (token, jti, expiry)."""
        now = self._clock()
        jti = secrets.token_urlsafe(18)
        exp = now + lifetime
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": sub,
            "aud": audience or self.issuer,
            "client_id": client_id,
            "scope": scope,
            "jti": jti,
            "iat": int(now.timestamp()),
            "exp": int(exp.timestamp()),
        }
        if auth_time is not None:
            claims["auth_time"] = int(auth_time.timestamp())
        if acr:
            claims["acr"] = acr
        return self._sign(KeyPurpose.ACCESS_TOKEN, "ES256", claims, "at+jwt"), jti, exp

    def logout_token(self, *, alg: str, sub: str | None, sid: str, client_id: str) -> str:
        now = self._clock()
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": client_id,
            "iat": int(now.timestamp()),
            "exp": int((now + LOGOUT_TOKEN_LIFETIME).timestamp()),
            "jti": secrets.token_urlsafe(18),
            "sid": sid,
            "events": {BACKCHANNEL_EVENT: {}},
        }
        if sub:
            claims["sub"] = sub
        return self._sign(KeyPurpose.ID_TOKEN, alg, claims, "logout+jwt")

    # ------------------------------------------------------------ checking

    def _verify(
        self, token: str, *, purpose: KeyPurpose, allowed: Collection[str], typ: str
    ) -> dict[str, Any]:
        if not isinstance(token, str) or len(token) > MAX_TOKEN_SIZE:
            raise TokenError("token missing or too large")
        try:
            payload, payload_b64, sig = parse_compact(token, allowed=allowed)
        except JWSError as exc:
            raise TokenError(exc.message) from None
        if sig.header.get("typ") != typ:
            raise TokenError(f"wrong token type (expected {typ})")
        kid = sig.header.get("kid")
        if not isinstance(kid, str):
            raise TokenError("token without kid")
        try:
            key = self._keys.verification_key(kid, purpose)
        except TrustError:
            raise TokenError("unknown or retired signing key") from None
        if not sig.verify(payload_b64, key):
            raise TokenError("bad signature")
        try:
            claims = json.loads(payload)
        except ValueError:
            raise TokenError("payload is not JSON") from None
        if not isinstance(claims, dict):
            raise TokenError("payload is not a JSON object")
        return claims

    def _check_times(self, claims: Mapping[str, Any]) -> tuple[datetime, datetime]:
        now = self._clock()
        exp, iat = claims.get("exp"), claims.get("iat")
        if not isinstance(exp, int) or not isinstance(iat, int):
            raise TokenError("exp and iat are required")
        if now.timestamp() > exp + LEEWAY.total_seconds():
            raise TokenError("token expired", code="token_expired")
        if iat > now.timestamp() + 60:
            raise TokenError("token issued in the future")
        nbf = claims.get("nbf")
        if nbf is not None and (
            not isinstance(nbf, int) or nbf > now.timestamp() + LEEWAY.total_seconds()
        ):
            raise TokenError("token not yet valid")
        from datetime import UTC

        return datetime.fromtimestamp(exp, UTC), datetime.fromtimestamp(iat, UTC)

    def validate_access_token(
        self, token: str, *, required_scopes: Collection[str] = (), audience: str | None = None
    ) -> AccessTokenClaims:
        """For resource servers: signature, ``typ: at+jwt``, ``iss``, ``aud``, times, scopes.
        Revocation is checked by the caller when it needs to (see ``idp.revocation``)."""
        claims = self._verify(
            token, purpose=KeyPurpose.ACCESS_TOKEN, allowed=ACCESS_TOKEN_ALGS, typ="at+jwt"
        )
        if claims.get("iss") != self.issuer:
            raise TokenError("wrong issuer")
        aud = claims.get("aud")
        expected = audience or self.issuer
        if aud != expected and not (isinstance(aud, list) and expected in aud):
            raise TokenError("wrong audience")
        exp, iat = self._check_times(claims)
        scope = claims.get("scope", "")
        if not isinstance(scope, str):
            raise TokenError("scope must be a string")
        scopes = frozenset(scope.split())
        missing = set(required_scopes) - scopes
        if missing:
            raise TokenError(f"missing scope {sorted(missing)}", code="insufficient_scope")
        for name in ("sub", "client_id", "jti"):
            if not isinstance(claims.get(name), str):
                raise TokenError(f"{name} is required")
        return AccessTokenClaims(
            claims["sub"], claims["client_id"], scopes, claims["jti"], exp, iat, claims
        )

    def validate_id_token_hint(self, token: str, *, allow_expired: bool = True) -> dict[str, Any]:
        """An ``id_token_hint`` we issued (logout, prompt=none). Expired hints are fine
        (OIDC RP-Initiated Logout §2), other checks are not relaxed."""
        claims = self._verify(
            token, purpose=KeyPurpose.ID_TOKEN, allowed={"RS256", "ES256", "SM2"}, typ="JWT"
        )
        if claims.get("iss") != self.issuer:
            raise TokenError("wrong issuer")
        if not allow_expired:
            self._check_times(claims)
        return claims
