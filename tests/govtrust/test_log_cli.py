"""``govtrust log checkpoint|verify``: a third party holding the hub to its history.

Exit codes: 0 consistent, 1 log_fork / log_rollback / log_invalid, 2 unusable input.
Forks are made the way a dishonest hub would make them: a second database that
shares a prefix with the first, then diverges, signed with the same key.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator

import pytest
from click.testing import CliRunner
from hub_helpers import serve
from sqlalchemy import delete, update

from govtrust.cli import cli
from govtrust.config import Config
from govtrust.hub import Hub
from govtrust.tlog_models import LogCheckpoint, LogHead, LogLeaf, LogNode
from trust import generate_private_key
from trust.tlog import parse_checkpoint, parse_note


def unlogged_keys(hub):
    """A key store on the same database that does not log, so tests start from an empty log."""
    from keys import KeyStore, SoftwareCustody

    return KeyStore(hub.db, software=SoftwareCustody(hub.master_key), clock=hub.clock)


@pytest.fixture
def log_key():
    return generate_private_key("ed25519")


@pytest.fixture
def hub_a(hub, log_key):
    unlogged_keys(hub).import_private_key(log_key, "log", "EdDSA")
    return hub


@pytest.fixture
def config_b(tmp_path) -> Config:
    return Config(
        data_dir=tmp_path / "b",
        database_url=f"sqlite:///{tmp_path / 'b.db'}",
        master_key=secrets.token_hex(32),
        testing=True,
    )


@pytest.fixture
def hub_b(config_b, log_key, clock) -> Iterator[Hub]:
    """Another hub with the same log key and origin: the other side of a fork."""
    h = Hub(config_b, clock=clock)
    h.migrate()
    unlogged_keys(h).import_private_key(log_key, "log", "EdDSA")
    yield h
    h.close()


@pytest.fixture
def pubkey(tmp_path, log_key):
    path = tmp_path / "log.pem"
    path.write_bytes(log_key.public_key().pem())
    return str(path)


def run(config: Config, *args: str):
    return CliRunner().invoke(cli, list(args), obj={"config": config}, catch_exceptions=False)


def add(hub: Hub, n: int, tag: str = "shared", start: int = 0) -> None:
    with hub.db.write() as s:
        hub.log.append_many(s, [("test.event", {"n": start + i, "tag": tag}) for i in range(n)])


def save(hub: Hub, path) -> str:
    note = hub.log.checkpoint()
    path.write_text(note, encoding="utf-8")
    return note


def size_of(note: str) -> int:
    return parse_checkpoint(parse_note(note).text).size


def test_checkpoint_prints_the_signed_note(hub_a, config) -> None:
    add(hub_a, 3)
    out = run(config, "log", "checkpoint")
    assert out.exit_code == 0
    assert out.stdout == hub_a.log.checkpoint()
    assert size_of(out.stdout) == 3


def test_verify_ok_from_the_local_database(hub_a, config, tmp_path, pubkey) -> None:
    saved = tmp_path / "saved.txt"
    add(hub_a, 5)
    first = save(hub_a, saved)
    add(hub_a, 7, start=5)
    out = run(config, "log", "verify", "--checkpoint", str(saved), "--pubkey", pubkey)
    assert out.exit_code == 0, out.output
    assert "OK 127.0.0.1:8000/govtrust/log: grew 5 -> 12, consistent" in out.stdout
    assert saved.read_text(encoding="utf-8") == first  # not saved without --save
    out = run(config, "log", "verify", "--checkpoint", str(saved), "--pubkey", pubkey, "--save")
    assert out.exit_code == 0
    assert size_of(saved.read_text(encoding="utf-8")) == 12
    out = run(config, "log", "verify", "--checkpoint", str(saved), "--pubkey", pubkey)
    assert out.exit_code == 0 and "unchanged" in out.stdout
    # Without --pubkey the hub's own keys are used, with a warning.
    out = run(config, "log", "verify", "--checkpoint", str(saved))
    assert out.exit_code == 0 and "warning" in out.stderr


def test_verify_ok_over_http(hub_a, config, tmp_path, pubkey) -> None:
    saved = tmp_path / "saved.txt"
    add(hub_a, 1)
    save(hub_a, saved)
    add(hub_a, 40, start=1)
    with serve(hub_a, config) as url:
        out = run(
            config,
            "log",
            "verify",
            "--checkpoint",
            str(saved),
            "--hub",
            url,
            "--pubkey",
            pubkey,
            "--save",
        )
        assert out.exit_code == 0, out.output
        assert "grew 1 -> 41" in out.stdout
        add(hub_a, 2, start=41)
        out = run(config, "log", "verify", "--checkpoint", str(saved), "--hub", url + "/")
        assert out.exit_code == 0, out.output
        assert "grew 41 -> 43" in out.stdout and "warning" in out.stderr


@pytest.mark.parametrize("saved_size", [16, 12, 10])
def test_fork_is_detected(hub_a, hub_b, config, config_b, tmp_path, pubkey, saved_size) -> None:
    add(hub_a, 10)
    add(hub_b, 10)
    assert hub_a.log.head() == hub_b.log.head()  # the shared prefix
    saved = tmp_path / "saved.txt"
    add(hub_a, saved_size - 10, tag="a", start=10)
    save(hub_a, saved)
    add(hub_a, 16 - saved_size, tag="a", start=saved_size)
    add(hub_b, 6, tag="b", start=10)
    assert hub_b.log.head().size == 16
    out = run(config_b, "log", "verify", "--checkpoint", str(saved), "--pubkey", pubkey)
    if saved_size == 10:
        # Both histories honestly extend the shared prefix: a fork needs both sides seen.
        assert out.exit_code == 0, out.output
        return
    assert out.exit_code == 1, out.output
    assert "log_fork" in out.stderr
    with serve(hub_b, config_b) as url:
        out = run(
            config,
            "log",
            "verify",
            "--checkpoint",
            str(saved),
            "--hub",
            url,
            "--pubkey",
            pubkey,
            "--save",
        )
    assert out.exit_code == 1 and "log_fork" in out.stderr
    assert size_of(saved.read_text(encoding="utf-8")) == saved_size  # not overwritten


def truncate(hub: Hub, size: int, *, drop_checkpoints: bool) -> None:
    """What restoring an old backup, or a hub hiding entries, does to the tables."""
    root = hub.log.root(size)
    with hub.db.write() as s:
        s.execute(delete(LogLeaf).where(LogLeaf.idx >= size))
        s.execute(delete(LogNode).where(((LogNode.idx + 1) * (2**LogNode.level)) > size))
        if drop_checkpoints:
            s.execute(delete(LogCheckpoint).where(LogCheckpoint.size > size))
        s.execute(update(LogHead).values(size=size, root=root))


@pytest.mark.parametrize("drop_checkpoints", [True, False])
def test_rollback_is_detected(hub_a, config, tmp_path, pubkey, drop_checkpoints) -> None:
    saved = tmp_path / "saved.txt"
    add(hub_a, 20)
    save(hub_a, saved)
    truncate(hub_a, 12, drop_checkpoints=drop_checkpoints)
    assert hub_a.log.head().size == 12
    out = run(config, "log", "verify", "--checkpoint", str(saved), "--pubkey", pubkey)
    assert out.exit_code == 1, out.output
    assert "log_rollback" in out.stderr


def test_rollback_is_detected_over_http(hub_a, config, tmp_path, pubkey) -> None:
    saved = tmp_path / "saved.txt"
    add(hub_a, 20)
    save(hub_a, saved)
    truncate(hub_a, 12, drop_checkpoints=True)
    with serve(hub_a, config) as url:
        out = run(
            config, "log", "verify", "--checkpoint", str(saved), "--hub", url, "--pubkey", pubkey
        )
    assert out.exit_code == 1 and "log_rollback" in out.stderr


def test_a_checkpoint_from_another_key_is_invalid(
    hub, config, config_b, tmp_path, pubkey, log_key, clock
) -> None:
    # The local hub signs with a key of its own; the auditor pinned log_key.
    unlogged_keys(hub).generate("log", "EdDSA")
    add(hub, 3)
    other = Hub(config_b, clock=clock)
    other.migrate()
    unlogged_keys(other).import_private_key(log_key, "log", "EdDSA")
    add(other, 2)
    saved = tmp_path / "saved.txt"
    save(other, saved)
    other.close()
    out = run(config, "log", "verify", "--checkpoint", str(saved), "--pubkey", pubkey)
    assert out.exit_code == 1, out.output
    assert "log_invalid" in out.stderr


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unusable_input_exits_2(hub_a, config, tmp_path, pubkey) -> None:
    add(hub_a, 3)
    saved = tmp_path / "saved.txt"
    save(hub_a, saved)
    junk = tmp_path / "junk.txt"
    junk.write_text("not a checkpoint\n")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(b"\xff\xfe")
    badkey = tmp_path / "bad.pem"
    badkey.write_text("-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n")
    otherkey = tmp_path / "other.pem"
    otherkey.write_bytes(generate_private_key("ed25519").public_key().pem())
    cases = [
        ["--checkpoint", str(tmp_path / "missing.txt"), "--pubkey", pubkey],
        ["--checkpoint", str(junk), "--pubkey", pubkey],
        ["--checkpoint", str(binary), "--pubkey", pubkey],
        ["--checkpoint", str(saved), "--pubkey", str(badkey)],
        ["--checkpoint", str(saved), "--pubkey", str(tmp_path / "missing.pem")],
        ["--checkpoint", str(saved), "--pubkey", str(otherkey)],  # saved note not by this key
        ["--checkpoint", str(saved), "--pubkey", pubkey, "--hub", "ftp://example.org"],
        [
            "--checkpoint",
            str(saved),
            "--pubkey",
            pubkey,
            "--hub",
            f"http://127.0.0.1:{_closed_port()}",
            "--timeout",
            "5",
        ],
    ]
    for args in cases:
        out = run(config, "log", "verify", *args)
        assert out.exit_code == 2, (args, out.output)
        assert out.stderr.startswith("govtrust: ")


def test_http_hub_that_is_not_a_log(hub_a, config, tmp_path, pubkey) -> None:
    add(hub_a, 3)
    saved = tmp_path / "saved.txt"
    save(hub_a, saved)
    with serve(hub_a, config) as url:
        # A URL whose /log/… paths answer 404: unusable, not a verdict on the log.
        out = run(
            config,
            "log",
            "verify",
            "--checkpoint",
            str(saved),
            "--pubkey",
            pubkey,
            "--hub",
            url + "/nothing",
        )
    assert out.exit_code == 2 and "hub_unavailable" in out.stderr
