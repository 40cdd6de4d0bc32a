"""Tests for trust.identifiers: GB 11643, GB 32100, GB 11714, ISO/IEC 7064 MOD 37,36,
GB/T 2260 divisions and the seed participants."""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trust.errors import TrustError
from trust.identifiers import (
    MOD37_36_ALPHABET,
    PARTICIPANT_LEVELS,
    USCC_ALPHABET,
    CitizenId,
    InvalidIdentifier,
    Uscc,
    citizen_id_check_char,
    division,
    divisions,
    is_valid_division,
    make_citizen_id,
    make_uscc,
    mod37_36_check_char,
    mod37_36_is_valid,
    org_code_check_char,
    provinces,
    seed_participants,
    uscc_check_char,
    validate_citizen_id,
    validate_org_code,
    validate_uscc,
)

TODAY = dt.date(2025, 6, 1)
MAINLAND_PROVINCES = {
    "110000", "120000", "130000", "140000", "150000", "210000", "220000", "230000",
    "310000", "320000", "330000", "340000", "350000", "360000", "370000", "410000",
    "420000", "430000", "440000", "450000", "460000", "500000", "510000", "520000",
    "530000", "540000", "610000", "620000", "630000", "640000", "650000",
}  # fmt: skip


def _reason(exc: pytest.ExceptionInfo[InvalidIdentifier]) -> tuple[str, str, str]:
    return exc.value.kind, exc.value.field, exc.value.reason


def _with_check(first17: str) -> str:
    return first17 + citizen_id_check_char(first17)


# --------------------------------------------------------------------------- errors


def test_invalid_identifier_is_a_trust_error_with_a_stable_code() -> None:
    with pytest.raises(TrustError) as exc:
        validate_citizen_id("123")
    assert isinstance(exc.value, InvalidIdentifier)
    assert exc.value.code == "invalid_identifier"
    assert exc.value.field == "number"
    assert exc.value.reason == "wrong_length"
    assert exc.value.message


# --------------------------------------------------------------------------- GB 11643


def test_gb11643_worked_example_is_valid() -> None:
    cid = validate_citizen_id("11010519491231002X")
    assert cid == CitizenId(
        number="11010519491231002X",
        division_code="110105",
        birth_date=dt.date(1949, 12, 31),
        sex="F",
    )
    assert cid.sequence == "002"
    assert cid.province_code == "110000"
    assert not cid.residence_permit
    assert citizen_id_check_char("11010519491231002") == "X"


def test_gb11643_worked_example_with_wrong_check_is_invalid() -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id("110105194912310021")
    assert _reason(exc) == ("citizen_id", "check_char", "bad_check_char")


def test_another_published_example_and_male_sex() -> None:
    cid = validate_citizen_id("360426199101010071")
    assert cid.sex == "M"
    assert cid.birth_date == dt.date(1991, 1, 1)


def test_check_char_arithmetic() -> None:
    # sum 0 -> index 0 -> '1'; one '1' in the last place: weight 2 -> index 2 -> 'X'
    assert citizen_id_check_char("0" * 17) == "1"
    assert citizen_id_check_char("0" * 16 + "1") == "X"
    assert citizen_id_check_char("1" + "0" * 16) == _expected_mod11_2("1" + "0" * 16)


def _expected_mod11_2(first17: str) -> str:
    """ISO/IEC 7064 MOD 11-2 written as the recursive pure system (independent check)."""
    p = 0
    for c in first17:
        p = ((p + int(c)) * 2) % 11
    return "0123456789X"[(12 - p) % 11]


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_check_char_agrees_with_recursive_mod11_2(first17: str) -> None:
    assert citizen_id_check_char(first17) == _expected_mod11_2(first17)


def test_lowercase_x_is_accepted_and_normalised() -> None:
    assert validate_citizen_id("11010519491231002x").number == "11010519491231002X"


