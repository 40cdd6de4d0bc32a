"""Validators for Chinese public identifiers, and the bundled seed data.

Pure Python (standard library only), so the offline verifier and third parties
can use it. Every rejection raises :class:`InvalidIdentifier` (code
``invalid_identifier``) carrying a machine-readable ``kind`` (which identifier),
``field`` (which part of it) and ``reason`` (what is wrong).

Standards and clauses implemented
---------------------------------

* **GB 11643-1999** 公民身份号码 (citizen identity number), clause 5 "号码的结构和
  表示形式" (5.1 structure: 6-digit address code (5.2, GB/T 2260), 8-digit birth
  date YYYYMMDD (5.3, GB/T 7408), 3-digit sequence code whose last digit is odd
  for men and even for women (5.4), 1 check character (5.5)) and Annexes A
  (examples) and B (check computation). The check character is
  **ISO/IEC 7064 MOD 11-2**: weights ``2^(18-i) mod 11`` for positions
  i = 1..17 = 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; for ``R = sum mod 11`` = 0..10
  the check character is ``1 0 X 9 8 7 6 5 4 3 2``, i.e. ``(12 - R) mod 11``
  with 10 written ``X``.

  Input rules of this module: exactly 18 ASCII characters, no whitespace or
  separators; a lowercase ``x`` check character is **accepted and normalised to
  ``X``** (people type it that way; :attr:`CitizenId.number` is always the
  canonical upper-case form). The province part (first two digits) must be a
  provincial-level code of GB/T 2260 (the 34 in ``data/divisions.json``) or
  ``83``: the numbers on residence permits for Hong Kong, Macao and Taiwan
  residents (港澳台居民居住证) use the address codes 810000, 820000 and 830000.
  The full 6-digit address code is *not* checked against GB/T 2260: it is the
  code in force when the number was issued, and codes are retired every year.
  The birth date must be a real calendar date, not after today in China Standard
  Time (UTC+8), and not before 1800-01-01. The older 15-digit numbers of
  GB 11643-1989 are rejected (``wrong_length``).

* **GB 32100-2015** 法人和其他组织统一社会信用代码 (unified social credit code,
  USCC): structure (position 1 registration authority code, 2 organisation
  category code, 3-8 registration administrative division code (GB/T 2260;
  ``100000`` is the national level), 9-17 subject identifier (the GB 11714
  organisation code including its own check character), 18 check character)
  and check character (computed after GB/T 17710 / ISO/IEC 7064: alphabet
  ``0123456789ABCDEFGHJKLMNPQRTUWXY`` — 31 characters, no I O Z S V — with values
  0..30, weights ``3^(i-1) mod 31`` = 1 3 9 27 19 26 16 17 20 29 25 13 8 24 10 30
  28, check value ``31 - (sum mod 31)``, 31 written as ``0``). Lowercase input is
  normalised to upper case. Registration authority codes seen in the seed data:
  ``1`` 机构编制 (category ``1`` 机关), ``5`` 民政, ``9`` 工商/市场监管, ``Y`` other;
  the authority and category characters are only checked against the alphabet,
  not against the (growing) table of assigned codes.

* **GB 11714-1997** 全国组织机构代码编制规则 (organisation code): 8-char
  body of digits and upper-case Latin letters (values 0-9, A=10 … Z=35), weights
  3 7 9 10 5 8 4 2, check value ``11 - (sum mod 11)`` with 10 written ``X`` and
  11 written ``0``. Note the letter values differ from those of GB 32100 (``M``
  is 22 here but 21 in the USCC alphabet).

* **ISO/IEC 7064:2003** hybrid system **MOD 37,36** (alphabet ``0-9A-Z``), the
  check character of GB/T 36904 e-license identifiers. It detects every single
  substitution error but not every adjacent transposition: over all 36 internal
  states, 72 of the 45 360 possible transpositions of two different characters
  (1 in 630) go undetected, and each of them swaps characters whose values are
  neighbours modulo 36 (such as ``I`` and ``J``: ``JI0`` and ``IJ0`` are both
  valid). The tests measure exactly this.
  These primitives are strict: upper case only.

* **GB/T 2260** 中华人民共和国行政区划代码 (administrative division codes): the
  bundled table ``data/divisions.json`` is a *subset* — all 34 provincial-level
  divisions plus the prefectures and counties the demo uses. A code missing
  from it may still be a valid GB/T 2260 code.

Seed participants (``data/participants.json``) are the trust registry's demo
world: the national hub, the 31 mainland provincial platforms, the Xinjiang
Production and Construction Corps platform and State Council departments. Their
USCCs are **demo values** made with :func:`make_uscc` (``uscc_is_demo``), never
the agencies' real codes.
"""

