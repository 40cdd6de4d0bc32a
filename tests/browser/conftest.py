"""Browser fixtures: a demo hub served on a free port, headless Debian Chromium via Playwright.

* ``live_server`` (session): ``govtrust init --demo`` on a fresh SQLite database in a temporary
  folder, then the app served by Werkzeug in a background thread. The configuration's
  ``base_url`` carries the real port, so the log origin and links match what the browser sees.
* ``browser`` (session): ``/usr/bin/chromium`` (never a downloaded browser), headless.
* ``page``: a fresh context per test (locale zh-CN). Requests to any other origin are recorded
  and aborted; the test fails at teardown if a page asked for a third-party resource, if the
  Content-Security-Policy refused something a page tried to load, or if a script threw.

Set ``GOVTRUST_SCREENSHOTS=1`` to save PNGs into ``tests/browser/screenshots/``.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from werkzeug.serving import make_server

from govtrust.app import create_app
from govtrust.cli import cli
from govtrust.config import Config
from govtrust.hub import Hub

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).parent / "screenshots"


def require(condition: bool, reason: str) -> None:
    """Skip with ``reason`` when ``condition`` is false; in CI (CI=true) fail instead."""
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"required in CI: {reason}")
    pytest.skip(reason)


@dataclass
class LiveServer:
    url: str
    config: Config
    hub: Hub
    init_summary: dict[str, Any]

    def __call__(self, path: str = "/") -> str:
        return self.url + path


@dataclass
class Requests:
    """Every URL the page asked for, and the ones that left the hub's origin."""

    origin: str
    seen: list[str] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    blocked: list[str] = field(default_factory=list)  # refused by the CSP, or script errors


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    # Bind first so the port is known before init: the base URL (and with it the log
    # origin signed into checkpoints) must be the address the browser really uses.
    holder: dict[str, Callable[..., Any]] = {}

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    url = f"http://127.0.0.1:{server.server_port}"
    data_dir = tmp_path_factory.mktemp("browser-hub") / "instance"
    config = Config(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'govtrust.db'}",
        master_key=secrets.token_hex(32),
        base_url=url,
        testing=True,
    )
    result = CliRunner().invoke(
        cli, ["init", "--demo"], obj={"config": config}, catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout)
    hub = Hub(config)
    holder["app"] = create_app(config, hub=hub)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield LiveServer(url=url, config=config, hub=hub, init_summary=summary)
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        hub.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    require(
        shutil.which("chromium") is not None and os.access(CHROMIUM, os.X_OK),
        f"'chromium' not found at {CHROMIUM} (Debian package chromium)",
    )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package is not installed")
        raise
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def requests_seen(live_server: LiveServer) -> Requests:
    return Requests(origin=live_server.url + "/")


@pytest.fixture
def page(browser: Any, live_server: LiveServer, requests_seen: Requests) -> Iterator[Any]:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    origin = requests_seen.origin

    def foreign(url: str) -> bool:
        return not url.startswith(origin)

    def refuse(route: Any) -> None:
        requests_seen.foreign.append(route.request.url)
        route.abort()

    context.route(foreign, refuse)  # nothing leaves the machine, and we notice if it tries
    page = context.new_page()
    page.on("request", lambda request: requests_seen.seen.append(request.url))

    def console(message: Any) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            requests_seen.blocked.append(message.text)

    page.on("console", console)
    page.on("pageerror", lambda error: requests_seen.blocked.append(f"script error: {error}"))
    try:
        yield page
    finally:
        context.close()
    assert requests_seen.foreign == [], f"third-party requests: {requests_seen.foreign}"
    assert requests_seen.blocked == [], f"refused by the CSP or failed: {requests_seen.blocked}"


@pytest.fixture
def screenshot() -> Callable[[Any, str], Path | None]:
    """``screenshot(page, "name")`` saves a full-page PNG when GOVTRUST_SCREENSHOTS is set."""

    def shoot(page: Any, name: str) -> Path | None:
        if not os.environ.get("GOVTRUST_SCREENSHOTS"):
            return None
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return shoot
