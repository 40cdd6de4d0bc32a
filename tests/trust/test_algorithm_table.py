"""docs/algorithms.md and trust/algorithms.py describe the same table."""

from __future__ import annotations

from pathlib import Path

import pytest

from trust import OID, SIGNATURE_ALGORITHMS, UnsupportedAlgorithm, by_cose, by_jose, by_oid
from trust.algorithms import signature_algorithm

DOC = (Path(__file__).parents[2] / "docs" / "algorithms.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("alg", SIGNATURE_ALGORITHMS, ids=lambda a: a.name)
def test_every_algorithm_row_is_documented(alg):
    row = f"| `{alg.name}` | {alg.family.value} | {alg.hash or '—'} | `{alg.jose}` | `{alg.cose}` | `{alg.oid}` |"
    assert row in DOC


def test_every_oid_is_documented():
    for name, value in vars(OID).items():
        if not name.startswith("_"):
            assert f"| `{name}` | `{value}` |" in DOC


def test_identifiers_are_unique_and_resolve_back():
    for a in SIGNATURE_ALGORITHMS:
        assert by_jose(a.jose) is a and by_cose(a.cose) is a and by_oid(a.oid) is a
        assert signature_algorithm(a.name.lower()) is a
    assert len({a.cose for a in SIGNATURE_ALGORITHMS}) == len(SIGNATURE_ALGORITHMS)
    sm2 = signature_algorithm("SM2")
    assert sm2.cose < -65536  # private-use range (RFC 9053 §16.4)


@pytest.mark.parametrize("bad", ["none", "HS256", "", "sm3"])
def test_unknown_names_are_refused(bad):
    with pytest.raises(UnsupportedAlgorithm):
        signature_algorithm(bad)
    with pytest.raises(UnsupportedAlgorithm):
        by_jose(bad)