from __future__ import annotations

import datetime as _dt
import json
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Final, Literal, cast

from .errors import TrustError

__all__ = [
    "InvalidIdentifier",
    "CitizenId",
    "validate_citizen_id",
    "citizen_id_check_char",
    "citizen_id_provinces",
    "make_citizen_id",
    "Uscc",
    "USCC_ALPHABET",
    "validate_uscc",
    "uscc_check_char",
    "make_uscc",
    "org_code_check_char",
    "validate_org_code",
    "MOD37_36_ALPHABET",
    "mod37_36_check_char",
    "mod37_36_is_valid",
    "Division",
    "division",
    "divisions",
    "provinces",
    "is_valid_division",
    "SeedParticipant",
    "ParticipantLevel",
    "PARTICIPANT_LEVELS",
    "seed_participants",
]

_DIGITS: Final = "0123456789"
_UPPER: Final = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class InvalidIdentifier(TrustError):
    """An identifier (citizen ID number, USCC, organisation code, ...) is not valid."""

    code = "invalid_identifier"

    def __init__(self, message: str = "", *, kind: str, field: str, reason: str) -> None:
        super().__init__(message or f"invalid {kind}: {field}: {reason}")
        #: Which identifier: ``citizen_id``, ``uscc``, ``org_code``, ``mod37_36``, ``division``.
        self.kind = kind
        #: Which part of it: ``number``, ``division_code``, ``birth_date``, ``sequence``,
        #: ``check_char``, ``authority``, ``category``, ``org_code``.
        self.field = field
        #: Stable reason code: ``not_a_string``, ``wrong_length``, ``bad_character``,
        #: ``bad_check_char``, ``unknown_province``, ``impossible_date``,
        #: ``future_date``, ``out_of_range``.
        self.reason = reason


# ---------------------------------------------------------------------------
# GB 11643-1999 citizen identity number (ISO/IEC 7064 MOD 11-2)
# ---------------------------------------------------------------------------

_GB11643_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_GB11643_CHECK: Final = "10X98765432"  # indexed by (sum mod 11)
#: First two digits accepted besides the provincial-level GB/T 2260 codes:
#: ``83`` — residence permits for Taiwan residents (address code 830000).
_EXTRA_ID_PROVINCES: Final = frozenset({"83"})
_MIN_BIRTH_DATE: Final = _dt.date(1800, 1, 1)
_CST: Final = _dt.timezone(_dt.timedelta(hours=8), "CST")

Sex = Literal["M", "F"]


@dataclass(frozen=True)
class CitizenId:
    """A valid GB 11643-1999 citizen identity number, split into its parts."""

    number: str  #: canonical 18-character form (check ``X`` upper case)
    division_code: str  #: 6-digit address code (GB/T 2260 code at issuance)
    birth_date: _dt.date
    sex: Sex  #: ``M`` if the 17th digit is odd, else ``F``

    @property
    def sequence(self) -> str:
        """The 3-digit sequence code (positions 15-17)."""
        return self.number[14:17]

    @property
    def province_code(self) -> str:
        """The provincial-level code, e.g. ``330000``."""
        return self.division_code[:2] + "0000"

    @property
    def residence_permit(self) -> bool:
        """True for numbers of residence permits of Hong Kong, Macao or Taiwan residents."""
        return self.division_code[:2] in ("81", "82", "83")


