"""The offline verifier's trust bundle: what ``govtrust verifier sync`` stores and
what a counter verifies against with no network.

A bundle is one JSON object (``GET /verifier/bundle.json`` on the hub)::

    {
      "format": "govtrust.verifier-bundle/1",
      "hub": "https://hub.example",              # the hub's base URL (informative)
      "trust_list": "<the signed trust list: JWS JSON serialization, as text>",
      "status_lists": {"<uri>": "<base64url Status List Token (CWT)>", …},
      "checkpoint": "<the transparency log's signed checkpoint note>"
    }

The envelope itself is not signed and nothing in it is taken on trust: the
trust list is checked against the pinned hub roots with the
:class:`trust.trustlist.TrustListClient` rules (signatures, rollback,
equivocation, issued in the future, stale); each status list is a COSE_Sign1
by a ``status_list`` key that the trust list publishes for a license issuer
(``govtrust.license_wallet`` extension) and must name its own URI, be typed
``application/statuslist+cwt`` and be unexpired; the checkpoint must verify
under a log key the trust list publishes (``govtrust.log`` extension), must
not be smaller than the one stored before (rollback), and — when the caller
supplies a consistency proof — must extend it (fork).

:class:`OfflineTrust` is the stored bundle as a
:class:`verifier.licenses.LicenseTrust`. It never refuses to load because its
data has aged: :meth:`OfflineTrust.stale` says why, and every verdict then
comes out INDETERMINATE ``stale_trust_data`` — a counter clerk is told the
cache is too old rather than shown a verdict on old revocation data.

Files in the cache folder (written atomically; ``roots.pem`` is what the
operator pinned and is never replaced by the bundle):

``roots.pem``                   pinned hub root certificates
``trust-list-state.json``       the trust-list client's highest sequence and roots
``trust-list.jws.json``         the accepted trust list
``bundle.json``                 the accepted bundle
``sync-state.json``             when it was synced, from where, and the log checkpoint
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from license_wallet.status_list import StatusList
from trust.cose import (
    decode_cwt_claims,
    decode_sign1,
    verify_sign1,
)
from trust.crypto import PublicKey, public_key_from_jwk
from trust.errors import TrustError
from trust.files import atomic_write
from trust.pki import load_certificate
from trust.tlog import Checkpoint, check_growth, verify_note
from trust.trustlist import TrustList, TrustListClient, TrustListError, verify_trust_list
from verifier.licenses import IssuerInfo

__all__ = [
    "BUNDLE_FORMAT",
    "BundleError",
    "OfflineTrust",
    "VerifiedStatusList",
    "accept_bundle",
    "check_bundle",
    "load_cache",
    "load_roots",
    "verify_status_list_token",
]

BUNDLE_FORMAT: Final = "govtrust.verifier-bundle/1"
BUNDLE_MEDIA_TYPE: Final = "application/vnd.govtrust.verifier-bundle+json"
STATUS_LIST_MEDIA_TYPE: Final = "application/statuslist+cwt"
#: The largest bundle read (a national deployment: a few thousand lists of a few KB).
MAX_BUNDLE: Final = 32 * 1024 * 1024
MAX_STATUS_LISTS: Final = 10_000
MAX_STATUS_TOKEN: Final = 4 * 1024 * 1024
#: The largest inflated status list (32 MiB: 2^27 two-bit statuses).
MAX_STATUS_BYTES: Final = 32 * 1024 * 1024
LICENSE_EXT: Final = "govtrust.license_wallet"
LOG_EXT: Final = "govtrust.log"
IDP_EXT: Final = "govtrust.idp"
#: COSE algorithms a status list may be signed with: ES256, ES384, EdDSA, SM2.
STATUS_ALGS: Final = (-7, -35, -8, -65601)
#: A status list older than this is stale even before its ``exp``.
DEFAULT_MAX_STATUS_AGE: Final = timedelta(hours=24)

ROOTS_FILE: Final = "roots.pem"
BUNDLE_FILE: Final = "bundle.json"
SYNC_STATE_FILE: Final = "sync-state.json"

_URLSAFE_TO_STD: Final = str.maketrans("-_+/", "+/!!")  # '+' or '/' in input: invalid

# CWT claim keys (RFC 8392; draft-ietf-oauth-status-list §6).
_SUB, _EXP, _IAT, _TTL, _STATUS_LIST = 2, 4, 6, 65534, 65533


class BundleError(TrustError):
    """A bundle (or a part of it) that may not be used. ``code`` is one of:
    ``malformed``, ``too_large``, ``unsupported_format``, a
    :class:`TrustListError` code (``rollback``, ``equivocation``, ``stale``,
    ``untrusted_signer``, ``bad_signature``, ``not_yet_valid``, …),
    ``status_list_invalid``, ``status_list_expired``, ``checkpoint_invalid``,
    ``log_rollback``, ``log_fork``, ``no_cache`` or ``cache_corrupt``."""


@dataclass(frozen=True, slots=True)
class VerifiedStatusList:
    """One issuer-signed status list, checked."""

    uri: str
    issuer_id: str
    issued_at: datetime
    expires_at: datetime
    ttl: int
    statuses: StatusList = field(repr=False)


@dataclass(frozen=True, slots=True)
class _IssuerKeys:
    license: Mapping[bytes, list[PublicKey]]  # COSE kid → every key with that kid
    status_list: Mapping[bytes, list[PublicKey]]


def _b64url(text: object, what: str) -> bytes:
    if not isinstance(text, str) or len(text) > MAX_STATUS_TOKEN * 2:
        raise BundleError(f"{what} is not base64url text", code="malformed")
    try:
        std = text.translate(_URLSAFE_TO_STD) + "=" * (-len(text) % 4)
        return base64.b64decode(std, validate=True)
    except (binascii.Error, ValueError):
        raise BundleError(f"{what} is not base64url text", code="malformed") from None


def _time(value: float) -> datetime:
    return datetime.fromtimestamp(value, UTC)


def _issuer_keys(tl: TrustList) -> dict[str, _IssuerKeys]:
    """The license and status-list keys the trust list publishes for each listed
    license issuer (``govtrust.license_wallet`` extension). Entries for
    participants that are not listed license issuers are ignored."""
    ext = tl.extensions.get(LICENSE_EXT)
    issuers = ext.get("issuers") if isinstance(ext, Mapping) else None
    out: dict[str, _IssuerKeys] = {}
    for entry in issuers if isinstance(issuers, list) else []:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("id"), str):
            continue
        p = tl.participant(entry["id"])
        if p is None or "license_issuer" not in p.roles:
            continue
        by_purpose: dict[str, dict[bytes, list[PublicKey]]] = {"license": {}, "status_list": {}}
        for key in entry.get("keys") or []:
            if not isinstance(key, Mapping) or key.get("purpose") not in by_purpose:
                continue
            try:
                kid = _b64url(key.get("cose_kid"), "cose_kid")
                public = public_key_from_jwk(key.get("jwk") or {})
            except (TrustError, TypeError, ValueError):
                continue  # one unusable key does not hide the issuer's others
            by_purpose[str(key["purpose"])].setdefault(kid, []).append(public)
        out[p.id] = _IssuerKeys(by_purpose["license"], by_purpose["status_list"])
    return out


def _log_keys(tl: TrustList) -> tuple[str | None, list[PublicKey]]:
    ext = tl.extensions.get(LOG_EXT)
    if not isinstance(ext, Mapping) or not isinstance(ext.get("origin"), str):
        return None, []
    keys = []
    for key in ext.get("keys") or []:
        try:
            keys.append(public_key_from_jwk(key.get("jwk") or {}))
        except (TrustError, TypeError, ValueError, AttributeError):
            continue
    return str(ext["origin"]), keys


def verify_status_list_token(
    token: bytes,
    *,
    uri: str,
    keys: Mapping[str, Mapping[bytes, list[PublicKey]]],
    now: datetime,
    max_age: timedelta = DEFAULT_MAX_STATUS_AGE,
) -> VerifiedStatusList:
    """Check a Status List Token: signed by a ``status_list`` key in ``keys``
    (issuer id → COSE kid → key), typed ``application/statuslist+cwt``, ``sub``
    equal to ``uri``, issued in the past, unexpired and no older than
    ``max_age``. Raises :class:`BundleError` (``status_list_invalid`` or
    ``status_list_expired``)."""

    def bad(message: str, code: str = "status_list_invalid") -> BundleError:
        return BundleError(f"status list {uri}: {message}", code=code)

    if len(token) > MAX_STATUS_TOKEN:
        raise bad("too large")
    try:
        msg = decode_sign1(token)
    except TrustError as exc:
        raise bad(exc.message) from None
    if msg.protected.get(16) != STATUS_LIST_MEDIA_TYPE:
        raise bad(f"not typed {STATUS_LIST_MEDIA_TYPE}")
    kid = msg.protected.get(4, msg.unprotected.get(4))
    candidates = [
        (iss, key)
        for iss, by_kid in keys.items()
        if isinstance(kid, bytes)
        for key in by_kid.get(kid, [])
    ]
    if not candidates:
        raise bad("not signed by a status-list key in the trust list")
    issuer_id = None
    for iss, key in candidates:  # every key that shares the kid (SECURITY.md)
        try:
            verify_sign1(msg, key, allowed_algs=STATUS_ALGS)
            issuer_id = iss
            break
        except TrustError:
            continue
    if issuer_id is None:
        raise bad("the signature does not verify under the issuer's status-list keys")
    try:
        claims = decode_cwt_claims(msg.payload)
        raw = claims.extra.get(_STATUS_LIST)
        if not isinstance(raw, Mapping) or "bits" not in raw or "lst" not in raw:
            raise bad("no status_list claim")
        statuses = StatusList.decompress(raw["lst"], raw["bits"], max_size=MAX_STATUS_BYTES)
    except BundleError:
        raise
    except TrustError as exc:
        raise bad(exc.message) from None
    if claims.sub != uri:
        raise bad(f"names another list ({claims.sub!r})")
    if claims.iat is None or claims.exp is None:
        raise bad("iat and exp are required")
    iat, exp = _time(claims.iat), _time(claims.exp)
    if iat > now + timedelta(minutes=5):
        raise bad("issued in the future")
    if now >= exp or now - iat > max_age:
        raise bad(f"expired (issued {iat.isoformat()})", code="status_list_expired")
    ttl = claims.extra.get(_TTL)
    return VerifiedStatusList(
        uri=uri,
        issuer_id=issuer_id,
        issued_at=iat,
        expires_at=exp,
        ttl=ttl if isinstance(ttl, int) and not isinstance(ttl, bool) else 0,
        statuses=statuses,
    )


# ----------------------------------------------------------------------------- the bundle


@dataclass(frozen=True)
class _Parsed:
    trust_list_doc: bytes
    status_lists: dict[str, bytes]
    checkpoint: str
    hub: str


def _parse(data: bytes) -> _Parsed:
    if len(data) > MAX_BUNDLE:
        raise BundleError("bundle too large", code="too_large")
    try:
        doc = json.loads(data)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise BundleError("the bundle is not JSON", code="malformed") from None
    if not isinstance(doc, dict):
        raise BundleError("the bundle is not a JSON object", code="malformed")
    if doc.get("format") != BUNDLE_FORMAT:
        raise BundleError(
            f"bundle format {doc.get('format')!r}: this verifier reads {BUNDLE_FORMAT}",
            code="unsupported_format",
        )
    tl, lists, cp, hub = (
        doc.get("trust_list"),
        doc.get("status_lists"),
        doc.get("checkpoint"),
        doc.get("hub", ""),
    )
    if not isinstance(tl, str) or not isinstance(lists, dict) or not isinstance(cp, str):
        raise BundleError("trust_list, status_lists and checkpoint are required", code="malformed")
    if len(lists) > MAX_STATUS_LISTS:
        raise BundleError("too many status lists", code="too_large")
    tokens = {}
    for uri, token in lists.items():
        tokens[uri] = _b64url(token, f"status list {uri}")
    return _Parsed(tl.encode(), tokens, cp, hub if isinstance(hub, str) else "")


@dataclass(frozen=True)
class _Checked:
    trust_list: TrustList
    keys: dict[str, _IssuerKeys]
    status_lists: dict[str, VerifiedStatusList]
    checkpoint: Checkpoint
    expired_lists: tuple[str, ...] = ()


def _check_parts(
    parsed: _Parsed, tl: TrustList, *, now: datetime, max_status_age: timedelta, strict: bool
) -> _Checked:
    """Status lists and checkpoint of a bundle whose trust list is ``tl``. With
    ``strict`` (sync) an expired status list refuses the bundle; without (load)
    it is kept out and :meth:`OfflineTrust.stale` reports it."""
    keys = _issuer_keys(tl)
    status_keys = {iss: k.status_list for iss, k in keys.items()}
    lists: dict[str, VerifiedStatusList] = {}
    expired: list[str] = []
    for uri, token in parsed.status_lists.items():
        try:
            lists[uri] = verify_status_list_token(
                token, uri=uri, keys=status_keys, now=now, max_age=max_status_age
            )
        except BundleError as exc:
            if strict or exc.code != "status_list_expired":
                raise
            expired.append(uri)
    origin, log_keys = _log_keys(tl)
    if origin is None or not log_keys:
        raise BundleError("the trust list publishes no log key", code="checkpoint_invalid")
    checkpoint = None
    for key in log_keys:
        try:
            checkpoint = verify_note(parsed.checkpoint, {origin: key}, origin=origin)
            break
        except TrustError:
            continue
    if checkpoint is None:
        raise BundleError(
            "the checkpoint does not verify under the log keys in the trust list",
            code="checkpoint_invalid",
        )
    return _Checked(tl, keys, lists, checkpoint, tuple(expired))


def load_roots(pem: bytes) -> list[bytes]:
    """Certificate DER of every certificate in a PEM file (the pinned hub roots)."""
    out = []
    marker = b"-----BEGIN CERTIFICATE-----"
    for chunk in pem.split(marker)[1:]:
        try:
            out.append(load_certificate(marker + chunk).der)
        except TrustError as exc:
            raise BundleError(f"pinned roots: {exc.message}", code="no_trust_anchor") from None
    if not out:
        raise BundleError("no certificate in the pinned roots file", code="no_trust_anchor")
    return out


def _read_state(cache: Path) -> dict[str, Any] | None:
    path = cache / SYNC_STATE_FILE
    if not path.exists():
        return None
    try:
        state = json.loads(path.read_bytes())
        if not isinstance(state, dict) or not isinstance(state.get("checkpoint"), str):
            raise ValueError
        return state
    except (ValueError, UnicodeDecodeError):
        raise BundleError(f"{path} is corrupt", code="cache_corrupt") from None


def _stored_checkpoint(state: Mapping[str, Any]) -> Checkpoint:
    try:
        return Checkpoint(
            origin=str(state["log_origin"]),
            size=int(state["log_size"]),
            root_hash=base64.b64decode(str(state["log_root"]), validate=True),
        )
    except (KeyError, ValueError, TypeError, binascii.Error, TrustError):
        raise BundleError(
            "the stored sync state has no usable checkpoint", code="cache_corrupt"
        ) from None


def _check_log_growth(
    old: Checkpoint,
    new: Checkpoint,
    consistency: Callable[[int, int], Sequence[bytes]] | None,
) -> None:
    """The new checkpoint may not roll the log back or fork it; with a
    consistency proof source it must provably extend the stored one."""
    try:
        if new.size <= old.size or (consistency is not None and old.size > 0):
            proof = consistency(old.size, new.size) if new.size > old.size and consistency else ()
            check_growth(old, new, proof)
    except TrustError as exc:
        code = exc.code if exc.code in ("log_rollback", "log_fork") else "checkpoint_invalid"
        raise BundleError(f"transparency log: {exc.message}", code=code) from None


def accept_bundle(
    data: bytes,
    cache: Path,
    *,
    now: datetime,
    roots_pem: bytes | None = None,
    consistency: Callable[[int, int], Sequence[bytes]] | None = None,
    max_status_age: timedelta = DEFAULT_MAX_STATUS_AGE,
) -> OfflineTrust:
    """Verify a freshly fetched bundle and store it in ``cache``.

    ``roots_pem`` pins the hub roots on first use (afterwards the stored pin and
    the roots the trust list announces are used; a new pin replaces the stored
    one only when given). ``consistency(old, new)`` returns the log's
    consistency proof between the stored checkpoint and the new one; without it
    only the size is compared. Nothing is written unless every check passes.
    """
    cache = Path(cache)
    if roots_pem is not None:
        roots = load_roots(roots_pem)
    elif (cache / ROOTS_FILE).exists():
        roots = load_roots((cache / ROOTS_FILE).read_bytes())
    else:
        raise BundleError(
            "no pinned hub roots: give the hub's root certificates (out of band) once",
            code="no_trust_anchor",
        )
    parsed = _parse(data)
    try:
        client = TrustListClient(roots=roots, state_dir=cache)
        tl = client.check(parsed.trust_list_doc, now=now)
    except TrustListError as exc:
        raise BundleError(f"trust list: {exc.message}", code=exc.code) from None
    checked = _check_parts(parsed, tl, now=now, max_status_age=max_status_age, strict=True)
    previous = _read_state(cache)
    if previous is not None:
        _check_log_growth(_stored_checkpoint(previous), checked.checkpoint, consistency)
    cache.mkdir(parents=True, exist_ok=True)
    if roots_pem is not None:
        atomic_write(cache / ROOTS_FILE, roots_pem)
    client.accept(parsed.trust_list_doc, now=now)
    atomic_write(cache / BUNDLE_FILE, data)
    state = {
        "synced_at": now.isoformat(),
        "hub": parsed.hub,
        "trust_list_sequence": tl.sequence,
        "checkpoint": parsed.checkpoint,
        "log_origin": checked.checkpoint.origin,
        "log_size": checked.checkpoint.size,
        "log_root": base64.b64encode(checked.checkpoint.root_hash).decode(),
    }
    atomic_write(cache / SYNC_STATE_FILE, json.dumps(state, ensure_ascii=False).encode())
    return OfflineTrust(checked, synced_at=now, hub=parsed.hub)


def load_cache(
    cache: Path, *, now: datetime, max_status_age: timedelta = DEFAULT_MAX_STATUS_AGE
) -> OfflineTrust:
    """The stored bundle, every signature checked again (the cache folder is not
    trusted more than the network). Aged data still loads; see :meth:`OfflineTrust.stale`."""
    cache = Path(cache)
    if not (cache / BUNDLE_FILE).exists() or not (cache / ROOTS_FILE).exists():
        raise BundleError(f"no synced trust bundle in {cache}", code="no_cache")
    state = _read_state(cache) or {}
    roots = load_roots((cache / ROOTS_FILE).read_bytes())
    parsed = _parse((cache / BUNDLE_FILE).read_bytes())
    try:
        client = TrustListClient(roots=roots, state_dir=cache)
        tl = verify_trust_list(parsed.trust_list_doc, roots=client.roots, at=now)
    except TrustListError as exc:
        raise BundleError(f"stored trust list: {exc.message}", code=exc.code) from None
    if tl.sequence != client.sequence:
        raise BundleError("the stored bundle and trust-list state disagree", code="cache_corrupt")
    checked = _check_parts(parsed, tl, now=now, max_status_age=max_status_age, strict=False)
    try:
        synced_at = datetime.fromisoformat(str(state.get("synced_at")))
    except ValueError:
        raise BundleError("sync state without a time", code="cache_corrupt") from None
    return OfflineTrust(checked, synced_at=synced_at, hub=parsed.hub)


def check_bundle(
    data: bytes,
    *,
    roots: Sequence[bytes],
    now: datetime,
    max_status_age: timedelta = DEFAULT_MAX_STATUS_AGE,
) -> OfflineTrust:
    """Verify a bundle under ``roots`` (DER) without a cache: no rollback state,
    nothing written. For the hub itself, which builds the counter page's browser
    snapshot from its own bundle through the same checks as a synced verifier."""
    parsed = _parse(data)
    try:
        tl = verify_trust_list(parsed.trust_list_doc, roots=list(roots), at=now)
    except TrustListError as exc:
        raise BundleError(f"trust list: {exc.message}", code=exc.code) from None
    checked = _check_parts(parsed, tl, now=now, max_status_age=max_status_age, strict=True)
    return OfflineTrust(checked, synced_at=now, hub=parsed.hub)


# ----------------------------------------------------------------------------- the view


class OfflineTrust:
    """A checked bundle as :class:`verifier.licenses.LicenseTrust` (and more)."""

    def __init__(self, checked: _Checked, *, synced_at: datetime, hub: str) -> None:
        self._checked = checked
        self.trust_list: TrustList = checked.trust_list
        self.checkpoint: Checkpoint = checked.checkpoint
        self.synced_at = synced_at
        self.hub = hub
        self._expired = checked.expired_lists
        self._grace = timedelta(hours=24)

    # LicenseTrust -------------------------------------------------------------

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        p = self.trust_list.participant(participant_id) if isinstance(participant_id, str) else None
        if p is None or "license_issuer" not in p.roles:
            return None
        return IssuerInfo(p.id, p.name_zh, p.name_en, p.active, frozenset(p.license_types))

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> list[PublicKey]:
        keys = self._checked.keys.get(participant_id)
        if keys is None:
            return []
        if kid is None:
            return [k for group in keys.license.values() for k in group]
        return list(keys.license.get(kid, []))

    def status(self, uri: str, index: int) -> int | None:
        sl = self._checked.status_lists.get(uri)
        if sl is None:
            return None
        try:
            return sl.statuses.get(index)
        except (TrustError, ValueError, IndexError, TypeError):
            return None

    def status_signer(self, uri: str) -> str | None:
        """The issuer whose status-list key signed the list held for ``uri``."""
        sl = self._checked.status_lists.get(uri)
        return None if sl is None else sl.issuer_id

    def stale(self, now: datetime) -> str | None:
        tl = self.trust_list
        if now > tl.next_update + self._grace:
            return (
                f"trust list {tl.sequence} was due for renewal at {tl.next_update.isoformat()}: "
                "run govtrust verifier sync"
            )
        if self._expired:
            return f"status list {self._expired[0]} has expired: run govtrust verifier sync"
        for sl in self._checked.status_lists.values():
            if now >= sl.expires_at:
                return f"status list {sl.uri} expired at {sl.expires_at.isoformat()}"
        return None

    # IdTokenTrust -------------------------------------------------------------

    def id_token_issuer(self) -> str | None:
        ext = self.trust_list.extensions.get(IDP_EXT)
        issuer = ext.get("issuer") if isinstance(ext, Mapping) else None
        return issuer if isinstance(issuer, str) else None

    def id_token_keys(self, kid: str) -> list[PublicKey]:
        ext = self.trust_list.extensions.get(IDP_EXT)
        jwks = ext.get("jwks") if isinstance(ext, Mapping) else None
        out = []
        for jwk in jwks if isinstance(jwks, list) else []:
            if isinstance(jwk, Mapping) and jwk.get("kid") == kid:
                try:
                    out.append(public_key_from_jwk(jwk))
                except (TrustError, TypeError, ValueError):
                    continue
        return out

    # for people ---------------------------------------------------------------

    def freshness(self, now: datetime) -> dict[str, Any]:
        """What the counter page shows: how old the data is and until when it is usable."""
        usable_until = self.usable_until()
        return {
            "synced_at": self.synced_at.isoformat(),
            "age_seconds": max(0, int((now - self.synced_at).total_seconds())),
            "usable_until": usable_until.isoformat(),
            "stale": self.stale(now),
            "trust_list_sequence": self.trust_list.sequence,
            "status_lists": len(self._checked.status_lists),
            "log_size": self.checkpoint.size,
            "hub": self.hub,
        }

    def issuers(self) -> Iterable[IssuerInfo]:
        for pid in self._checked.keys:
            info = self.issuer(pid)
            if info is not None:
                yield info

    def license_keys(self, participant_id: str) -> Mapping[bytes, list[PublicKey]]:
        """The issuer's license keys by COSE kid (empty when it has none)."""
        keys = self._checked.keys.get(participant_id)
        return {} if keys is None else keys.license

    def status_lists(self) -> list[VerifiedStatusList]:
        """Every checked status list held (expired ones are left out)."""
        return list(self._checked.status_lists.values())

    def usable_until(self) -> datetime:
        """When this data becomes stale: the trust list's renewal plus grace, or the
        first status list's expiry, whichever comes first."""
        lists = self._checked.status_lists.values()
        return min([self.trust_list.next_update + self._grace, *(sl.expires_at for sl in lists)])
