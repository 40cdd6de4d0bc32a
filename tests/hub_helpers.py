"""Helpers several test folders share: a demo hub world and a hub served over HTTP."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from werkzeug.serving import make_server

from govtrust.app import create_app
from govtrust.config import Config
from govtrust.demo import seed_demo
from govtrust.hub import Hub
from trust.identifiers import seed_participants


def demo_world(hub: Any) -> Any:
    """``hub`` with its keys, the demo participants and the demo accounts and grants."""
    hub.ensure_hub_keys()
    hub.registry.seed(seed_participants())
    seed_demo(hub)
    return hub


@contextmanager
def serve(hub: Hub, config: Config) -> Iterator[str]:
    """The hub's app on a free local port for the duration of the block; yields its URL."""
    server = make_server("127.0.0.1", 0, create_app(config, hub=hub), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def poll(page: Any, check: Any, what: str, timeout: float = 15.0) -> Any:
    """Wait for ``check()`` to be truthy, polling from Python: the pages' CSP has no
    'unsafe-eval', so Playwright's wait_for_function cannot run there."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        page.wait_for_timeout(100)
    pytest.fail(f"timed out waiting for {what}")
