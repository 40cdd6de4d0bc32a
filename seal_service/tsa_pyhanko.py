"""The hub's own time-stamping authority as a pyHanko ``TimeStamper``, in process.

PAdES B-T needs an RFC 3161 signature time-stamp; pyHanko asks a
:class:`~pyhanko.sign.timestamps.api.TimeStamper` for it. This one hands the
request to :class:`seal_service.tsa.TimeStampAuthority` directly — the same
authority that answers ``POST /tsa`` — instead of over HTTP to ourselves.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from asn1crypto import tsp
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.common_utils import TimestampRequestError

__all__ = ["InProcessTimeStamper"]


class InProcessTimeStamper(TimeStamper):  # type: ignore[misc]
    """A pyHanko time stamper backed by a :class:`~seal_service.tsa.TimeStampAuthority`
    (given lazily: the authority's key is loaded on first use)."""

    def __init__(self, authority: Callable[[], Any]) -> None:
        super().__init__()
        self._authority = authority

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        try:
            return tsp.TimeStampResp.load(self._authority().respond(req.dump()))
        except Exception as exc:
            # pyHanko's own failure type, which the sealing code reports as
            # ``tsa_unavailable`` (a key that cannot be loaded, an HSM gone).
            raise TimestampRequestError(
                f"the hub's time-stamping authority failed: {type(exc).__name__}"
            ) from exc
