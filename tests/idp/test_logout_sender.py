"""Back-channel logout is sent off the user's request, retried, and never sent twice
at once by concurrent senders (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from typing import Any

import pytest
from werkzeug.serving import WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from idp.logout_sender import LogoutSender


class _Quiet(WSGIRequestHandler):
    def log(self, *args: Any) -> None:
        pass


class Receiver:
    """A relying party's back-channel endpoint that holds each request until released."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.arrived = threading.Event()
        self.tokens: list[str] = []
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        self.arrived.set()
        self.release.wait(10)
        with self._lock:
            self.tokens.append(request.form.get("logout_token", ""))
        return Response(status=200)(environ, start_response)


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    rp = Receiver()
    server = make_server("127.0.0.1", 0, rp, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield rp, f"http://127.0.0.1:{server.server_port}/bcl"
    finally:
        rp.release.set()
        server.shutdown()
        thread.join(5)
        server.server_close()


def _session_at(hub: Any, bcl_uri: str) -> str:
    hub.ensure_hub_keys()
    idp = hub.idp
    idp.clients.add(
        client_id="rp-slow",
        name="A slow platform",
        redirect_uris=["https://rp.example/cb"],
        backchannel_logout_uri=bcl_uri,
        secret="s" * 40,
        scopes=["openid", "profile"],
    )
    account = idp.accounts.create_citizen(
        username="lisi", password="Li-Si-Password-2026", name="李四", id_number="11010519491231002X"
    )
    view, _cookie = idp.sessions.create(account.id, acr="loa1", amr=["pwd"])
    idp.sessions.record_client(view.sid, "rp-slow")
    return str(view.sid)


def test_logout_returns_before_the_relying_party_answers(hub: Any, receiver: Any) -> None:
    rp, uri = receiver
    sid = _session_at(hub, uri)
    (delivery,) = hub.idp.logout_session(sid)  # returns although the RP holds the request
    assert rp.arrived.wait(10)  # the background sender is talking to it right now
    (row,) = hub.idp.deliveries(sid)
    assert row.status == "pending" and row.attempts == 0
    rp.release.set()
    assert hub.idp.logout_sender.drain(10)
    (row,) = hub.idp.deliveries(sid)
    assert row.status == "delivered" and row.attempts == 1
    assert rp.tokens == [delivery.logout_token]


def test_concurrent_senders_never_send_one_token_twice(hub: Any, receiver: Any) -> None:
    rp, uri = receiver
    sid = _session_at(hub, uri)
    idp = hub.idp
    idp.logout_sender = LogoutSender(lambda _sid: None)  # no background sender in this test
    idp.logout_session(sid)
    results: dict[str, Any] = {}
    first = threading.Thread(target=lambda: results.update(a=idp.deliver_logouts(sid=sid)))
    first.start()
    assert rp.arrived.wait(10)  # the first sender has claimed the row and is sending
    assert idp.deliver_logouts(sid=sid) == {"delivered": 0, "retry": 0, "failed": 0}
    assert idp.deliver_logouts() == {"delivered": 0, "retry": 0, "failed": 0}
    rp.release.set()
    first.join(10)
    assert results["a"] == {"delivered": 1, "retry": 0, "failed": 0}
    assert len(rp.tokens) == 1


def test_an_unreachable_platform_is_retried_later(hub: Any, clock: Any) -> None:
    sid = _session_at(hub, "http://127.0.0.1:9/bcl")  # discard port: connection refused
    hub.idp.logout_session(sid)
    assert hub.idp.logout_sender.drain(10)
    (row,) = hub.idp.deliveries(sid)
    assert row.status == "pending" and row.attempts == 1 and row.last_error
    assert hub.idp.deliver_logouts() == {"delivered": 0, "retry": 0, "failed": 0}  # not due
    clock.advance(minutes=5)
    assert hub.idp.deliver_logouts()["retry"] == 1
    (row,) = hub.idp.deliveries(sid)
    assert row.attempts == 2


def test_the_sender_thread_survives_a_failing_delivery() -> None:
    calls: list[str | None] = []

    def deliver(sid: str | None) -> None:
        calls.append(sid)
        if sid == "boom":
            raise RuntimeError("database went away")

    sender = LogoutSender(deliver, poll=60)
    sender.kick("boom")
    assert sender.drain(5)
    sender.kick("fine")
    assert sender.drain(5)
    assert calls == ["boom", "fine"]
