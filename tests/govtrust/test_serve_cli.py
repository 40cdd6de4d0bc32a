"""``govtrust serve`` runs granian (or gunicorn on request) with a thread pool per worker
(the demo portals call the hub over HTTP on the same server) and warns when the base URL
names another local port."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from govtrust.cli import cli
from govtrust.config import Config


@pytest.fixture
def execv(monkeypatch):
    calls: list[list[str]] = []
    monkeypatch.setattr(os, "execv", lambda path, args: calls.append(list(args)))
    return calls


def serve(config: Config, *args: str):
    return CliRunner().invoke(cli, ["serve", *args], obj={"config": config})


def test_serve_runs_granian_with_a_thread_pool_by_default(tmp_path, execv):
    config = Config(data_dir=tmp_path, base_url="http://127.0.0.1:8000")
    result = serve(config, "--workers", "3")
    assert result.exit_code == 0, result.output
    (args,) = execv
    assert args[1:3] == ["-m", "granian"]
    assert args[args.index("--interface") + 1] == "wsgi"
    assert args[args.index("--workers") + 1] == "3"
    assert int(args[args.index("--blocking-threads") + 1]) >= 2
    assert (args[args.index("--host") + 1], args[args.index("--port") + 1]) == ("127.0.0.1", "8000")
    assert args[-1] == "govtrust.wsgi:app"
    assert result.stderr == ""


def test_serve_runs_gunicorn_with_threads_on_request(tmp_path, execv):
    config = Config(data_dir=tmp_path, base_url="http://127.0.0.1:8000")
    result = serve(config, "--server", "gunicorn")
    assert result.exit_code == 0, result.output
    (args,) = execv
    assert args[args.index("--worker-class") + 1] == "gthread"
    assert int(args[args.index("--threads") + 1]) >= 2
    assert args[args.index("--bind") + 1] == "127.0.0.1:8000"
    assert result.stderr == ""


def test_serve_warns_when_the_base_url_is_another_local_port(tmp_path, execv):
    config = Config(data_dir=tmp_path, base_url="http://127.0.0.1:8000")
    result = serve(config, "--port", "8765", "--threads", "4")
    assert result.exit_code == 0
    assert "GOVTRUST_BASE_URL is http://127.0.0.1:8000" in result.stderr
    assert execv[0][execv[0].index("--blocking-threads") + 1] == "4"


def test_serve_refuses_a_single_thread(tmp_path, execv):
    result = serve(Config(data_dir=tmp_path), "--threads", "1")
    assert result.exit_code == 2 and execv == []


@pytest.mark.parametrize("server", ["granian", "gunicorn"])
def test_access_logs_leave_out_query_strings(tmp_path, execv, server):
    """Codes, id_token_hint and state travel in query strings: the access log line
    names the path only (and no Referer, which carries them too)."""
    result = serve(Config(data_dir=tmp_path), "--server", server)
    assert result.exit_code == 0, result.output
    (args,) = execv
    option = "--access-log-fmt" if server == "granian" else "--access-logformat"
    fmt = args[args.index(option) + 1]
    assert ("%(path)s" if server == "granian" else "%(U)s") in fmt
    for leaky in ("%(query_string)s", "%(r)s", "%(q)s", "%(f)s", "%(referer)s", "%(uri)s"):
        assert leaky not in fmt
