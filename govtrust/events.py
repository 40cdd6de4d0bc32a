"""The seam between services and the transparency log.

A service records a trust-relevant event *in the same database transaction*
as the change it describes, so that nothing acknowledged is missing from the
log and nothing logged was rolled back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from sqlalchemy.orm import Session

__all__ = ["EventLog", "NullEventLog"]


class EventLog(Protocol):
    def append(self, session: Session, kind: str, data: Mapping[str, Any]) -> int:
        """Append one event inside ``session``'s transaction; returns its log index."""
        ...


class NullEventLog:
    """Records nothing (unit tests of services that do not care about the log)."""

    def append(self, session: Session, kind: str, data: Mapping[str, Any]) -> int:
        return -1