@pytest.mark.parametrize(
    "value",
    ["", "11010519491231002", "11010519491231002XX", "110105491231002"],  # last: 15-digit
)
def test_wrong_length(value: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(value)
    assert _reason(exc) == ("citizen_id", "number", "wrong_length")


@pytest.mark.parametrize(
    "value",
    [
        "1101051949123100AX",
        "11010519491231 02X",
        "１１0105194912310020"[:18],  # fullwidth digits
        "110105194912310٠2X",  # ARABIC-INDIC DIGIT ZERO: str.isdigit() is True
        "X10105194912310021",
    ],
)
def test_non_digits(value: str) -> None:
    assert len(value) == 18
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(value)
    assert _reason(exc) == ("citizen_id", "number", "bad_character")


def test_bad_check_character_symbol() -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id("11010519491231002Y")
    assert _reason(exc) == ("citizen_id", "check_char", "bad_character")


def test_not_a_string() -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(11010519491231002)  # type: ignore[arg-type]
    assert exc.value.reason == "not_a_string"


@pytest.mark.parametrize(
    "birth",
    ["19490230", "19491301", "19490001", "19490100", "19000229", "00000101", "17991231"],
)
def test_impossible_birth_date(birth: str) -> None:
    number = _with_check("110105" + birth + "002")
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(number, today=TODAY)
    assert _reason(exc) == ("citizen_id", "birth_date", "impossible_date")


def test_leap_day_is_possible() -> None:
    assert validate_citizen_id(_with_check("11010520000229002")).birth_date == dt.date(2000, 2, 29)


def test_future_birth_date() -> None:
    number = _with_check("110105" + "20250602" + "002")
    assert validate_citizen_id(number, today=dt.date(2025, 6, 2)).birth_date == dt.date(2025, 6, 2)
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(number, today=TODAY)
    assert _reason(exc) == ("citizen_id", "birth_date", "future_date")


def test_future_birth_date_against_the_real_clock() -> None:
    soon = dt.date.today() + dt.timedelta(days=2)
    number = _with_check("110105" + soon.strftime("%Y%m%d") + "002")
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(number)
    assert exc.value.reason == "future_date"


@pytest.mark.parametrize("prefix", ["000000", "100000", "190000", "660000", "720000", "990000"])
def test_unknown_province(prefix: str) -> None:
    number = _with_check(prefix + "19900101" + "123")
    with pytest.raises(InvalidIdentifier) as exc:
        validate_citizen_id(number, today=TODAY)
    assert _reason(exc) == ("citizen_id", "division_code", "unknown_province")


@pytest.mark.parametrize("prefix", ["810000", "820000", "830000"])
def test_residence_permit_numbers_are_accepted(prefix: str) -> None:
    cid = validate_citizen_id(_with_check(prefix + "19900101" + "123"), today=TODAY)
    assert cid.residence_permit
    assert cid.sex == "M"


def test_county_code_not_in_bundled_table_is_accepted() -> None:
    # 330103 (下城区) was merged away in 2021 but numbers issued earlier keep it.
    assert validate_citizen_id(_with_check("33010319800101004")).division_code == "330103"


def test_make_citizen_id() -> None:
    number = make_citizen_id("330106", dt.date(1990, 5, 17), 35)
    cid = validate_citizen_id(number)
    assert cid.division_code == "330106"
    assert cid.birth_date == dt.date(1990, 5, 17)
    assert cid.sequence == "035"
    assert cid.sex == "M"
    assert validate_citizen_id(make_citizen_id("440106", dt.date(1985, 1, 2), "120")).sex == "F"


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (("33010", dt.date(1990, 1, 1), 1), "division_code", "bad_character"),
        (("33010a", dt.date(1990, 1, 1), 1), "division_code", "bad_character"),
        (("990000", dt.date(1990, 1, 1), 1), "division_code", "unknown_province"),
        (("330106", dt.date(1990, 1, 1), 1000), "sequence", "out_of_range"),
        (("330106", dt.date(1990, 1, 1), -1), "sequence", "out_of_range"),
        (("330106", dt.date(1990, 1, 1), True), "sequence", "out_of_range"),
        (("330106", dt.date(1990, 1, 1), "12"), "sequence", "bad_character"),
        (("330106", dt.date(3000, 1, 1), 1), "birth_date", "future_date"),
        (("330106", dt.date(1700, 1, 1), 1), "birth_date", "impossible_date"),
        (("330106", dt.datetime(1990, 1, 1), 1), "birth_date", "impossible_date"),
    ],
)
def test_make_citizen_id_rejects(args: tuple[object, ...], field: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        make_citizen_id(*args)  # type: ignore[arg-type]
    assert (exc.value.field, exc.value.reason) == (field, reason)


_DIVISION_CODES = [d.code for d in divisions()]
_citizen_ids = st.builds(
    make_citizen_id,
    st.sampled_from(_DIVISION_CODES),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)


@given(
    st.sampled_from(_DIVISION_CODES),
    st.dates(min_value=dt.date(1800, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(min_value=0, max_value=999),
)
def test_make_citizen_id_always_validates(code: str, birth: dt.date, seq: int) -> None:
    cid = validate_citizen_id(make_citizen_id(code, birth, seq))
    assert (cid.division_code, cid.birth_date) == (code, birth)
    assert cid.sex == ("M" if seq % 2 else "F")


@given(_citizen_ids, st.integers(min_value=0, max_value=17), st.sampled_from("0123456789X"))
def test_every_single_substitution_of_a_citizen_id_is_detected(
    number: str, pos: int, char: str
) -> None:
    # MOD 11-2: every weight is non-zero mod 11 and digit differences are < 11.
    if number[pos] == char:
        return
    changed = number[:pos] + char + number[pos + 1 :]
    with pytest.raises(InvalidIdentifier):
        validate_citizen_id(changed)


# --------------------------------------------------------------------------- GB 11714


def test_org_code_vectors() -> None:
    assert validate_org_code("600037341") == "600037341"
    assert validate_org_code("M000100Y4") == "M000100Y4"
    assert validate_org_code("m000100y4") == "M000100Y4"
    # 11 - (sum mod 11): sum 0 -> 11 -> '0'; last digit 6 (weight 2) -> sum 12 -> 10 -> 'X'
    assert org_code_check_char("00000000") == "0"
    assert org_code_check_char("00000006") == "X"
    assert org_code_check_char("00000001") == "9"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("60003734", "wrong_length"), ("600037342", "bad_check_char"), ("60003734-", "bad_character")],
)
def test_org_code_rejects(value: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        validate_org_code(value)
    assert exc.value.kind == "org_code"
    assert exc.value.reason == reason


# --------------------------------------------------------------------------- GB 32100


def test_commonly_cited_uscc_is_valid() -> None:
    assert validate_uscc("91350100M000100Y43") == Uscc(
        code="91350100M000100Y43",
        authority="9",
        category="1",
        division_code="350100",
        org_code="M000100Y4",
    )
    assert uscc_check_char("91350100M000100Y4") == "3"
    assert division("350100") is not None


def test_second_published_uscc_is_valid() -> None:
    assert validate_uscc("91110000600037341L").org_code == "600037341"


def test_uscc_check_arithmetic() -> None:
    assert uscc_check_char("0" * 17) == "0"  # 31 - 0 = 31 -> '0'
    assert uscc_check_char("0" * 16 + "1") == "3"  # 31 - 28 = 3
    assert uscc_check_char("1" + "0" * 16) == "Y"  # 31 - 1 = 30 -> 'Y'
    assert len(USCC_ALPHABET) == 31
    assert not set("IOZSV") & set(USCC_ALPHABET)


def test_uscc_lowercase_is_normalised() -> None:
    assert validate_uscc("91350100m000100y43").code == "91350100M000100Y43"


@pytest.mark.parametrize(
    ("value", "field", "reason"),
    [
        ("91350100M000100Y4", "number", "wrong_length"),
        ("91350100M000100Y433", "number", "wrong_length"),
        ("91350100M000100Y44", "check_char", "bad_check_char"),
        ("91350100I000100Y43", "number", "bad_character"),
        ("91350100O000100Y43", "number", "bad_character"),
        ("91350100Z000100Y43", "number", "bad_character"),
        ("91350100S000100Y43", "number", "bad_character"),
        ("91350100V000100Y43", "number", "bad_character"),
        ("91350100M000100Y4-", "number", "bad_character"),
        ("913501A0M000100Y43", "division_code", "bad_character"),
    ],
)
def test_uscc_rejects(value: str, field: str, reason: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        validate_uscc(value)
    assert _reason(exc) == ("uscc", field, reason)


def test_uscc_with_bad_embedded_org_code() -> None:
    first17 = "91350100M000100Y5"  # organisation code check should be 4
    code = first17 + uscc_check_char(first17)
    with pytest.raises(InvalidIdentifier) as exc:
        validate_uscc(code)
    assert _reason(exc) == ("uscc", "org_code", "bad_check_char")
    assert validate_uscc(code, check_org_code=False).org_code == "M000100Y5"


def test_make_uscc() -> None:
    assert make_uscc("9", "1", "350100", "M000100Y") == "91350100M000100Y43"
    code = make_uscc("1", "1", "330000", "DEM33000")
    assert validate_uscc(code).division_code == "330000"


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (("I", "1", "330000", "DEM33000"), "authority"),
        (("1", "", "330000", "DEM33000"), "category"),
        (("1", "1", "33000", "DEM33000"), "division_code"),
        (("1", "1", "33000A", "DEM33000"), "division_code"),
        (("1", "1", "330000", "DEM3300"), "org_code"),
        (("1", "1", "330000", "DEMO3300"), "org_code"),
    ],
)
def test_make_uscc_rejects(args: tuple[str, str, str, str], field: str) -> None:
    with pytest.raises(InvalidIdentifier) as exc:
        make_uscc(*args)
    assert exc.value.field == field


_uscc_char = st.sampled_from(USCC_ALPHABET)
_usccs = st.builds(
    make_uscc,
    _uscc_char,
    _uscc_char,
    st.text(alphabet="0123456789", min_size=6, max_size=6),
    st.text(alphabet=USCC_ALPHABET, min_size=8, max_size=8),
)


@given(_usccs)
def test_make_uscc_always_validates(code: str) -> None:
    parsed = validate_uscc(code)
    assert parsed.code == code
    assert validate_org_code(parsed.org_code) == parsed.org_code


@given(_usccs, st.integers(min_value=0, max_value=17), _uscc_char)
def test_every_single_substitution_of_a_uscc_is_detected(code: str, pos: int, char: str) -> None:
    # MOD 31: 31 is prime, every weight is non-zero mod 31, value differences are < 31.
    if code[pos] == char:
        return
    changed = code[:pos] + char + code[pos + 1 :]
    with pytest.raises(InvalidIdentifier):
        validate_uscc(changed, check_org_code=False)  # the MOD 31 check alone detects it
    with pytest.raises(InvalidIdentifier):
        validate_uscc(changed)


# --------------------------------------------------------------------------- MOD 37,36


def test_mod37_36_reference_vector() -> None:
    assert mod37_36_check_char("A12425GABC1234002") == "M"
    assert mod37_36_is_valid("A12425GABC1234002M")
    assert not mod37_36_is_valid("A12425GABC1234002N")


def test_mod37_36_edge_cases() -> None:
    assert mod37_36_check_char("") == "1"  # P = 36; (1 - 36) mod 36 = 1
    assert mod37_36_is_valid("1")
    assert not mod37_36_is_valid("")
    assert not mod37_36_is_valid("a12425gabc1234002m")  # strict: upper case only
    assert not mod37_36_is_valid("A1.2M")
    assert not mod37_36_is_valid(None)  # type: ignore[arg-type]
    with pytest.raises(InvalidIdentifier) as exc:
        mod37_36_check_char("1.2.156")
    assert _reason(exc) == ("mod37_36", "number", "bad_character")


_mod_text = st.text(alphabet=MOD37_36_ALPHABET, max_size=40)


@given(_mod_text)
def test_mod37_36_appending_the_check_char_gives_a_valid_string(s: str) -> None:
    assert mod37_36_is_valid(s + mod37_36_check_char(s))


@given(_mod_text, st.data())
def test_mod37_36_detects_every_single_substitution(s: str, data: st.DataObject) -> None:
    full = s + mod37_36_check_char(s)
    pos = data.draw(st.integers(min_value=0, max_value=len(full) - 1))
    char = data.draw(st.sampled_from(MOD37_36_ALPHABET).filter(lambda c: c != full[pos]))
    assert not mod37_36_is_valid(full[:pos] + char + full[pos + 1 :])


def _value_gap(a: str, b: str) -> int:
    return (MOD37_36_ALPHABET.index(a) - MOD37_36_ALPHABET.index(b)) % 36


@given(st.text(alphabet=MOD37_36_ALPHABET, min_size=1, max_size=40), st.data())
@settings(max_examples=300)
def test_mod37_36_undetected_transpositions_only_swap_neighbouring_values(
    s: str, data: st.DataObject
) -> None:
    full = s + mod37_36_check_char(s)
    pos = data.draw(st.integers(min_value=0, max_value=len(full) - 2))
    a, b = full[pos], full[pos + 1]
    swapped = full[:pos] + b + a + full[pos + 2 :]
    if a != b and mod37_36_is_valid(swapped):
        assert _value_gap(a, b) in (1, 35)


def test_mod37_36_transposition_detection_rate_exhaustive() -> None:
    # One leading character reaches each of the 36 internal states exactly once.
    undetected = total = 0
    for x in MOD37_36_ALPHABET:
        for a in MOD37_36_ALPHABET:
            for b in MOD37_36_ALPHABET:
                if a == b:
                    continue
                total += 1
                check = mod37_36_check_char(x + a + b)
                if mod37_36_is_valid(x + b + a + check):
                    undetected += 1
                    assert _value_gap(a, b) in (1, 35)
    assert (undetected, total) == (72, 45360)  # 1 in 630, each a swap of neighbours

    undetected = total = 0  # transpositions with the check character itself
    for x in MOD37_36_ALPHABET:
        for a in MOD37_36_ALPHABET:
            check = mod37_36_check_char(x + a)
            if check == a:
                continue
            total += 1
            if mod37_36_is_valid(x + check + a):
                undetected += 1
                assert _value_gap(a, check) in (1, 35)
    assert (undetected, total) == (2, 1260)


def test_mod37_36_known_undetected_transposition() -> None:
    assert mod37_36_is_valid("JI0")
    assert mod37_36_is_valid("IJ0")


# --------------------------------------------------------------------------- GB/T 2260


def test_34_provincial_level_divisions() -> None:
    provs = provinces()
    assert len(provs) == 34
    codes = {p.code for p in provs}
    assert codes == MAINLAND_PROVINCES | {"710000", "810000", "820000"}
    assert all(p.level == "province" and p.parent_code is None for p in provs)
    assert all(p.short_zh and p.iso3166_2 and p.iso3166_2.startswith("CN-") for p in provs)
    assert len({p.iso3166_2 for p in provs}) == 34
    assert len({p.name_zh for p in provs}) == 34
    assert len({p.name_en for p in provs}) == 34


def test_division_codes_are_unique_in_the_file() -> None:
    raw = json.loads(resources.files("trust.data").joinpath("divisions.json").read_text("utf-8"))
    codes = [d["code"] for d in raw["divisions"]]
    assert len(codes) == len(set(codes)) == len(divisions())


@pytest.mark.parametrize(
    ("code", "name_zh", "name_en", "level"),
    [
        ("110000", "北京市", "Beijing", "province"),
        ("330000", "浙江省", "Zhejiang", "province"),
        ("440000", "广东省", "Guangdong", "province"),
        ("650000", "新疆维吾尔自治区", "Xinjiang", "province"),
        ("710000", "台湾省", "Taiwan", "province"),
        ("810000", "香港特别行政区", "Hong Kong", "province"),
        ("820000", "澳门特别行政区", "Macao", "province"),
        ("330100", "杭州市", "Hangzhou", "prefecture"),
        ("440100", "广州市", "Guangzhou", "prefecture"),
        ("330106", "西湖区", "Xihu District", "county"),
        ("440106", "天河区", "Tianhe District", "county"),
    ],
)
def test_known_divisions(code: str, name_zh: str, name_en: str, level: str) -> None:
    d = division(code)
    assert d is not None
    assert (d.name_zh, d.name_en, d.level) == (name_zh, name_en, level)
    assert is_valid_division(code)


def test_division_parents() -> None:
    assert division("330106").parent_code == "330100"  # type: ignore[union-attr]
    assert division("330100").parent_code == "330000"  # type: ignore[union-attr]
    assert division("110105").parent_code == "110100"  # type: ignore[union-attr]
    for d in divisions():
        if d.parent_code is not None:
            assert is_valid_division(d.parent_code)


@pytest.mark.parametrize("code", ["999999", "330199", "33010", "3301060", "", 330106, None])
def test_unknown_divisions(code: object) -> None:
    assert division(code) is None  # type: ignore[arg-type]
    assert not is_valid_division(code)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- seed participants


def test_seed_participants_are_valid() -> None:
    participants = seed_participants()
    ids = [p.id for p in participants]
    assert len(ids) == len(set(ids))
    assert all(p.id.isascii() and p.id == p.id.lower() for p in participants)
    by_id = {p.id: p for p in participants}
    for p in participants:
        assert p.level in PARTICIPANT_LEVELS
        assert p.division is None or is_valid_division(p.division)
        assert p.parent is None or p.parent in by_id
        if p.uscc is not None:
            assert p.uscc_is_demo is True
            assert validate_uscc(p.uscc).code == p.uscc
    usccs = [p.uscc for p in participants if p.uscc]
    assert len(usccs) == len(set(usccs))


def test_seed_participants_cover_the_hub_provinces_xpcc_and_departments() -> None:
    by_id = {p.id: p for p in seed_participants()}
    hub = by_id["hub"]
    assert (hub.name_zh, hub.name_en, hub.level, hub.parent) == (
        "国家政务服务平台",
        "National Government Service Platform",
        "national",
        None,
    )

    provincial = [p for p in by_id.values() if p.level == "provincial" and p.division]
    assert len(provincial) == 31
    assert {p.division for p in provincial} == MAINLAND_PROVINCES
    for p in provincial:
        d = division(p.division)  # type: ignore[arg-type]
        assert d is not None and d.short_zh is not None
        assert p.name_zh == f"{d.short_zh}政务服务网"
        assert p.name_en == f"{d.name_en} Government Service Network"
        assert p.parent == "hub"
        assert d.iso3166_2 == f"CN-{p.id.upper()}"
    assert by_id["zj"].name_zh == "浙江政务服务网"
    assert by_id["zj"].name_en == "Zhejiang Government Service Network"
    assert by_id["gd"].division == "440000"

    xpcc = by_id["xpcc"]
    assert xpcc.level == "provincial" and xpcc.division is None
    assert xpcc.name_zh == "兵团政务服务网"
    assert xpcc.note is not None and "660000" in xpcc.note and "新疆生产建设兵团" in xpcc.note

    departments = {p.name_zh: p for p in by_id.values() if p.level == "department"}
    assert set(departments) == {
        "公安部", "市场监管总局", "教育部", "人力资源社会保障部", "商务部",
        "发展改革委", "民政部", "自然资源部", "税务总局",
    }  # fmt: skip
    assert by_id["mps"].name_en == "Ministry of Public Security"
    assert by_id["samr"].name_en == "State Administration for Market Regulation"
    assert all(p.parent == "hub" and p.division is None for p in departments.values())


def test_seed_participants_returns_a_fresh_list() -> None:
    first = seed_participants()
    first.clear()
    assert len(seed_participants()) == 42
