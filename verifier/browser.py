"""The counter page's offline snapshot: what the browser keeps (IndexedDB) to
verify e-license QR presentations on its own when the hub cannot be reached.

:func:`browser_snapshot` turns a *checked* :class:`~verifier.bundle.OfflineTrust`
(a synced bundle, or the hub's own bundle put through the same checks by
:func:`~verifier.bundle.check_bundle`) into plain JSON for
``verifier/static/offline.js``: the license issuers with their state, the types
they may issue and their license keys (affine point coordinates), every status
list's raw 2-bit array (zlib, base64), the license-type catalogue with each
field's label and check, and when the data stops being usable.

Why the browser does not re-verify the trust list's signatures: the snapshot
and the code that reads it come from the same origin. A party able to change
the snapshot could change ``offline.js`` as well, so signatures checked in the
browser against keys from that origin would add no protection; the checks
that matter are made where the pinned roots are — by the server before it
serves the snapshot (``docs/verifier.md``, "The browser snapshot").
"""

from __future__ import annotations

import base64
import zlib
from datetime import datetime
from typing import Any, Final

from license_wallet.credential import DEFAULT_LEEWAY, MAX_KB_AGE
from license_wallet.types import license_types
from trust.algorithms import KeyFamily
from trust.identifiers import citizen_id_provinces, divisions
from verifier.bundle import OfflineTrust

__all__ = ["SNAPSHOT_FORMAT", "browser_snapshot", "empty_snapshot"]

#: The ``format`` member; offline.js refuses any other.
SNAPSHOT_FORMAT: Final = "govtrust.counter-snapshot/1"

_CURVES: Final = {KeyFamily.P256: "P-256", KeyFamily.SM2: "SM2"}


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _hex(b64url: str) -> str:
    return base64.urlsafe_b64decode(b64url + "=" * (-len(b64url) % 4)).hex()


def _catalogue() -> dict[str, Any]:
    out: dict[str, Any] = {}
    for lt in license_types():
        out[lt.code] = {
            "name_zh": lt.name_zh,
            "name_en": lt.name_en,
            "digest_slots": lt.digest_slots,
            "holder_code_types": [str(t) for t in lt.holder_code_types],
            "fields": [
                {
                    "key": f.key,
                    "label": f.label,
                    "name_zh": f.name_zh,
                    "name_en": f.name_en,
                    "kind": str(f.kind),
                    "max_length": f.max_length,
                    "choices": list(f.choices),
                }
                for f in lt.fields
            ],
        }
    return out


def _base(now: datetime, source: str) -> dict[str, Any]:
    return {
        "format": SNAPSHOT_FORMAT,
        "source": source,
        "generated_at": now.isoformat(),
        "max_kb_age": MAX_KB_AGE,
        "leeway": DEFAULT_LEEWAY,
        "types": _catalogue(),
        # DIVISION fields: the province part must be known (license_wallet.types)
        "provinces": sorted({d.code[:2] for d in divisions() if d.code.endswith("0000")}),
        # citizen ID numbers: provinces plus the codes GB 11643 numbers also use
        "id_provinces": citizen_id_provinces(),
    }


def empty_snapshot(now: datetime, why: str) -> dict[str, Any]:
    """A snapshot that trusts nothing: every presentation is ``stale_trust_data``."""
    return {
        **_base(now, "none"),
        "stale": why,
        "usable_until": None,
        "issuers": [],
        "status_lists": {},
    }


def browser_snapshot(trust: OfflineTrust, now: datetime, *, source: str) -> dict[str, Any]:
    """The JSON snapshot of a checked bundle (``source``: ``bundle`` or ``hub``)."""
    issuers = []
    for info in trust.issuers():
        keys = []
        for kid, group in trust.license_keys(info.participant_id).items():
            for key in group:
                curve = _CURVES.get(key.family)
                if curve is None:
                    continue  # a license key is SM2 or P-256 (credential.py); others unusable
                jwk = key.jwk()
                keys.append(
                    {
                        "kid": _b64url(kid),
                        "crv": curve,
                        "x": _hex(jwk["x"]),
                        "y": _hex(jwk["y"]),
                    }
                )
        issuers.append(
            {
                "id": info.participant_id,
                "name_zh": info.name_zh,
                "name_en": info.name_en,
                "active": info.active,
                "license_types": sorted(info.license_types),
                "keys": keys,
            }
        )
    lists = {}
    for sl in trust.status_lists():
        lists[sl.uri] = {
            "issuer": sl.issuer_id,
            "bits": sl.statuses.bits,
            "size": sl.statuses.size,
            "lst": base64.b64encode(zlib.compress(sl.statuses.to_bytes(), 9)).decode(),
            "expires_at": sl.expires_at.isoformat(),
        }
    return {
        **_base(now, source),
        "synced_at": trust.synced_at.isoformat(),
        "hub": trust.hub,
        "trust_list_sequence": trust.trust_list.sequence,
        "log_size": trust.checkpoint.size,
        "stale": trust.stale(now),
        "usable_until": trust.usable_until().isoformat(),
        "issuers": issuers,
        "status_lists": lists,
    }
