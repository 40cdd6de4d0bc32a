"""Fixtures shared by the trust-core crypto tests (tests/trust/)."""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from trust.crypto import PrivateKey, generate_private_key

VECTORS = Path(__file__).resolve().parent.parent / "vectors"

# (GovTrust algorithm name, key family) for every family the platform signs with.
ALGORITHMS: tuple[tuple[str, str], ...] = (
    ("SM2", "sm2"),
    ("ES256", "p256"),
    ("RS256", "rsa"),
    ("PS256", "rsa"),
    ("EdDSA", "ed25519"),
)


def require_tool(name: str) -> str:
    """Return the path of command-line tool ``name``.

    A missing tool skips the test, except on CI (``CI=true``) where it fails it:
    a CI image that lacks the tool must not turn interop tests silently green.
    """
    path = shutil.which(name)
    if path is None:
        reason = f"{name!r} is not on PATH (install it, e.g. the Debian package {name})"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{reason}; CI=true, so this is a failure, not a skip")
        pytest.skip(reason)
    return path


@pytest.fixture
def tool_requirement() -> Callable[[str], str]:
    """The :func:`require_tool` helper itself, for tests of the skip/fail rule."""
    return require_tool


@pytest.fixture
def openssl_bin() -> str:
    return require_tool("openssl")


def load_vector(relative: str) -> Any:
    return json.loads((VECTORS / relative).read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def vectors() -> Callable[[str], Any]:
    """``vectors("sm2/gmt0003-annexA.json")`` → the parsed JSON file."""
    return load_vector


@pytest.fixture(scope="session")
def private_keys() -> dict[str, PrivateKey]:
    """One fresh key per family (RSA at 2048 bits to keep the suite fast)."""
    return {
        family: generate_private_key(family, rsa_bits=2048)
        for family in ("sm2", "p256", "rsa", "ed25519")
    }


@pytest.fixture(params=ALGORITHMS, ids=[alg for alg, _ in ALGORITHMS])
def alg_key(
    request: pytest.FixtureRequest, private_keys: dict[str, PrivateKey]
) -> tuple[str, PrivateKey]:
    """(algorithm name, a private key of its family), once per signing algorithm."""
    alg, family = request.param
    return alg, private_keys[family]
