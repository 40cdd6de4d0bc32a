"""``govtrust log checkpoint|verify``: the transparency log from the command line.

``verify`` is what a third party (a provincial platform, an auditor, a
journalist) runs to hold the hub to its history: keep a signed checkpoint,
later fetch the hub's newest checkpoint and a consistency proof between
the two, and check both with :class:`trust.tlog.LogClient`.

Exit status: 0 the log grew consistently (or did not change); 1 it did not —
``log_fork`` (another history), ``log_rollback`` (the log shrank) or
``log_invalid`` (bad signature, wrong origin, malformed answer); 2 the input
was unusable (missing or malformed saved checkpoint or key, hub unreachable).
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import tempfile
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Final

import click

from keys import HUB, KeyPurpose, KeyState
from trust import PublicKey, TrustError, load_public_key
from trust.tlog import (
    MAX_NOTE_SIZE,
    Checkpoint,
    LogClient,
    LogError,
    key_id,
    parse_checkpoint,
    parse_note,
    verify_note,
)

from ._common import EXIT_INVALID, EXIT_UNUSABLE, fail, get_hub, typed_errors

__all__ = ["group"]

_MAX_RESPONSE: Final = MAX_NOTE_SIZE + 1
_USER_AGENT: Final = "govtrust-log-verify/1"


class Unusable(Exception):
    """Input the command cannot work with (exit 2)."""

    def __init__(self, message: str, code: str = "unusable_input") -> None:
        super().__init__(message)
        self.code = code


@click.group("log")
def group() -> None:
    """Transparency log: signed checkpoints and third-party consistency checks."""


@group.command("checkpoint")
@click.pass_context
@typed_errors
def checkpoint_cmd(ctx: click.Context) -> None:
    """Print the latest signed checkpoint (a C2SP signed note), signing it if new."""
    click.echo(get_hub(ctx).log.checkpoint(), nl=False)


@group.command("verify")
@click.option(
    "--checkpoint",
    "saved_path",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="A signed checkpoint saved earlier (from /log/checkpoint or `log checkpoint`).",
)
@click.option("--hub", "hub_url", help="Base URL of the hub; default: the local database.")
@click.option(
    "--pubkey",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The log's public key (PEM). Default: the hub's log keys (not independent!).",
)
@click.option("--save", is_flag=True, help="After success, replace the saved checkpoint.")
@click.option("--timeout", default=30.0, show_default=True, help="HTTP timeout in seconds.")
@click.pass_context
def verify_cmd(
    ctx: click.Context,
    saved_path: Path,
    hub_url: str | None,
    pubkey: Path | None,
    save: bool,
    timeout: float,
) -> None:
    """Check that the hub's newest checkpoint extends a saved one (no fork, no rollback)."""
    try:
        source: _Source = _Http(hub_url, timeout) if hub_url else _Local(ctx)
        saved_note = _read(saved_path)
        old = _parse_saved(saved_note)
        keys = [load_public_key(_read_bytes(pubkey))] if pubkey else source.keys()
        if not keys:
            raise Unusable("no log key to verify with", "log_no_key")
        if not pubkey:
            click.echo(
                "govtrust: warning: using the hub's own published key; pass --pubkey "
                "to check against a key you obtained independently",
                err=True,
            )
        if _verifier_for(saved_note, old.origin, keys, strict=True) is None:
            raise Unusable(f"the saved checkpoint does not verify with the log key of {old.origin}")
        note = source.checkpoint()
        new = _peek(note)
        proof = source.consistency(old.size, new.size) if new.size > old.size else []
        key = _verifier_for(note, old.origin, keys, strict=False) or keys[0]
        client = LogClient(origin=old.origin, verifiers={old.origin: key})
        latest = client.update(old, note, proof)
    except Unusable as exc:
        fail(str(exc), exc.code, EXIT_UNUSABLE)
        return
    except LogError as exc:
        fail(exc.message, exc.code, EXIT_INVALID)
        return
    except TrustError as exc:  # a malformed key file, …
        fail(exc.message, exc.code, EXIT_UNUSABLE)
        return
    if save and latest.size != old.size:
        _write_atomically(saved_path, note)
    grew = "unchanged" if latest.size == old.size else f"grew {old.size} -> {latest.size}"
    click.echo(f"OK {latest.origin}: {grew}, consistent; root {latest.root_hash.hex()}")


# --------------------------------------------------------------------------- inputs


def _read_bytes(path: Path) -> bytes:
    try:
        with path.open("rb") as f:
            data = f.read(_MAX_RESPONSE)
    except OSError as exc:
        raise Unusable(f"{path}: {exc.strerror or exc}", "io_error") from None
    if len(data) >= _MAX_RESPONSE:
        raise Unusable(f"{path} is too large")
    return data


def _read(path: Path) -> str:
    try:
        return _read_bytes(path).decode("utf-8")
    except UnicodeDecodeError:
        raise Unusable(f"{path} is not UTF-8 text") from None


