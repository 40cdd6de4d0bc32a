"""Where a verifier on this machine gets its license trust data: the synced
offline bundle (``govtrust verifier sync``) when the cache folder holds one,
else the local hub's own database, else none — for ``govtrust verify`` and the
counter page alike."""

from __future__ import annotations

import base64
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from trust.crypto import PublicKey, public_key_from_jwk
from trust.errors import TrustError
from trust.pki import Certificate, load_certificate
from verifier.bundle import BUNDLE_FILE, BundleError, OfflineTrust, check_bundle, load_cache
from verifier.licenses import IssuerInfo

__all__ = ["HubLicenseTrust", "NoTrustData", "TrustSource", "license_trust", "CachedTrust"]

log = logging.getLogger(__name__)


class HubLicenseTrust:
    """The hub database as a :class:`verifier.licenses.LicenseTrust`: registry
    entries, published license keys and the hub's own status lists (always fresh)."""

    def __init__(self, hub: Any) -> None:
        self._hub = hub
        self._keys = hub.licenses.issuer_keys()

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        p = self._hub.registry.find(participant_id)
        if p is None or not p.has_role("license_issuer"):
            return None
        return IssuerInfo(
            p.id, p.name_zh, p.name_en, p.status.value == "active", frozenset(p.license_types)
        )

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> list[Any]:
        return list(self._keys(participant_id, kid))

    def status(self, uri: str, index: int) -> int | None:
        try:
            return int(self._hub.licenses.status_of(uri, index))
        except TrustError:
            return None

    def stale(self, now: datetime) -> str | None:
        return None

    def id_token_issuer(self) -> str | None:
        return str(self._hub.config.base_url)

    def id_token_keys(self, kid: str) -> list[PublicKey]:
        from keys import KeyPurpose

        out = []
        for jwk in self._hub.keys.jwks(KeyPurpose.ID_TOKEN)["keys"]:
            if jwk.get("kid") == kid:
                out.append(public_key_from_jwk(jwk))
        return out


class NoTrustData:
    """No usable trust data: every readable presentation is INDETERMINATE / stale_trust_data."""

    def __init__(self, why: str = "no trust data: run govtrust verifier sync") -> None:
        self._why = why

    def issuer(self, participant_id: str) -> IssuerInfo | None:
        return None

    def issuer_keys(self, participant_id: str, kid: bytes | None) -> list[Any]:
        return []

    def status(self, uri: str, index: int) -> int | None:
        return None

    def stale(self, now: datetime) -> str | None:
        return self._why

    def id_token_issuer(self) -> str | None:
        return None

    def id_token_keys(self, kid: str) -> list[PublicKey]:
        return []


@dataclass(frozen=True)
class TrustSource:
    """The trust data in use and where it came from: ``bundle``, ``hub`` or ``none``."""

    trust: Any  # a LicenseTrust that is also an IdTokenTrust
    source: str
    bundle: OfflineTrust | None = None

    def freshness(self, now: datetime) -> dict[str, Any]:
        if self.bundle is not None:
            return {"source": "bundle", **self.bundle.freshness(now)}
        return {"source": self.source, "stale": self.trust.stale(now)}

    def browser_snapshot(self, hub: Any | None, now: datetime) -> dict[str, Any]:
        """The counter page's offline snapshot (:mod:`verifier.browser`): from the
        synced bundle, else from the hub's own bundle checked under its roots
        exactly as a synced verifier would check it."""
        from verifier.browser import browser_snapshot, empty_snapshot

        if self.bundle is not None:
            return browser_snapshot(self.bundle, now, source="bundle")
        if self.source == "hub" and hub is not None:
            try:
                roots = [c.der for c in hub.pki.roots()]
                checked = check_bundle(hub.verifier_bundle(), roots=roots, now=now)
            except TrustError as exc:  # BundleError, or a hub without keys yet
                return empty_snapshot(now, f"no usable trust data from this hub: {exc.message}")
            return browser_snapshot(checked, now, source="hub")
        return empty_snapshot(now, str(self.trust.stale(now) or "no trust data"))

    def document_anchors(self, hub: Any | None) -> tuple[list[Certificate], list[Certificate]]:
        """Roots and issuing CAs for sealed documents: the bundle's trust list
        (its roots and the seal service's CAs), else the hub's PKI."""
        if self.bundle is not None:
            tl = self.bundle.trust_list
            ext = tl.extensions.get("govtrust.seal_service")
            cas = ext.get("issuing_cas", []) if isinstance(ext, dict) else []
            roots = [load_certificate(r) for r in tl.roots]
            inter = []
            for b64 in cas if isinstance(cas, list) else []:
                try:
                    inter.append(load_certificate(base64.b64decode(b64, validate=True)))
                except (TrustError, ValueError, TypeError):
                    continue
            return roots, inter
        if hub is not None:
            try:
                return list(hub.pki.roots()), list(hub.pki.cas())
            except Exception as exc:  # an uninitialised hub only means "no default roots"
                log.info("no hub roots (%s: %s)", type(exc).__name__, exc)
        return [], []


def license_trust(cache: Path, hub: Callable[[], Any | None], now: datetime) -> TrustSource:
    """The bundle in ``cache`` if there is one (an unusable one is *not* silently
    replaced by the hub's data: it gives ``stale_trust_data`` with the reason),
    else the hub ``hub()`` returns, else nothing."""
    if (cache / BUNDLE_FILE).exists():
        try:
            bundle = load_cache(cache, now=now)
            return TrustSource(bundle, "bundle", bundle)
        except BundleError as exc:
            why = f"the synced trust bundle in {cache} is unusable: {exc.message}"
            return TrustSource(NoTrustData(why), "none")
    found = hub()
    if found is None:
        return TrustSource(NoTrustData(), "none")
    try:
        return TrustSource(HubLicenseTrust(found), "hub")
    except Exception as exc:  # an uninitialised hub only means "no trust data"
        log.info("no hub trust data (%s: %s)", type(exc).__name__, exc)
        return TrustSource(NoTrustData(), "none")


class CachedTrust:
    """:func:`license_trust` for a long-running process (the counter page): the
    bundle is loaded once and again only when the file changes, or after
    ``recheck`` seconds (so that staleness and a new sync are noticed)."""

    def __init__(self, cache: Path, hub: Callable[[], Any | None], recheck: float = 30.0) -> None:
        self._cache, self._hub, self._recheck = cache, hub, recheck
        self._lock = threading.Lock()
        self._key: tuple[float, int] | None = None
        self._loaded_at = 0.0
        self._value: TrustSource | None = None

    def get(self, now: datetime) -> TrustSource:
        path = self._cache / BUNDLE_FILE
        try:
            st = path.stat()
            key: tuple[float, int] | None = (st.st_mtime, st.st_size)
        except OSError:
            key = None
        stamp = now.timestamp()
        with self._lock:
            if (
                self._value is None
                or key != self._key
                or key is None  # the hub's own data is read live anyway
                or stamp - self._loaded_at > self._recheck
            ):
                self._value = license_trust(self._cache, self._hub, now)
                self._key, self._loaded_at = key, stamp
            return self._value
