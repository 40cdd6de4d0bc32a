"""Back-channel logout delivery off the user's request.

Signing out must not wait for every relying party's server: one slow or
unreachable platform would hold the citizen's browser for seconds. The logout
request records one ``LogoutDelivery`` row per platform (in the same
transaction that ends the session) and kicks :class:`LogoutSender`, a daemon
thread per process that delivers them at once and, every ``poll`` seconds,
retries what is due (:meth:`idp.service.Idp.deliver_logouts`, which claims
rows so that several workers and the ``govtrust idp deliver-logouts`` cron
never send the same token twice at the same time).

The thread starts on first use, so processes that never log anyone out (the
CLI, most tests) never start it. :meth:`LogoutSender.drain` waits until every
kicked session has been attempted — for tests and for an orderly shutdown.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["LogoutSender"]

log = logging.getLogger(__name__)


class LogoutSender:
    """A background sender of back-channel logout tokens (one per process)."""

    def __init__(self, deliver: Callable[[str | None], Any], *, poll: float = 30.0) -> None:
        self._deliver = deliver
        self._poll = poll
        self._cond = threading.Condition()
        self._queue: list[str] = []
        self._busy = False
        self._thread: threading.Thread | None = None

    def kick(self, sid: str) -> None:
        """Deliver the pending logout tokens of ``sid`` as soon as possible."""
        with self._cond:
            self._queue.append(sid)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="govtrust-logout-sender", daemon=True
                )
                self._thread.start()
            self._cond.notify_all()

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait until every kicked session has been attempted; False on timeout."""
        with self._cond:
            return self._cond.wait_for(lambda: not self._queue and not self._busy, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if not self._queue:
                    self._cond.wait(self._poll)
                sids = list(dict.fromkeys(self._queue))
                self._queue.clear()
                self._busy = True
            try:
                for sid in sids:
                    self._attempt(sid)
                if not sids:
                    self._attempt(None)  # periodic: retries that have come due
            finally:
                with self._cond:
                    self._busy = False
                    self._cond.notify_all()

    def _attempt(self, sid: str | None) -> None:
        try:
            self._deliver(sid)
        except Exception:  # the thread must outlive any one failure; rows stay pending
            log.exception("back-channel logout delivery failed (sid=%s)", sid)
