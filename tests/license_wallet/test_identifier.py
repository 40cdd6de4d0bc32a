"""Tests for license_wallet.identifier: GB/T 36904 e-license identifiers with the
ISO/IEC 7064 MOD 37,36 check character."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from license_wallet.errors import InvalidLicenseIdentifier, LicenseError
from license_wallet.identifier import (
    LICENSE_ID_PREFIX,
    MAX_IDENTIFIER_LENGTH,
    MAX_SERIAL_LENGTH,
    LicenseIdentifier,
    build_identifier,
    mod37_36_check,
    parse_identifier,
)
from trust.errors import MalformedInput, TrustError
from trust.identifiers import USCC_ALPHABET, make_uscc

ALNUM = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# --------------------------------------------------------------------------- oracle


def _oracle_run(s: str) -> int:
    """ISO/IEC 7064 §hybrid systems, written out independently of the module:
    P1 = M; S_j = (P_j + a_j) mod M, with 0 read as M; P_{j+1} = 2 S_j mod (M+1)."""
    m = 36
    p = m
    for ch in s:
        total = (p + ALNUM.index(ch)) % m
        if total == 0:
            total = m
        p = (2 * total) % (m + 1)
    return p


def _oracle_check(s: str) -> str:
    """The check character is the one whose final sum S is 1 (found by trying all 36)."""
    p = _oracle_run(s)
    (found,) = [c for c in ALNUM if (p + ALNUM.index(c)) % 36 == 1]
    return found


# --------------------------------------------------------------------------- known answers

# Published identifiers, found in public government-integration code for the
# 全国一体化政务服务平台 e-license system (issuer and type codes are agencies'
# public USCCs). They are the evidence for the check-input convention: the check
# covers type_code + issuer_code + serial + version, no dots, no prefix.
PUBLISHED = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.002.S",
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W087.11370800MB28559184.37080001202411010001.001.3",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
]

# ISO/IEC 7064:2003 (hybrid system example, also in tests/trust) and strings from
# the published test list of cdigit (github.com/LiosK/cdigit, test/mod37_36.test.js).
MOD37_36_KNOWN = [
    ("A12425GABC1234002", "M"),
    ("B7Q3SFTUSH2QN7BIXBPMNZAM", "I"),
    ("EFWW032G2TI", "U"),
    ("TBR", "1"),
    ("OW", "N"),
    ("X0H", "X"),
    ("9", "J"),
    ("", "1"),
]


@pytest.mark.parametrize(("text", "check"), MOD37_36_KNOWN)
def test_mod37_36_known_answers(text: str, check: str) -> None:
    assert mod37_36_check(text) == check
    assert _oracle_check(text) == check


def test_mod37_36_by_hand() -> None:
    # "9": P1 = 36; S1 = (36 + 9) mod 36 = 9; P2 = 18 mod 37 = 18;
    # check c with (18 + c) mod 36 = 1  ->  c = 19 = "J".
    # "": P1 = 36; c with (36 + c) mod 36 = 1  ->  c = 1.
    assert _oracle_run("9") == 18
    assert mod37_36_check("9") == "J"
    assert mod37_36_check("") == "1"


@given(st.text(alphabet=ALNUM, max_size=60))
def test_mod37_36_matches_the_independent_oracle(text: str) -> None:
    assert mod37_36_check(text) == _oracle_check(text)


def test_mod37_36_rejects_other_characters() -> None:
    for bad in ("a", "1.2", " ", "Ｍ", "-"):
        with pytest.raises(InvalidLicenseIdentifier) as exc:
            mod37_36_check(bad)
        assert exc.value.code == "license_id_bad_character"
    with pytest.raises(InvalidLicenseIdentifier) as exc:
        mod37_36_check(12)  # type: ignore[arg-type]
    assert exc.value.code == "license_id_not_a_string"


@pytest.mark.parametrize("text", PUBLISHED)
def test_published_identifiers_parse_and_round_trip(text: str) -> None:
    ident = parse_identifier(text)
    assert str(ident) == text
    assert ident.check_input == "".join(text[len(LICENSE_ID_PREFIX) + 1 : -2].split("."))
    assert ident.check == mod37_36_check(ident.check_input) == _oracle_check(ident.check_input)
    # The prefix is not covered: with it (dots removed) the check would differ.
    with_prefix = LICENSE_ID_PREFIX.replace(".", "") + ident.check_input
    assert _oracle_check(with_prefix) != ident.check


def test_published_identifier_with_a_division_code_as_issuer() -> None:
    # Also published (Hefei): its check agrees with the convention, but the issuer
    # field "340100" is a GB/T 2260 division code, not a USCC, so parsing refuses it.
    text = "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9"
    assert mod37_36_check("11100000MB03271699022" + "340100" + "000000016" + "001") == "9"
    with pytest.raises(InvalidLicenseIdentifier) as exc:
        parse_identifier(text)
    assert exc.value.code == "license_id_bad_issuer"
    assert exc.value.field == "issuer_code"


def test_parsed_fields() -> None:
    ident = parse_identifier(PUBLISHED[2])
    assert ident == LicenseIdentifier(
        type_code="11100000000013338W087",
        issuer_code="11370800MB28559184",
        serial="37080001202411010001",
        version=1,
        check="3",
    )
    assert (
        str(build_identifier("11100000000013338W087", "11370800MB28559184", "37080001202411010001"))
        == PUBLISHED[2]
    )
    assert (
        build_identifier(ident.type_code, ident.issuer_code, ident.serial, ident.version) == ident
    )


def test_the_version_is_covered_by_the_check() -> None:
    a, b = parse_identifier(PUBLISHED[0]), parse_identifier(PUBLISHED[1])
    assert (a.version, b.version) == (2, 1)
    assert a.check != b.check


def test_build_formats_the_version_with_three_digits() -> None:
    ident = build_identifier("11100000000013338W011", "11430000006122244L", "A1", 42)
    assert str(ident).endswith(".A1.042." + ident.check)
    assert parse_identifier(str(ident)) == ident
    assert ".Z.999." in str(
        build_identifier("11100000000013338W011", "11430000006122244L", "Z", 999)
    )


def test_the_identifier_is_frozen() -> None:
    ident = parse_identifier(PUBLISHED[0])
    with pytest.raises(AttributeError):
        ident.serial = "1"  # type: ignore[misc]


# --------------------------------------------------------------------------- error detection


def _undetectable_swaps(body: str) -> set[int]:
    """Positions i in ``body`` where swapping body[i], body[i+1] keeps the check.

    Derived from the recursion: the states after the pair agree iff the two running
    sums S are 18 and 19 (2*18 = 36 and 2*19 = 38 = 1 mod 37 lead to the same
    next state from either order). Cross-checked below by brute force.
    """
    out: set[int] = set()
    for i in range(len(body) - 1):
        a, b = body[i], body[i + 1]
        if a == b:
            continue
        p = _oracle_run(body[:i])
        sums = {(p + ALNUM.index(a)) % 36, (p + ALNUM.index(b)) % 36}
        if sums == {18, 19}:
            out.add(i)
    return out


def _exhaustive_ids() -> list[str]:
    crafted = build_identifier(
        "11100000000013338W011", "11430000006122244L", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    )
    return [*PUBLISHED, str(crafted)]


@pytest.mark.parametrize("text", _exhaustive_ids())
def test_every_single_substitution_is_detected(text: str) -> None:
    alphabet = ALNUM + ".abcxyz -"
    for pos, original in enumerate(text):
        for ch in alphabet:
            if ch == original:
                continue
            with pytest.raises(InvalidLicenseIdentifier):
                parse_identifier(text[:pos] + ch + text[pos + 1 :])


@pytest.mark.parametrize("text", _exhaustive_ids())
def test_the_check_alone_detects_every_substitution_in_the_fields(text: str) -> None:
    ident = parse_identifier(text)
    body, check = ident.check_input, ident.check
    for pos, original in enumerate(body):
        for ch in ALNUM:
            if ch != original:
                assert mod37_36_check(body[:pos] + ch + body[pos + 1 :]) != check
    for ch in ALNUM:  # a substituted check character
        if ch != check:
            assert mod37_36_check(body) != ch


@pytest.mark.parametrize("text", _exhaustive_ids())
def test_adjacent_transpositions_are_detected_except_the_known_mod37_36_blind_spot(
    text: str,
) -> None:
    """MOD 37,36 does NOT detect every adjacent transposition: exactly the swaps
    predicted by _undetectable_swaps pass; every other one is rejected."""
    ident = parse_identifier(text)
    body = ident.check_input
    # Map each position of the identifier text to its position in the check input.
    offsets: dict[int, int] = {}
    start = len(LICENSE_ID_PREFIX) + 1
    k = 0
    for i in range(start, len(text) - 2):
        if text[i] != ".":
            offsets[i] = k
            k += 1
    assert k == len(body)
    blind = _undetectable_swaps(body)

    undetected: set[int] = set()
    for i in range(len(text) - 1):
        a, b = text[i], text[i + 1]
        if a == b:
            continue
        swapped = text[:i] + b + a + text[i + 2 :]
        try:
            parse_identifier(swapped)
        except InvalidLicenseIdentifier as exc:
            if "." in (a, b):  # moving a dot changes a fixed-length field
                assert exc.code != "license_id_check_mismatch"
            continue
        assert i in offsets and i + 1 in offsets, "only swaps inside one field can pass"
        undetected.add(offsets[i])
    assert undetected == {j for j in blind if _same_field(ident, j)}


def _same_field(ident: LicenseIdentifier, j: int) -> bool:
    """True if body positions j and j+1 lie in the same field (adjacent in the text)."""
    bounds = []
    pos = 0
    for field in (ident.type_code, ident.issuer_code, ident.serial, f"{ident.version:03d}"):
        bounds.append((pos, pos + len(field)))
        pos += len(field)
    return any(lo <= j and j + 1 < hi for lo, hi in bounds)


def test_the_blind_spot_prediction_matches_brute_force() -> None:
    for prefix in ALNUM:  # one leading character reaches all 36 states
        for a in ALNUM:
            for b in ALNUM:
                if a == b:
                    continue
                s, t = prefix + a + b, prefix + b + a
                assert (mod37_36_check(s) == mod37_36_check(t)) == (1 in _undetectable_swaps(s))


def test_an_undetected_transposition_exists_in_a_serial() -> None:
    # A documented limitation of MOD 37,36 (1 in 630 transpositions): find a
    # serial "X89" whose "89" -> "98" swap is invisible, and show both parse.
    type_code, issuer = "11100000000013338W011", "11430000006122244L"
    for lead in ALNUM:
        serial = lead + "89"
        body = type_code + issuer + serial + "001"
        if len(type_code + issuer) + 1 in _undetectable_swaps(body):
            break
    else:
        pytest.fail("no lead character reaches the blind spot")
    good = build_identifier(type_code, issuer, serial)
    twin = build_identifier(type_code, issuer, lead + "98")
    assert good.check == twin.check
    assert parse_identifier(str(twin)) == twin


# --------------------------------------------------------------------------- bad input

GOOD = PUBLISHED[0]
P = LICENSE_ID_PREFIX + "."


@pytest.mark.parametrize(
    ("text", "code"),
    [
        (None, "license_id_not_a_string"),
        (b"1.2.156", "license_id_not_a_string"),
        (GOOD + "0" * (MAX_IDENTIFIER_LENGTH - len(GOOD) + 1), "license_id_too_long"),
        ("", "license_id_bad_prefix"),
        (
            "1.2.156.3005.3.11100000000013338W011.11430000006122244L.20230000403.002.S",
            "license_id_bad_prefix",
        ),
        (" " + GOOD, "license_id_bad_prefix"),
        (GOOD.lower(), "license_id_bad_type_code"),
        (GOOD + ".1", "license_id_bad_structure"),
        (GOOD[:-2], "license_id_bad_structure"),
        (GOOD.replace(".002.", ".002"), "license_id_bad_structure"),
        (
            P + "11100000000013338W01.11430000006122244L.20230000403.002.S",
            "license_id_bad_type_code",
        ),
        (
            P + "11100000000013338W0A1.11430000006122244L.20230000403.002.S",
            "license_id_bad_type_code",
        ),
        (
            P + "11100000000013338X011.11430000006122244L.20230000403.002.S",
            "license_id_bad_type_code",
        ),
        (P + "11100000000013338W011.11430000006122244M.20230000403.002.S", "license_id_bad_issuer"),
        (P + "11100000000013338W011.1143000000612224L.20230000403.002.S", "license_id_bad_issuer"),
        (P + "11100000000013338W011.11430000006122244l.20230000403.002.S", "license_id_bad_issuer"),
        (P + "11100000000013338W011.11430000006122244L..002.S", "license_id_bad_serial"),
        (P + "11100000000013338W011.11430000006122244L.2023-0403.002.S", "license_id_bad_serial"),
        (P + "11100000000013338W011.11430000006122244L.2023a.002.S", "license_id_bad_serial"),
        (
            P
            + "11100000000013338W011.11430000006122244L."
            + "1" * (MAX_SERIAL_LENGTH + 1)
            + ".002.S",
            "license_id_too_long",  # any serial over the limit makes the whole too long
        ),
        (P + "11100000000013338W011.11430000006122244L.20230000403.02.S", "license_id_bad_version"),
        (
            P + "11100000000013338W011.11430000006122244L.20230000403.000.S",
            "license_id_bad_version",
        ),
        (
            P + "11100000000013338W011.11430000006122244L.20230000403.0A2.S",
            "license_id_bad_version",
        ),
        (
            P + "11100000000013338W011.11430000006122244L.20230000403.２02.S",
            "license_id_bad_version",
        ),
        (GOOD[:-1], "license_id_bad_check_char"),
        (GOOD[:-1] + "s", "license_id_bad_check_char"),
        (GOOD + "S", "license_id_bad_check_char"),
        (GOOD[:-1] + "T", "license_id_check_mismatch"),
    ],
)
def test_bad_identifiers_have_distinct_codes(text: object, code: str) -> None:
    with pytest.raises(InvalidLicenseIdentifier) as exc:
        parse_identifier(text)  # type: ignore[arg-type]
    assert exc.value.code == code
    assert isinstance(exc.value, MalformedInput)
    assert isinstance(exc.value, LicenseError)
    assert isinstance(exc.value, TrustError)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("11100000000013338W01", "11430000006122244L", "1", 1), "license_id_bad_type_code"),
        ((None, "11430000006122244L", "1", 1), "license_id_bad_type_code"),
        (("11100000000013338W011", "11430000006122244M", "1", 1), "license_id_bad_issuer"),
        (("11100000000013338W011", "11430000006122244L", "", 1), "license_id_bad_serial"),
        (("11100000000013338W011", "11430000006122244L", 12, 1), "license_id_bad_serial"),
        (
            ("11100000000013338W011", "11430000006122244L", "1" * (MAX_SERIAL_LENGTH + 1), 1),
            "license_id_bad_serial",
        ),
        (("11100000000013338W011", "11430000006122244L", "1", 0), "license_id_bad_version"),
        (("11100000000013338W011", "11430000006122244L", "1", 1000), "license_id_bad_version"),
        (("11100000000013338W011", "11430000006122244L", "1", True), "license_id_bad_version"),
        (("11100000000013338W011", "11430000006122244L", "1", "001"), "license_id_bad_version"),
    ],
)
def test_build_rejects_bad_fields(args: tuple[object, ...], code: str) -> None:
    with pytest.raises(InvalidLicenseIdentifier) as exc:
        build_identifier(*args)  # type: ignore[arg-type]
    assert exc.value.code == code


# --------------------------------------------------------------------------- properties

_uscc = st.builds(
    make_uscc,
    st.sampled_from(USCC_ALPHABET),
    st.sampled_from(USCC_ALPHABET),
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
)
_type_code = st.builds(lambda u, n: u + f"{n:03d}", _uscc, st.integers(0, 999))
_serial = st.text(alphabet=ALNUM, min_size=1, max_size=MAX_SERIAL_LENGTH)


@given(_type_code, _uscc, _serial, st.integers(1, 999))
def test_build_parse_round_trip(type_code: str, issuer: str, serial: str, version: int) -> None:
    ident = build_identifier(type_code, issuer, serial, version)
    text = str(ident)
    assert len(text) <= MAX_IDENTIFIER_LENGTH
    assert parse_identifier(text) == ident
    assert ident.check == _oracle_check(type_code + issuer + serial + f"{version:03d}")


@given(st.text(max_size=200))
@settings(max_examples=300)
def test_parse_raises_only_typed_errors(text: str) -> None:
    try:
        ident = parse_identifier(text)
    except InvalidLicenseIdentifier as exc:
        assert exc.code.startswith("license_id_")
    else:
        assert str(ident) == text


@given(st.sampled_from(PUBLISHED), st.data())
def test_mutated_published_identifiers_raise_only_typed_errors(
    text: str, data: st.DataObject
) -> None:
    pos = data.draw(st.integers(0, len(text) - 1))
    insert = data.draw(st.text(max_size=3))
    mutated = text[:pos] + insert + text[pos + 1 :]
    try:
        assert str(parse_identifier(mutated)) == mutated
    except InvalidLicenseIdentifier:
        pass


@pytest.mark.parametrize("text", PUBLISHED)
def test_every_adjacent_transposition_of_the_published_identifiers_is_detected(
    text: str,
) -> None:
    # These four happen to avoid the blind spot, so here the guarantee is total.
    for i in range(len(text) - 1):
        if text[i] != text[i + 1]:
            with pytest.raises(InvalidLicenseIdentifier):
                parse_identifier(text[:i] + text[i + 1] + text[i] + text[i + 2 :])


def test_the_crafted_identifier_has_exactly_two_blind_transpositions() -> None:
    crafted = parse_identifier(_exhaustive_ids()[-1])
    inside = {j for j in _undetectable_swaps(crafted.check_input) if _same_field(crafted, j)}
    assert inside == {41, 67}  # serial "…23…" and "…ST…": neighbouring values
    body = crafted.check_input
    assert [body[j : j + 2] for j in sorted(inside)] == ["23", "ST"]