def _parse_saved(note: str) -> Checkpoint:
    try:
        return parse_checkpoint(parse_note(note).text)
    except LogError as exc:
        raise Unusable(f"the saved checkpoint is not a signed checkpoint: {exc.message}") from None


def _peek(note: str) -> Checkpoint:
    """The body of a checkpoint served by the hub, before its signature is checked
    (only to know which proof to ask for; LogClient verifies everything)."""
    return parse_checkpoint(parse_note(note).text)


def _verifier_for(
    note: str, origin: str, keys: Sequence[PublicKey], *, strict: bool
) -> PublicKey | None:
    """The key among ``keys`` that signed ``note`` (``strict``: and whose signature verifies)."""
    try:
        ids = {s.key_id for s in parse_note(note).signatures if s.name == origin}
    except LogError:
        return None
    for key in keys:
        try:
            if key_id(origin, key) not in ids:
                continue
            if strict:
                verify_note(note, {origin: key}, origin=origin)
        except LogError:
            continue
        return key
    return None


def _write_atomically(path: Path, text: str) -> None:
    try:
        fd, tmp = tempfile.mkstemp(prefix=".checkpoint-", dir=path.parent or Path("."))
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise click.ClickException(f"cannot save {path}: {exc}") from None


# --------------------------------------------------------------------------- sources


class _Source:
    def keys(self) -> list[PublicKey]:
        raise NotImplementedError

    def checkpoint(self) -> str:
        raise NotImplementedError

    def consistency(self, old: int, new: int) -> list[bytes]:
        raise NotImplementedError


class _Local(_Source):
    """The hub's own database (an operator checking a restored backup, tests)."""

    def __init__(self, ctx: click.Context) -> None:
        self._ctx = ctx

    def keys(self) -> list[PublicKey]:
        hub = get_hub(self._ctx)
        states = (KeyState.ACTIVE, KeyState.RETIRING)
        infos = hub.keys.list(purpose=KeyPurpose.LOG, owner=HUB, states=states)
        return [k.public_key for k in infos]

    def checkpoint(self) -> str:
        return get_hub(self._ctx).log.checkpoint()

    def consistency(self, old: int, new: int) -> list[bytes]:
        return get_hub(self._ctx).log.consistency_proof(old, new)


class _Http(_Source):
    """A hub over HTTP(S): /log/key, /log/checkpoint, /log/proof/consistency."""

    def __init__(self, base_url: str, timeout: float) -> None:
        parts = urllib.parse.urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise Unusable(f"--hub must be an http(s) URL, not {base_url!r}")
        self._base = base_url.rstrip("/")
        self._timeout = timeout

    def _get(self, path: str) -> bytes:
        req = urllib.request.Request(self._base + path, headers={"User-Agent": _USER_AGENT})
        try:
            with urllib.request.urlopen(req, timeout=self._timeout) as resp:  # noqa: S310
                body: bytes = resp.read(_MAX_RESPONSE)
        except urllib.error.HTTPError as exc:
            exc.close()  # an HTTPError holds the response (and its socket)
            raise Unusable(f"{self._base}{path}: HTTP {exc.code}", "hub_unavailable") from None
        except (urllib.error.URLError, OSError) as exc:
            raise Unusable(f"{self._base}{path}: {exc}", "hub_unavailable") from None
        if len(body) >= _MAX_RESPONSE:
            raise LogError(f"{path}: answer too large")
        return body

    def _json(self, path: str) -> Any:
        try:
            return json.loads(self._get(path))
        except (UnicodeDecodeError, ValueError):
            raise LogError(f"{path}: answer is not JSON") from None

    def keys(self) -> list[PublicKey]:
        body = self._json("/log/key")
        entries = body.get("keys") if isinstance(body, dict) else None
        if not isinstance(entries, list):
            raise LogError("/log/key: no key list")
        out = []
        for entry in entries:
            pem = entry.get("public_key_pem") if isinstance(entry, dict) else None
            if isinstance(pem, str):
                out.append(load_public_key(pem.encode("ascii", "replace")))
        return out

    def checkpoint(self) -> str:
        try:
            return self._get("/log/checkpoint").decode("utf-8")
        except UnicodeDecodeError:
            raise LogError("/log/checkpoint: not UTF-8") from None

    def consistency(self, old: int, new: int) -> list[bytes]:
        body = self._json(f"/log/proof/consistency?old={old}&new={new}")
        proof = body.get("proof") if isinstance(body, dict) else None
        if not isinstance(proof, list) or not all(isinstance(p, str) for p in proof):
            raise LogError("/log/proof/consistency: no proof list")
        try:
            return [base64.b64decode(p, validate=True) for p in proof]
        except (binascii.Error, ValueError):
            raise LogError("/log/proof/consistency: proof is not base64") from None
