"""Verdicts on the hub's OpenID Connect ID tokens, offline.

A regional platform's clerk may be shown an ID token (a citizen's login
assertion) to check who logged in and how. :func:`verify_id_token` checks it
against the hub's ID-token keys and issuer from an :class:`IdTokenTrust` (the
synced trust list's ``govtrust.idp`` extension, or the hub's own key store) —
OpenID Connect Core §3.1.3.7 minus what only the relying party knows (its
nonce, its client id: pass them to have them checked too):

=========================  ==============  =========================================================
reason                     verdict         meaning
=========================  ==============  =========================================================
``malformed``              INDETERMINATE   not a compact JWS with a JSON object as payload
``wrong_token_type``       INVALID         an access token (``typ: at+jwt``), a logout token
                                           (``events``), or another ``typ``
``bad_signature``          INVALID         the signature does not verify, or an algorithm other than
                                           RS256, ES256 or SM2
``untrusted_issuer``       INVALID         another ``iss``, or a ``kid`` the hub does not publish
``expired``                INVALID         ``exp`` passed (15 s leeway)
``not_yet_valid``          INVALID         ``iat``/``nbf`` in the future (15 s leeway)
``audience_mismatch``      INVALID         the expected client id is not in ``aud``
``nonce_mismatch``         INVALID         not the expected nonce
``stale_trust_data``       INDETERMINATE   the trust data is too old
=========================  ==============  =========================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Final, Protocol

from trust.crypto import PublicKey
from trust.errors import TrustError
from trust.jws import JWSError, parse_compact, strict_json_loads
from verifier.licenses import INDETERMINATE, INVALID, VALID

__all__ = ["IdTokenTrust", "IdTokenVerdict", "looks_like_jwt", "verify_id_token"]

ALLOWED_ALGS: Final = frozenset({"RS256", "ES256", "SM2"})
LEEWAY: Final = 15
MAX_TOKEN: Final = 16 * 1024
#: Claims a verdict shows (the rest stay in the token).
SHOWN_CLAIMS: Final = (
    "iss",
    "sub",
    "aud",
    "name",
    "acr",
    "amr",
    "auth_time",
    "iat",
    "exp",
    "sid",
    "enterprise_name",
    "uscc",
)
_JWT: Final = re.compile(r"[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class IdTokenTrust(Protocol):
    """The hub's ID-token issuer and keys as a verifier knows them."""

    def id_token_issuer(self) -> str | None:
        """The hub's issuer identifier (``iss``), None when unknown."""

    def id_token_keys(self, kid: str) -> Iterable[PublicKey]:
        """The published ID-token keys with this ``kid``."""

    def stale(self, now: datetime) -> str | None:
        """Why the trust data may not be used at ``now``, else None."""


@dataclass(frozen=True, slots=True)
class IdTokenVerdict:
    verdict: str
    reasons: tuple[str, ...]
    detail: str = ""
    claims: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "reasons": list(self.reasons),
            "detail": self.detail,
            "kind": "id_token",
            "claims": dict(self.claims),
        }


def looks_like_jwt(text: object) -> bool:
    """Three base64url parts with dots: what an ID token looks like (not a ``GT1:`` QR)."""
    return isinstance(text, str) and len(text) <= MAX_TOKEN and bool(_JWT.fullmatch(text.strip()))


def _bad(reason: str, detail: str, claims: Mapping[str, Any] | None = None) -> IdTokenVerdict:
    verdict = INDETERMINATE if reason in ("malformed", "stale_trust_data") else INVALID
    return IdTokenVerdict(verdict, (reason,), detail, dict(claims or {}))


def _int(claims: Mapping[str, Any], name: str) -> int | None:
    value = claims.get(name)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def verify_id_token(
    token: str,
    trust: IdTokenTrust,
    *,
    now: datetime | None = None,
    audience: str | None = None,
    nonce: str | None = None,
) -> IdTokenVerdict:
    """The verdict on an ID token; never raises for bad input."""
    now = now or datetime.now(UTC)
    if not isinstance(token, str) or len(token) > MAX_TOKEN:
        return _bad("malformed", "not a token of a sensible size")
    token = token.strip()
    try:
        payload, payload_b64, sig = parse_compact(token, allowed=ALLOWED_ALGS)
    except JWSError as exc:
        reason = "bad_signature" if exc.code == "alg_not_allowed" else "malformed"
        return _bad(reason, exc.message)
    try:
        claims = strict_json_loads(payload)
    except (TrustError, ValueError):
        return _bad("malformed", "the payload is not JSON")
    if not isinstance(claims, dict):
        return _bad("malformed", "the payload is not a JSON object")
    shown = {k: claims[k] for k in SHOWN_CLAIMS if k in claims}
    typ = sig.header.get("typ")
    if typ not in (None, "JWT") or "events" in claims:
        what = "a logout token" if "events" in claims else f"typ {typ!r}"
        return _bad("wrong_token_type", f"{what}, not an ID token", shown)
    why_stale = trust.stale(now)
    if why_stale is not None:
        return _bad("stale_trust_data", why_stale, shown)
    issuer = trust.id_token_issuer()
    if issuer is None or claims.get("iss") != issuer:
        return _bad("untrusted_issuer", f"issuer {claims.get('iss')!r} is not the hub", shown)
    kid = sig.header.get("kid")
    keys = list(trust.id_token_keys(kid)) if isinstance(kid, str) else []
    if not keys:
        return _bad("untrusted_issuer", f"the hub publishes no ID-token key {kid!r}", shown)
    if not any(sig.verify(payload_b64, key) for key in keys):
        return _bad("bad_signature", "the hub's signature does not verify", shown)
    t = now.timestamp()
    exp, iat, nbf = _int(claims, "exp"), _int(claims, "iat"), claims.get("nbf")
    if exp is None or iat is None or not isinstance(claims.get("sub"), str):
        return _bad("malformed", "sub, iat and exp are required", shown)
    if t > exp + LEEWAY:
        return _bad("expired", "the ID token has expired", shown)
    if iat > t + LEEWAY or (nbf is not None and (_int(claims, "nbf") or 0) > t + LEEWAY):
        return _bad("not_yet_valid", "the ID token is dated in the future", shown)
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if audience is not None and audience not in audiences:
        return _bad("audience_mismatch", f"not issued to {audience}", shown)
    if nonce is not None and claims.get("nonce") != nonce:
        return _bad("nonce_mismatch", "not the expected nonce", shown)
    return IdTokenVerdict(VALID, (), "", shown)
