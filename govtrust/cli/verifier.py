"""``govtrust verifier sync|status``: the offline verifier's trust bundle.

``sync`` fetches the hub's bundle (``GET /verifier/bundle.json``, or the local
hub database when no ``--hub`` is given), checks every part against the pinned
hub roots (see :mod:`verifier.bundle`) and stores it in the cache folder
(``--cache``, else ``GOVTRUST_VERIFIER_CACHE``, else ``<data dir>/verifier-cache``).
The first sync over HTTP needs ``--roots`` (the hub root certificates obtained
out of band: install media, the operator's bulletin). ``govtrust verify`` then
judges license QRs from the cache with no network.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import click

from govtrust.config import Config
from verifier.bundle import MAX_BUNDLE, ROOTS_FILE, BundleError, accept_bundle, load_cache

from ._common import EXIT_OK, EXIT_UNUSABLE, echo_json, get_hub, typed_errors

__all__ = ["group", "cache_dir"]

_USER_AGENT: Final = "govtrust-verifier-sync/1"


def cache_dir(ctx: click.Context, option: Path | None = None) -> Path:
    """The cache folder: ``--cache``, else the configuration's."""
    if option is not None:
        return option
    config: Config = ctx.ensure_object(dict).get("config") or Config.from_env()
    assert config.verifier_cache is not None  # Config fills the default in
    return config.verifier_cache


def _get(url: str, timeout: float, limit: int) -> bytes:
    req = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # noqa: S310 (http(s) only)
            body: bytes = resp.read(limit + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        raise BundleError(f"{url}: HTTP {exc.code}", code="hub_unavailable") from None
    except (urllib.error.URLError, OSError) as exc:
        raise BundleError(f"{url}: {exc}", code="hub_unavailable") from None
    if len(body) > limit:
        raise BundleError(f"{url}: answer too large", code="too_large")
    return body


def _http_consistency(base: str, timeout: float) -> Any:
    def proof(old: int, new: int) -> Sequence[bytes]:
        import base64

        body = _get(f"{base}/log/proof/consistency?old={old}&new={new}", timeout, 1 << 20)
        try:
            doc = json.loads(body)
            return [base64.b64decode(p, validate=True) for p in doc["proof"]]
        except (ValueError, KeyError, TypeError):
            raise BundleError("consistency proof: not a proof", code="checkpoint_invalid") from None

    return proof


@click.group("verifier")
def group() -> None:
    """Offline verifier: sync the trust bundle, show how fresh it is."""


@group.command("sync")
@click.option("--hub", "hub_url", help="Base URL of the hub; default: the local hub database.")
@click.option(
    "--roots",
    "roots_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="Pin these hub root certificates (PEM), obtained out of band. Needed once.",
)
@click.option(
    "--cache",
    "cache_opt",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache folder (default: GOVTRUST_VERIFIER_CACHE or <data dir>/verifier-cache).",
)
@click.option("--timeout", default=30.0, show_default=True, help="HTTP timeout in seconds.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
@typed_errors
def sync_cmd(
    ctx: click.Context,
    hub_url: str | None,
    roots_file: Path | None,
    cache_opt: Path | None,
    timeout: float,
    as_json: bool,
) -> None:
    """Download, check and store the hub's trust bundle (trust list, status lists, log checkpoint)."""
    cache = cache_dir(ctx, cache_opt)
    roots_pem = roots_file.read_bytes() if roots_file is not None else None
    now = datetime.now(UTC)
    if hub_url:
        parts = urllib.parse.urlsplit(hub_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise BundleError(f"--hub must be an http(s) URL, not {hub_url!r}", code="usage")
        base = hub_url.rstrip("/")
        data = _get(f"{base}/verifier/bundle.json", timeout, MAX_BUNDLE)
        consistency = _http_consistency(base, timeout)
    else:
        hub = get_hub(ctx)
        data = hub.verifier_bundle()
        consistency = hub.log.consistency_proof
        if roots_pem is None and not (cache / ROOTS_FILE).exists():
            click.echo(
                "govtrust: warning: pinning the local hub's own roots; a counter machine "
                "should pin roots obtained out of band (--roots)",
                err=True,
            )
            roots_pem = b"".join(c.pem() for c in hub.pki.roots())
    trust = accept_bundle(data, cache, now=now, roots_pem=roots_pem, consistency=consistency)
    info = trust.freshness(now)
    if as_json:
        echo_json({"cache": str(cache), **info})
        return
    click.echo(f"已同步 synced: {cache}")
    click.echo(f"  信任列表 trust list #{info['trust_list_sequence']}")
    click.echo(f"  状态列表 status lists: {info['status_lists']}")
    click.echo(f"  日志 log size: {info['log_size']}")
    click.echo(f"  可用至 usable until: {info['usable_until']}")


@group.command("status")
@click.option(
    "--cache",
    "cache_opt",
    type=click.Path(file_okay=False, path_type=Path),
    help="Cache folder (default: GOVTRUST_VERIFIER_CACHE or <data dir>/verifier-cache).",
)
@click.option("--json", "as_json", is_flag=True, help="One JSON object.")
@click.pass_context
@typed_errors
def status_cmd(ctx: click.Context, cache_opt: Path | None, as_json: bool) -> None:
    """How fresh the stored trust bundle is. Exit 0 usable, 2 stale or absent."""
    cache = cache_dir(ctx, cache_opt)
    now = datetime.now(UTC)
    info = load_cache(cache, now=now).freshness(now)
    if as_json:
        echo_json({"cache": str(cache), **info})
    else:
        state = "过期 STALE" if info["stale"] else "可用 usable"
        click.echo(f"{state}: synced {info['synced_at']}, usable until {info['usable_until']}")
        if info["stale"]:
            click.echo(f"  {info['stale']}")
    ctx.exit(EXIT_UNUSABLE if info["stale"] else EXIT_OK)