def _citizen_err(field: str, reason: str, message: str = "") -> InvalidIdentifier:
    return InvalidIdentifier(message, kind="citizen_id", field=field, reason=reason)


def _check_17_digits(first17: object) -> str:
    if not isinstance(first17, str):
        raise _citizen_err("number", "not_a_string")
    if len(first17) != 17:
        raise _citizen_err("number", "wrong_length", "expected the first 17 digits")
    if not (first17.isascii() and first17.isdigit()):  # ASCII: isdigit alone takes '１', '٣'
        raise _citizen_err("number", "bad_character", "the first 17 characters must be digits")
    return first17


def citizen_id_check_char(first17: str) -> str:
    """The GB 11643 check character (``0``-``9`` or ``X``) for the first 17 digits."""
    digits = _check_17_digits(first17)
    total = sum(map(operator.mul, map(int, digits), _GB11643_WEIGHTS))
    return _GB11643_CHECK[total % 11]


def _today_cst() -> _dt.date:
    return _dt.datetime.now(_CST).date()


def validate_citizen_id(s: str, *, today: _dt.date | None = None) -> CitizenId:
    """Validate a GB 11643-1999 citizen identity number and return its parts.

    ``today`` (default: the current date in China Standard Time) is the latest
    acceptable birth date. Raises :class:`InvalidIdentifier`; the check
    character is verified before the province and the birth date, so a typo
    is reported as ``bad_check_char``.
    """
    if not isinstance(s, str):
        raise _citizen_err("number", "not_a_string")
    if len(s) != 18:
        raise _citizen_err("number", "wrong_length", f"expected 18 characters, got {len(s)}")
    number = s[:17] + ("X" if s[17] == "x" else s[17])
    first17 = _check_17_digits(number[:17])
    if number[17] not in _GB11643_CHECK:
        raise _citizen_err("check_char", "bad_character", "the check character must be 0-9 or X")
    if citizen_id_check_char(first17) != number[17]:
        raise _citizen_err("check_char", "bad_check_char")

    division_code = number[:6]
    if not _is_id_province(division_code[:2]):
        raise _citizen_err(
            "division_code", "unknown_province", f"{division_code[:2]}0000 is not a province"
        )

    try:
        birth = _dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise _citizen_err("birth_date", "impossible_date", "no such calendar date") from None
    if birth < _MIN_BIRTH_DATE:
        raise _citizen_err("birth_date", "impossible_date", "birth date before 1800")
    if birth > (today if today is not None else _today_cst()):
        raise _citizen_err("birth_date", "future_date", "birth date is in the future")

    sex: Sex = "M" if int(number[16]) % 2 == 1 else "F"
    return CitizenId(number=number, division_code=division_code, birth_date=birth, sex=sex)


def citizen_id_provinces() -> list[str]:
    """The two-digit province codes a citizen ID number may start with (the
    bundled provinces and the extra codes GB 11643 numbers use)."""
    return sorted({c for c in (f"{n:02d}" for n in range(10, 100)) if _is_id_province(c)})


def _is_id_province(two: str) -> bool:
    if two in _EXTRA_ID_PROVINCES:
        return True
    found = division(two + "0000")
    return found is not None and found.level == "province"


