"""The verifier's tests build their hub data through service calls that the
license and trust-list suites already run on PostgreSQL: SQLite is enough here."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'govtrust.db'}"
