"""Shared CLI plumbing: building the hub, typed errors → exit codes."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click

from govtrust.config import Config
from govtrust.hub import Hub
from trust import TrustError

F = TypeVar("F", bound=Callable[..., Any])

EXIT_OK, EXIT_INVALID, EXIT_UNUSABLE = 0, 1, 2


def get_hub(ctx: click.Context, *, create_master_key: bool = False) -> Hub:
    obj = ctx.ensure_object(dict)
    if "hub" not in obj:
        config: Config = obj.get("config") or Config.from_env()
        obj["hub"] = Hub(config, create_master_key=create_master_key)
        ctx.call_on_close(obj["hub"].close)
    return obj["hub"]  # type: ignore[no-any-return]


def fail(message: str, code: str = "error", exit_code: int = EXIT_UNUSABLE) -> None:
    click.echo(f"govtrust: {code}: {message}", err=True)
    sys.exit(exit_code)


def typed_errors(func: F) -> F:
    """Turn TrustError and I/O errors into one stderr line and exit status 2."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except TrustError as exc:
            fail(exc.message, exc.code)
        except OSError as exc:
            fail(f"{exc.filename or ''}: {exc.strerror or exc}", "io_error")

    return wrapper  # type: ignore[return-value]


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2, default=str))