def make_citizen_id(division: str, birth: _dt.date, seq: int | str) -> str:
    """Build a valid citizen identity number (demo data and tests).

    ``division`` is a 6-digit address code whose province is known, ``birth``
    the birth date (not in the future), ``seq`` the sequence code 0-999 (its
    parity decides the sex: odd ``M``, even ``F``).
    """
    if (
        not isinstance(division, str)
        or len(division) != 6
        or any(c not in _DIGITS for c in division)
    ):
        raise _citizen_err("division_code", "bad_character", "expected 6 digits")
    if isinstance(seq, str):
        if len(seq) != 3 or any(c not in _DIGITS for c in seq):
            raise _citizen_err("sequence", "bad_character", "expected 3 digits")
        seq_text = seq
    else:
        if isinstance(seq, bool) or not isinstance(seq, int) or not 0 <= seq <= 999:
            raise _citizen_err("sequence", "out_of_range", "expected 0-999")
        seq_text = f"{seq:03d}"
    if not isinstance(birth, _dt.date) or isinstance(birth, _dt.datetime):
        raise _citizen_err("birth_date", "impossible_date", "expected a datetime.date")
    first17 = f"{division}{birth.year:04d}{birth.month:02d}{birth.day:02d}{seq_text}"
    number = first17 + citizen_id_check_char(first17)
    validate_citizen_id(number)  # province, date range
    return number


# ---------------------------------------------------------------------------
# GB 11714-1997 organisation code
# ---------------------------------------------------------------------------

_GB11714_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)
_GB11714_ALPHABET: Final = _DIGITS + _UPPER  # value = index


def _org_err(field: str, reason: str, message: str = "") -> InvalidIdentifier:
    return InvalidIdentifier(message, kind="org_code", field=field, reason=reason)


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character (``0``-``9`` or ``X``) of an 8-character body."""
    if not isinstance(first8, str):
        raise _org_err("number", "not_a_string")
    if len(first8) != 8:
        raise _org_err("number", "wrong_length", "expected the 8-character body")
    if any(c not in _GB11714_ALPHABET for c in first8):
        raise _org_err("number", "bad_character", "the body must be digits or A-Z")
    total = sum(
        _GB11714_ALPHABET.index(c) * w for c, w in zip(first8, _GB11714_WEIGHTS, strict=True)
    )
    value = 11 - total % 11
    return "X" if value == 10 else "0" if value == 11 else str(value)


def validate_org_code(s: str) -> str:
    """Validate a 9-character GB 11714 organisation code (no hyphen); returns it upper-cased."""
    if not isinstance(s, str):
        raise _org_err("number", "not_a_string")
    if len(s) != 9:
        raise _org_err("number", "wrong_length", "expected 9 characters")
    code = s.upper() if s.isascii() else s
    expected = org_code_check_char(code[:8])
    if code[8] not in "0123456789X":
        raise _org_err("check_char", "bad_character", "the check character must be 0-9 or X")
    if expected != code[8]:
        raise _org_err("check_char", "bad_check_char")
    return code


# ---------------------------------------------------------------------------
# GB 32100-2015 unified social credit code (MOD 31)
# ---------------------------------------------------------------------------

#: The 31-character USCC alphabet (value = index); no I, O, Z, S, V.
USCC_ALPHABET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final[Mapping[str, int]] = {c: i for i, c in enumerate(USCC_ALPHABET)}
_USCC_WEIGHTS: Final = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


@dataclass(frozen=True)
class Uscc:
    """A valid GB 32100-2015 unified social credit code, split into its parts."""

    code: str  #: canonical 18-character form
    authority: str  #: registration authority code (position 1)
    category: str  #: organisation category code (position 2)
    division_code: str  #: registration administrative division code (positions 3-8)
    org_code: str  #: GB 11714 organisation code with its check character (positions 9-17)


def _uscc_err(field: str, reason: str, message: str = "") -> InvalidIdentifier:
    return InvalidIdentifier(message, kind="uscc", field=field, reason=reason)


def _uscc_chars(s: str, field: str) -> None:
    for i, c in enumerate(s):
        if c not in _USCC_VALUE:
            raise _uscc_err(field, "bad_character", f"{c!r} at position {i + 1} is not allowed")


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a USCC."""
    if not isinstance(first17, str):
        raise _uscc_err("number", "not_a_string")
    if len(first17) != 17:
        raise _uscc_err("number", "wrong_length", "expected the first 17 characters")
    _uscc_chars(first17, "number")
    total = sum(_USCC_VALUE[c] * w for c, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return USCC_ALPHABET[(31 - total % 31) % 31]


def validate_uscc(s: str, *, check_org_code: bool = True) -> Uscc:
    """Validate a GB 32100-2015 unified social credit code and return its parts.

    Lowercase letters are normalised to upper case. Checks the length, the
    alphabet, that positions 3-8 are digits, the MOD 31 check character and
    (unless ``check_org_code`` is false) the GB 11714 check character of the
    embedded organisation code. Raises :class:`InvalidIdentifier`.
    """
    if not isinstance(s, str):
        raise _uscc_err("number", "not_a_string")
    if len(s) != 18:
        raise _uscc_err("number", "wrong_length", f"expected 18 characters, got {len(s)}")
    code = s.upper() if s.isascii() else s
    _uscc_chars(code, "number")
    if any(c not in _DIGITS for c in code[2:8]):
        raise _uscc_err("division_code", "bad_character", "positions 3-8 must be digits")
    if uscc_check_char(code[:17]) != code[17]:
        raise _uscc_err("check_char", "bad_check_char")
    org = code[8:17]
    if check_org_code and org_code_check_char(org[:8]) != org[8]:
        raise _uscc_err("org_code", "bad_check_char", "the GB 11714 organisation code check fails")
    return Uscc(
        code=code, authority=code[0], category=code[1], division_code=code[2:8], org_code=org
    )


def make_uscc(authority: str, category: str, division: str, org8: str) -> str:
    """Build a valid USCC from its parts, computing both check characters (demo data).

    ``org8`` is the 8-character body of the organisation code; its GB 11714
    check character and the GB 32100 check character are appended.
    """
    for value, field in ((authority, "authority"), (category, "category")):
        if not isinstance(value, str) or len(value) != 1:
            raise _uscc_err(field, "wrong_length", "expected one character")
        _uscc_chars(value, field)
    if (
        not isinstance(division, str)
        or len(division) != 6
        or any(c not in _DIGITS for c in division)
    ):
        raise _uscc_err("division_code", "bad_character", "expected 6 digits")
    if not isinstance(org8, str) or len(org8) != 8:
        raise _uscc_err("org_code", "wrong_length", "expected the 8-character body")
    _uscc_chars(org8, "org_code")
    first17 = authority + category + division + org8 + org_code_check_char(org8)
    return first17 + uscc_check_char(first17)


# ---------------------------------------------------------------------------
# ISO/IEC 7064 MOD 37,36 (hybrid system)
# ---------------------------------------------------------------------------

#: The MOD 37,36 alphabet (value = index).
MOD37_36_ALPHABET: Final = _DIGITS + _UPPER
_M: Final = 36


def _mod37_36_state(s: str) -> int:
    """Run the hybrid recursion P(j+1) = (||P(j) + a(j)||_M × 2) mod (M+1), P(1) = M."""
    p = _M
    for c in s:
        v = MOD37_36_ALPHABET.find(c)
        if v < 0:
            raise InvalidIdentifier(
                f"{c!r} is not in 0-9A-Z", kind="mod37_36", field="number", reason="bad_character"
            )
        t = (p + v) % _M or _M  # ||x||_M: remainder with 0 replaced by M
        p = (t * 2) % (_M + 1)
    return p


def mod37_36_check_char(s: str) -> str:
    """The ISO/IEC 7064 MOD 37,36 check character (``0-9A-Z``) to append to ``s``."""
    if not isinstance(s, str):
        raise InvalidIdentifier(kind="mod37_36", field="number", reason="not_a_string")
    return MOD37_36_ALPHABET[(1 - _mod37_36_state(s)) % _M]


def mod37_36_is_valid(s_with_check: str) -> bool:
    """True if the last character of ``s_with_check`` is its MOD 37,36 check character."""
    if not isinstance(s_with_check, str) or not s_with_check:
        return False
    try:
        return mod37_36_check_char(s_with_check[:-1]) == s_with_check[-1]
    except InvalidIdentifier:
        return False


# ---------------------------------------------------------------------------
# GB/T 2260 administrative divisions (bundled subset)
# ---------------------------------------------------------------------------

DivisionLevel = Literal["province", "prefecture", "county"]


@dataclass(frozen=True)
class Division:
    """One GB/T 2260 administrative division."""

    code: str
    name_zh: str
    name_en: str
    short_zh: str | None = None  #: provinces: short name, e.g. 浙江 (in 浙江政务服务网)
    iso3166_2: str | None = None  #: provinces: ISO 3166-2:CN code, e.g. CN-ZJ

    @property
    def level(self) -> DivisionLevel:
        if self.code.endswith("0000"):
            return "province"
        if self.code.endswith("00"):
            return "prefecture"
        return "county"

    @property
    def province_code(self) -> str:
        return self.code[:2] + "0000"

    @property
    def parent_code(self) -> str | None:
        """The code of the enclosing division in the bundled table, or None for provinces."""
        if self.level == "province":
            return None
        if self.level == "county":
            prefecture = self.code[:4] + "00"
            if prefecture in _division_table():
                return prefecture
        return self.province_code


def _seed_error(message: str) -> TrustError:
    return TrustError(message, code="invalid_seed_data")


def _load_json(name: str) -> Any:
    text = resources.files("trust.data").joinpath(name).read_text(encoding="utf-8")
    return json.loads(text)


def _opt_str(entry: Mapping[str, Any], key: str) -> str | None:
    value = entry.get(key)
    if value is not None and not isinstance(value, str):
        raise _seed_error(f"{key} must be a string or null in {entry!r}")
    return value


def _req_str(entry: Mapping[str, Any], key: str) -> str:
    value = entry.get(key)
    if not isinstance(value, str) or not value:
        raise _seed_error(f"{key} must be a non-empty string in {entry!r}")
    return value


@lru_cache(maxsize=1)
def _division_table() -> Mapping[str, Division]:
    table: dict[str, Division] = {}
    for entry in _load_json("divisions.json")["divisions"]:
        d = Division(
            code=_req_str(entry, "code"),
            name_zh=_req_str(entry, "name_zh"),
            name_en=_req_str(entry, "name_en"),
            short_zh=_opt_str(entry, "short_zh"),
            iso3166_2=_opt_str(entry, "iso3166_2"),
        )
        if len(d.code) != 6 or any(c not in _DIGITS for c in d.code):
            raise _seed_error(f"division code {d.code!r} is not 6 digits")
        if d.code in table:
            raise _seed_error(f"duplicate division code {d.code}")
        table[d.code] = d
    for d in table.values():
        if d.level != "province" and d.province_code not in table:
            raise _seed_error(f"division {d.code} has no province in the table")
    return table


def division(code: str) -> Division | None:
    """The bundled GB/T 2260 division with this 6-digit code, or None."""
    if not isinstance(code, str):
        return None
    return _division_table().get(code)


def divisions() -> list[Division]:
    """Every bundled division, sorted by code."""
    return sorted(_division_table().values(), key=lambda d: d.code)


def provinces() -> list[Division]:
    """The 34 provincial-level divisions, sorted by code."""
    return [d for d in divisions() if d.level == "province"]


def is_valid_division(code: str) -> bool:
    """True if ``code`` is in the bundled GB/T 2260 table (a subset: see the module doc)."""
    return division(code) is not None


# ---------------------------------------------------------------------------
# Seed participants of the trust registry
# ---------------------------------------------------------------------------

ParticipantLevel = Literal["national", "provincial", "department", "county"]
PARTICIPANT_LEVELS: Final = ("national", "provincial", "department", "county")


@dataclass(frozen=True)
class SeedParticipant:
    """One participant of the demo trust registry (``data/participants.json``)."""

    id: str  #: short stable ASCII slug, e.g. ``hub``, ``zj``, ``mps``
    name_zh: str
    name_en: str
    level: ParticipantLevel
    division: str | None  #: GB/T 2260 code, or None (national bodies, the XPCC)
    parent: str | None  #: id of the parent participant, or None for the hub
    uscc: str | None = None
    uscc_is_demo: bool = False  #: True: a made-up demo USCC, not the agency's real code
    full_name_zh: str | None = None
    note: str | None = None


def _is_slug(value: str) -> bool:
    return (
        value.isascii()
        and value[:1].islower()
        and all(c.islower() or c.isdigit() or c in "-_" for c in value)
    )


@lru_cache(maxsize=1)
def _participant_table() -> tuple[SeedParticipant, ...]:
    out: list[SeedParticipant] = []
    for entry in _load_json("participants.json")["participants"]:
        level = _req_str(entry, "level")
        if level not in PARTICIPANT_LEVELS:
            raise _seed_error(f"unknown level {level!r}")
        uscc_is_demo = entry.get("uscc_is_demo", False)
        if not isinstance(uscc_is_demo, bool):
            raise _seed_error("uscc_is_demo must be a boolean")
        p = SeedParticipant(
            id=_req_str(entry, "id"),
            name_zh=_req_str(entry, "name_zh"),
            name_en=_req_str(entry, "name_en"),
            level=cast(ParticipantLevel, level),  # checked above
            division=_opt_str(entry, "division"),
            parent=_opt_str(entry, "parent"),
            uscc=_opt_str(entry, "uscc"),
            uscc_is_demo=uscc_is_demo,
            full_name_zh=_opt_str(entry, "full_name_zh"),
            note=_opt_str(entry, "note"),
        )
        if not _is_slug(p.id):
            raise _seed_error(f"participant id {p.id!r} is not a lowercase ASCII slug")
        if p.division is not None:
            d = division(p.division)
            if d is None:
                raise InvalidIdentifier(
                    f"participant {p.id}: unknown division {p.division}",
                    kind="division",
                    field="division_code",
                    reason="unknown_division",
                )
            if p.level == "provincial" and d.level != "province":
                raise _seed_error(f"participant {p.id}: {p.division} is not provincial-level")
        if p.uscc is not None:
            parsed = validate_uscc(p.uscc)
            if parsed.code != p.uscc:
                raise _seed_error(f"participant {p.id}: USCC not in canonical form")
            if not p.uscc_is_demo:
                raise _seed_error(
                    f"participant {p.id}: seed USCCs are invented and must say uscc_is_demo"
                )
            if p.division is not None and parsed.division_code != p.division:
                raise _seed_error(f"participant {p.id}: USCC division differs from division")
        elif p.uscc_is_demo:
            raise _seed_error(f"participant {p.id}: uscc_is_demo without a uscc")
        out.append(p)

    ids = [p.id for p in out]
    if len(set(ids)) != len(ids):
        raise _seed_error("duplicate participant ids")
    usccs = [p.uscc for p in out if p.uscc is not None]
    if len(set(usccs)) != len(usccs):
        raise _seed_error("duplicate participant USCCs")
    known = set(ids)
    for p in out:
        if p.parent is not None and (p.parent not in known or p.parent == p.id):
            raise _seed_error(f"participant {p.id}: bad parent {p.parent!r}")
    roots = [p.id for p in out if p.parent is None]
    if roots != ["hub"]:
        raise _seed_error(f"exactly one root participant 'hub' expected, got {roots}")
    parent_of = {p.id: p.parent for p in out}
    for p in out:  # every chain of parents must end at the hub (no cycles)
        seen: set[str] = set()
        cur: str | None = p.id
        while cur is not None:
            if cur in seen:
                raise _seed_error(f"participant {p.id}: cycle in parents")
            seen.add(cur)
            cur = parent_of[cur]
    return tuple(out)


def seed_participants() -> list[SeedParticipant]:
    """The seed participants, validated on load (divisions, USCCs, ids, parents).

    Raises :class:`InvalidIdentifier` or :class:`TrustError` (code
    ``invalid_seed_data``) if the bundled file is inconsistent.
    """
    return list(_participant_table())
