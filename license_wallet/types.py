"""The catalogue of e-license types (证照类型目录) and their field schemas.

Pure Python (standard library and :mod:`trust.identifiers`), so the offline
verifier and third parties can use it.

Metadata (GB/T 36903 电子证照 元数据规范)
-----------------------------------------

Every type carries the standard's common metadata. Some items live in signed
credential claims that every presentation shows (:data:`COMMON_METADATA`
says where each one goes); the others are *fields*, selectively disclosable
one by one (:mod:`license_wallet.credential`):

============================  ==================  ==========================
metadata                      key / claim         carried as
============================  ==================  ==========================
证照名称 license name           —                   derived from the type code
证照类型代码 type code           ``type``            claim (always shown)
电子证照标识 e-license id        ``identifier``      claim (always shown)
颁发机构代码 issuer code         in the identifier   claim (always shown)
有效期起始 / 截止 validity        ``nbf`` / ``exp``   claims (always shown)
证照编号 license number          ``license_number``  field (where the type has one)
颁发机构 issuing authority       ``issuer_name``     field
颁发日期 issue date              ``issue_date``      field
持证主体 holder                  ``holder_name``     field
持证主体代码 holder code          ``holder_code``     field
持证主体代码类型 code type         ``holder_code_type`` field, or implied by the type
证照所属管辖属地 jurisdiction      ``jurisdiction``    field (GB/T 2260 code)
============================  ==================  ==========================

The 居民身份证 and the 机动车驾驶证 have no separate 证照编号: their number is
the holder's GB 11643 citizen identity number (``holder_code``), so it is not
carried twice. The 居民身份证 also has no ``issue_date`` and no
``jurisdiction`` field: its 签发日期 is the first day of its 有效期限 (the
``nbf`` claim) and its 签发机关 (``issuer_name``) names the issuing public
security bureau. Every field costs a 16-byte digest in every presentation,
and the identity card must fit a version 20 QR symbol.

Each field has a stable ASCII ``key`` (APIs, CLI, JSON), a stable small
integer ``label`` (the CBOR label inside a disclosure; never reused), a
Chinese and an English name, a :class:`FieldKind`, ``required``,
``max_length`` (characters) and ``minimal`` (shown by a "minimal"
disclosure). Labels 1–15 are the common metadata; type-specific fields use
16 and up.

Type codes: the 21-character GB/T 36904 form (the defining body's GB 32100
USCC plus a 3-digit sequence number, see :mod:`license_wallet.identifier`).
The codes here use the USCC ``11100000000013338W`` that prefixes the type codes
seen in published e-license identifiers, with **our own demo sequence
numbers**: they are not the official catalogue's assignments.

Values are text. :func:`validate_fields` checks a whole field set against the
schema and returns it normalised (a citizen ID's lower-case ``x`` → ``X``,
USCC letters upper-cased); every rejection is an
:class:`~license_wallet.errors.InvalidLicenseFields` naming the field and the
reason. Dates are ``YYYY-MM-DD`` (ISO 8601 calendar dates).
"""

from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from trust.identifiers import InvalidIdentifier, division, validate_citizen_id, validate_uscc

from .errors import InvalidLicenseFields, UnknownLicenseType

__all__ = [
    "COMMON_METADATA",
    "DECOY_DIGESTS",
    "FieldKind",
    "FieldSpec",
    "HolderCodeType",
    "LicenseType",
    "MetadataItem",
    "example_fields",
    "license_type",
    "license_types",
    "validate_field",
    "validate_fields",
]

#: Decoy digests added beyond the type's field count (see :attr:`LicenseType.digest_slots`).
DECOY_DIGESTS: Final = 1
_TYPE_PREFIX: Final = "11100000000013338W"


class FieldKind(StrEnum):
    """How a field's value is checked."""

    TEXT = "text"  #: printable text, no control characters, no edge whitespace
    DATE = "date"  #: ``YYYY-MM-DD``, a real calendar date
    ENUM = "enum"  #: one of :attr:`FieldSpec.choices`
    CITIZEN_ID = "citizen_id"  #: GB 11643 公民身份号码 with its MOD 11-2 check digit
    USCC = "uscc"  #: GB 32100 统一社会信用代码 with both check characters
    HOLDER_CODE = "holder_code"  #: checked according to the holder code type
    DIVISION = "division"  #: GB/T 2260 6-digit code whose province is known
    DECIMAL = "decimal"  #: non-negative decimal, up to 2 fraction digits
    CODE = "code"  #: upper-case ASCII letters, digits and ``-``


class HolderCodeType(StrEnum):
    """持证主体代码类型: which identifier ``holder_code`` is."""

    CITIZEN_ID = "citizen_id"  #: 公民身份号码 (GB 11643)
    USCC = "uscc"  #: 统一社会信用代码 (GB 32100)
    PASSPORT = "passport"  #: 护照号码 (upper-case letters and digits)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """One field of a license type's schema."""

    key: str  #: stable ASCII key (APIs, CLI, JSON)
    label: int  #: stable CBOR label inside a disclosure
    name_zh: str
    name_en: str
    kind: FieldKind
    required: bool
    max_length: int
    minimal: bool = False  #: shown by a "minimal" disclosure
    choices: tuple[str, ...] = ()  #: allowed values of an ENUM field


@dataclass(frozen=True, slots=True)
class MetadataItem:
    """One GB/T 36903 common metadata item and where a credential carries it."""

    name_zh: str
    name_en: str
    carried_as: str  #: ``type``, ``claim:<name>`` or ``field:<key>``


COMMON_METADATA: Final = (
    MetadataItem("证照名称", "license name", "type"),
    MetadataItem("证照类型代码", "license type code", "claim:type"),
    MetadataItem("电子证照标识", "e-license identifier", "claim:identifier"),
    MetadataItem("颁发机构代码", "issuing authority code", "claim:identifier"),
    MetadataItem("有效期起始日期", "valid from", "claim:nbf"),
    MetadataItem("有效期截止日期", "valid until", "claim:exp"),
    MetadataItem("证照编号", "license number", "field:license_number"),
    MetadataItem("颁发机构", "issuing authority", "field:issuer_name"),
    MetadataItem("颁发日期", "issue date", "field:issue_date"),
    MetadataItem("持证主体", "holder", "field:holder_name"),
    MetadataItem("持证主体代码", "holder code", "field:holder_code"),
    MetadataItem("持证主体代码类型", "holder code type", "field:holder_code_type"),
    MetadataItem("证照所属管辖属地", "jurisdiction", "field:jurisdiction"),
)


@dataclass(frozen=True, slots=True)
class LicenseType:
    """A license type: its code, names and field schema."""

    code: str  #: 证照类型代码, 21 characters (USCC + 3 digits)
    slug: str  #: short ASCII name, e.g. ``resident_id_card``
    name_zh: str  #: 证照名称
    name_en: str
    holder_code_types: tuple[HolderCodeType, ...]
    fields: tuple[FieldSpec, ...]

    @property
    def keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields)

    @property
    def minimal_keys(self) -> tuple[str, ...]:
        return tuple(f.key for f in self.fields if f.minimal)

    @property
    def digest_slots(self) -> int:
        """How many digests every credential of this type carries: one per schema
        field plus :data:`DECOY_DIGESTS`, whatever fields are present, so the
        count reveals the type (public anyway) and nothing else."""
        return len(self.fields) + DECOY_DIGESTS

    def field(self, key: str) -> FieldSpec | None:
        return _FIELD_INDEX[self.code][0].get(key)

    def field_by_label(self, label: int) -> FieldSpec | None:
        return _FIELD_INDEX[self.code][1].get(label)


# --------------------------------------------------------------------------- schemas

_K = FieldKind


def _f(
    key: str,
    label: int,
    zh: str,
    en: str,
    kind: FieldKind,
    max_length: int,
    *,
    required: bool = True,
    minimal: bool = False,
    choices: tuple[str, ...] = (),
) -> FieldSpec:
    return FieldSpec(key, label, zh, en, kind, required, max_length, minimal, choices)


def _common(
    *,
    holder_zh: str = "持证主体",
    license_number: bool = True,
    issue_date: bool = True,
    jurisdiction: bool = True,
    several_code_types: bool = False,
    holder_kind: FieldKind = FieldKind.HOLDER_CODE,
    minimal_code: bool = False,
) -> list[FieldSpec]:
    out = [
        _f("holder_name", 1, holder_zh, "holder", _K.TEXT, 100, minimal=True),
        _f("holder_code", 2, "持证主体代码", "holder code", holder_kind, 32, minimal=minimal_code),
    ]
    if several_code_types:
        out.append(
            _f(
                "holder_code_type",
                3,
                "持证主体代码类型",
                "holder code type",
                _K.ENUM,
                16,
                choices=tuple(HolderCodeType),
            )
        )
    if license_number:
        out.append(_f("license_number", 4, "证照编号", "license number", _K.TEXT, 40))
    out.append(_f("issuer_name", 5, "颁发机构", "issuing authority", _K.TEXT, 60))
    if issue_date:
        out.append(_f("issue_date", 6, "颁发日期", "issue date", _K.DATE, 10))
    if jurisdiction:
        out.append(
            _f(
                "jurisdiction",
                7,
                "证照所属管辖属地",
                "jurisdiction",
                _K.DIVISION,
                6,
                required=False,
            )
        )
    return out


_SEX = ("男", "女")

_TYPES: Final = (
    LicenseType(
        _TYPE_PREFIX + "001",
        "resident_id_card",
        "居民身份证",
        "Resident Identity Card",
        (HolderCodeType.CITIZEN_ID,),
        tuple(
            _common(
                holder_zh="姓名",
                license_number=False,
                issue_date=False,
                jurisdiction=False,
                minimal_code=True,
            )
            + [
                _f("sex", 16, "性别", "sex", _K.ENUM, 1, choices=_SEX),
                _f("ethnicity", 17, "民族", "ethnicity", _K.TEXT, 10),
                _f("birth_date", 18, "出生", "date of birth", _K.DATE, 10),
                _f("address", 19, "住址", "address", _K.TEXT, 70),
            ]
        ),
    ),
    LicenseType(
        _TYPE_PREFIX + "002",
        "business_license",
        "营业执照",
        "Business License",
        (HolderCodeType.USCC,),
        tuple(
            _common(holder_zh="名称", minimal_code=True)
            + [
                _f("entity_type", 16, "类型", "entity type", _K.TEXT, 40),
                _f("legal_representative", 17, "法定代表人", "legal representative", _K.TEXT, 30),
                _f("registered_capital", 18, "注册资本", "registered capital", _K.TEXT, 40),
                _f("established_date", 19, "成立日期", "date of establishment", _K.DATE, 10),
                _f("domicile", 20, "住所", "domicile", _K.TEXT, 100),
                _f("business_scope", 21, "经营范围", "business scope", _K.TEXT, 300),
            ]
        ),
    ),
    LicenseType(
        _TYPE_PREFIX + "003",
        "driving_license",
        "机动车驾驶证",
        "Motor Vehicle Driving License",
        (HolderCodeType.CITIZEN_ID,),
        tuple(
            _common(holder_zh="姓名", license_number=False)
            + [
                _f("sex", 16, "性别", "sex", _K.ENUM, 1, choices=_SEX),
                _f("nationality", 17, "国籍", "nationality", _K.TEXT, 20),
                _f("birth_date", 18, "出生日期", "date of birth", _K.DATE, 10),
                _f("address", 19, "住址", "address", _K.TEXT, 70),
                _f("first_issue_date", 20, "初次领证日期", "first issue date", _K.DATE, 10),
                _f(
                    "vehicle_class",
                    21,
                    "准驾车型",
                    "vehicle classes",
                    _K.CODE,
                    12,
                    minimal=True,
                ),
            ]
        ),
    ),
    LicenseType(
        _TYPE_PREFIX + "004",
        "marriage_certificate",
        "结婚证",
        "Marriage Certificate",
        (HolderCodeType.CITIZEN_ID,),
        tuple(
            _common(holder_zh="持证人")
            + [
                _f(
                    "registration_date",
                    16,
                    "登记日期",
                    "registration date",
                    _K.DATE,
                    10,
                    minimal=True,
                ),
                _f("spouse_name", 17, "配偶姓名", "spouse's name", _K.TEXT, 60, minimal=True),
                _f(
                    "spouse_id",
                    18,
                    "配偶身份证件号",
                    "spouse's citizen ID number",
                    _K.CITIZEN_ID,
                    18,
                    required=False,
                ),
                _f("holder_nationality", 19, "国籍", "nationality", _K.TEXT, 20, required=False),
                _f(
                    "spouse_nationality",
                    20,
                    "配偶国籍",
                    "spouse's nationality",
                    _K.TEXT,
                    20,
                    required=False,
                ),
            ]
        ),
    ),
    LicenseType(
        _TYPE_PREFIX + "005",
        "degree_certificate",
        "学位证书",
        "Degree Certificate",
        (HolderCodeType.CITIZEN_ID, HolderCodeType.PASSPORT),
        tuple(
            _common(holder_zh="姓名", several_code_types=True)
            + [
                _f("sex", 16, "性别", "sex", _K.ENUM, 1, choices=_SEX),
                _f("birth_date", 17, "出生日期", "date of birth", _K.DATE, 10),
                _f(
                    "degree",
                    18,
                    "学位",
                    "degree",
                    _K.ENUM,
                    2,
                    minimal=True,
                    choices=("学士", "硕士", "博士"),
                ),
                _f("discipline", 19, "学科门类", "discipline", _K.TEXT, 20),
                _f("major", 20, "专业", "major", _K.TEXT, 40),
                _f("institution", 21, "学位授予单位", "awarding institution", _K.TEXT, 40),
                _f("conferral_date", 22, "授予日期", "conferral date", _K.DATE, 10, minimal=True),
            ]
        ),
    ),
    LicenseType(
        _TYPE_PREFIX + "006",
        "real_estate_certificate",
        "不动产权证书",
        "Real Estate Title Certificate",
        (HolderCodeType.CITIZEN_ID, HolderCodeType.USCC, HolderCodeType.PASSPORT),
        tuple(
            _common(holder_zh="权利人", several_code_types=True)
            + [
                _f(
                    "co_ownership",
                    16,
                    "共有情况",
                    "co-ownership",
                    _K.ENUM,
                    4,
                    choices=("单独所有", "共同共有", "按份共有"),
                ),
                _f("location", 17, "坐落", "location", _K.TEXT, 100, minimal=True),
                _f("unit_number", 18, "不动产单元号", "real estate unit number", _K.CODE, 28),
                _f("right_type", 19, "权利类型", "type of right", _K.TEXT, 40),
                _f("right_nature", 20, "权利性质", "nature of right", _K.TEXT, 20),
                _f("usage", 21, "用途", "usage", _K.TEXT, 40),
                _f("area", 22, "面积（平方米）", "area (m²)", _K.DECIMAL, 12),
                _f("term", 23, "使用期限", "term of use", _K.TEXT, 60, required=False),
            ]
        ),
    ),
)

_BY_CODE: Final = MappingProxyType({t.code: t for t in _TYPES})
_FIELD_INDEX: Final = {
    t.code: ({f.key: f for f in t.fields}, {f.label: f for f in t.fields}) for t in _TYPES
}


def license_types() -> tuple[LicenseType, ...]:
    """Every license type of the catalogue, in code order."""
    return _TYPES


def license_type(code: str) -> LicenseType:
    """The license type with this 证照类型代码 (or slug); raises :class:`UnknownLicenseType`."""
    if isinstance(code, str):
        found = _BY_CODE.get(code)
        if found is not None:
            return found
        for t in _TYPES:
            if t.slug == code:
                return t
    raise UnknownLicenseType(f"unknown license type {code!r}")


# --------------------------------------------------------------------------- validation

_DATE_RE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_DECIMAL_RE: Final = re.compile(r"(0|[1-9]\d{0,8})(\.\d{1,2})?")
_CODE_RE: Final = re.compile(r"[0-9A-Z][0-9A-Z-]*")
_PASSPORT_RE: Final = re.compile(r"[0-9A-Z]{5,20}")


def _bad(field: str, code: str, message: str, reason: str | None = None) -> InvalidLicenseFields:
    return InvalidLicenseFields(message, code=code, field=field, reason=reason)


def _check_text(key: str, value: str) -> None:
    if value != value.strip():
        raise _bad(key, "field_bad_text", "leading or trailing whitespace")
    for c in value:
        if unicodedata.category(c)[0] == "C" or c in "\u2028\u2029":
            raise _bad(key, "field_bad_text", f"character U+{ord(c):04X} is not allowed")


def _parse_date(key: str, value: str) -> _dt.date:
    if not _DATE_RE.fullmatch(value):
        raise _bad(key, "field_bad_date", "expected YYYY-MM-DD")
    try:
        return _dt.date.fromisoformat(value)
    except ValueError:
        raise _bad(key, "field_bad_date", "no such calendar date") from None


def _check_holder_code(key: str, value: str, code_type: HolderCodeType) -> str:
    if code_type is HolderCodeType.CITIZEN_ID:
        return _check_kind(key, value, FieldKind.CITIZEN_ID)
    if code_type is HolderCodeType.USCC:
        return _check_kind(key, value, FieldKind.USCC)
    if not _PASSPORT_RE.fullmatch(value):
        raise _bad(key, "field_bad_code", "a passport number is 5-20 of 0-9A-Z")
    return value


def _check_kind(key: str, value: str, kind: FieldKind, choices: tuple[str, ...] = ()) -> str:
    if kind is FieldKind.TEXT:
        _check_text(key, value)
    elif kind is FieldKind.DATE:
        _parse_date(key, value)
    elif kind is FieldKind.ENUM:
        if value not in choices:
            raise _bad(key, "field_bad_enum", f"expected one of {', '.join(choices)}")
    elif kind is FieldKind.CITIZEN_ID:
        try:
            return validate_citizen_id(value).number
        except InvalidIdentifier as exc:
            raise _bad(key, "field_bad_citizen_id", exc.message, exc.reason) from None
    elif kind is FieldKind.USCC:
        try:
            return validate_uscc(value).code
        except InvalidIdentifier as exc:
            raise _bad(key, "field_bad_uscc", exc.message, exc.reason) from None
    elif kind is FieldKind.DIVISION:
        if (
            len(value) != 6
            or not value.isascii()
            or not value.isdigit()
            or division(value[:2] + "0000") is None
        ):
            raise _bad(key, "field_bad_division", "expected a GB/T 2260 6-digit division code")
    elif kind is FieldKind.DECIMAL:
        if not value.isascii() or not _DECIMAL_RE.fullmatch(value):
            raise _bad(key, "field_bad_decimal", "expected a decimal such as 89.5")
    elif kind is FieldKind.CODE:
        if not _CODE_RE.fullmatch(value):
            raise _bad(key, "field_bad_code", "expected upper-case ASCII letters, digits and -")
    return value


def validate_field(
    type_code: str, key: str, value: object, *, holder_code_type: HolderCodeType | None = None
) -> str:
    """Check one field value on its own; return it normalised.

    ``holder_code`` is checked against ``holder_code_type`` (default: the
    type's first holder code type). Raises :class:`UnknownLicenseType` or
    :class:`InvalidLicenseFields`."""
    lt = license_type(type_code)
    spec = lt.field(key) if isinstance(key, str) else None
    if spec is None:
        raise _bad(str(key), "field_unknown", f"{lt.name_zh} has no field {key!r}")
    if not isinstance(value, str):
        raise _bad(key, "field_not_text", "field values are text")
    if not value:
        raise _bad(key, "field_missing", "empty value")
    if len(value) > spec.max_length:
        raise _bad(key, "field_too_long", f"longer than {spec.max_length} characters")
    if spec.kind is FieldKind.HOLDER_CODE:
        return _check_holder_code(key, value, holder_code_type or lt.holder_code_types[0])
    return _check_kind(key, value, spec.kind, spec.choices)


def validate_fields(type_code: str, fields: Mapping[str, str]) -> dict[str, str]:
    """Check a license's fields against its type's schema; return them normalised.

    Order of checks: the type exists; every key is in the schema
    (``field_unknown``); every required field is present and non-empty
    (``field_missing``); each value on its own (type, length, kind); then
    consistency (``field_inconsistent``): the holder code type must be one the
    type allows, and where the holder code is a citizen ID number, the
    ``birth_date`` and ``sex`` fields must agree with it (GB 11643 encodes
    both). Raises :class:`UnknownLicenseType` or :class:`InvalidLicenseFields`.
    """
    lt = license_type(type_code)
    if not isinstance(fields, Mapping):
        raise _bad("*", "field_not_text", "fields must be a mapping of key to text")
    for key in fields:
        if not isinstance(key, str) or lt.field(key) is None:
            raise _bad(str(key), "field_unknown", f"{lt.name_zh} has no field {key!r}")
    for spec in lt.fields:
        if spec.required and not fields.get(spec.key):
            raise _bad(spec.key, "field_missing", f"{spec.name_zh} ({spec.key}) is required")
    code_type = lt.holder_code_types[0]
    if "holder_code_type" in fields:
        validate_field(type_code, "holder_code_type", fields["holder_code_type"])
        code_type = HolderCodeType(fields["holder_code_type"])
        if code_type not in lt.holder_code_types:
            raise _bad(
                "holder_code_type",
                "field_inconsistent",
                f"{lt.name_zh} holders are identified by {', '.join(lt.holder_code_types)}",
            )
    out = {
        key: validate_field(type_code, key, value, holder_code_type=code_type)
        for key, value in fields.items()
    }
    if code_type is HolderCodeType.CITIZEN_ID:
        cid = validate_citizen_id(out["holder_code"])
        if "birth_date" in out and _parse_date("birth_date", out["birth_date"]) != cid.birth_date:
            raise _bad("birth_date", "field_inconsistent", "differs from the citizen ID number")
        if "sex" in out and out["sex"] != ("男" if cid.sex == "M" else "女"):
            raise _bad("sex", "field_inconsistent", "differs from the citizen ID number")
    return out


# --------------------------------------------------------------------------- examples

_EXAMPLE_PERSON: Final = {
    "holder_name": "张晓明",
    "holder_code": "330106199003071236",
    "sex": "男",
    "birth_date": "1990-03-07",
    "address": "浙江省杭州市西湖区文三路100号3幢201室",
}
_EXAMPLES: Final[dict[str, dict[str, str]]] = {
    "resident_id_card": {
        **_EXAMPLE_PERSON,
        "issuer_name": "杭州市公安局西湖分局",
        "ethnicity": "汉",
    },
    "business_license": {
        "holder_name": "杭州云栖数据科技有限公司",
        "holder_code": "91330106MA2GL0DU82",
        "license_number": "330106000123456",
        "issuer_name": "杭州市西湖区市场监督管理局",
        "issue_date": "2023-08-01",
        "jurisdiction": "330106",
        "entity_type": "有限责任公司（自然人投资或控股）",
        "legal_representative": "王丽",
        "registered_capital": "500万元人民币",
        "established_date": "2019-04-12",
        "domicile": "浙江省杭州市西湖区西溪路556号8层",
        "business_scope": "技术服务、技术开发、技术咨询、技术交流、技术转让、技术推广；数据处理服务；软件开发",
    },
    "driving_license": {
        **_EXAMPLE_PERSON,
        "issuer_name": "浙江省杭州市公安局交通警察支队",
        "issue_date": "2022-06-30",
        "jurisdiction": "330100",
        "nationality": "中国",
        "first_issue_date": "2012-06-30",
        "vehicle_class": "C1",
    },
    "marriage_certificate": {
        "holder_name": "张晓明",
        "holder_code": "330106199003071236",
        "license_number": "J330106-2021-004512",
        "issuer_name": "杭州市西湖区民政局",
        "issue_date": "2021-05-20",
        "jurisdiction": "330106",
        "registration_date": "2021-05-20",
        "spouse_name": "李静",
        "spouse_id": "330102199201150028",
        "holder_nationality": "中国",
        "spouse_nationality": "中国",
    },
    "degree_certificate": {
        "holder_name": "张晓明",
        "holder_code": "330106199003071236",
        "holder_code_type": "citizen_id",
        "license_number": "1033542012000123",
        "issuer_name": "浙江大学",
        "issue_date": "2012-06-30",
        "jurisdiction": "330000",
        "sex": "男",
        "birth_date": "1990-03-07",
        "degree": "学士",
        "discipline": "工学",
        "major": "计算机科学与技术",
        "institution": "浙江大学",
        "conferral_date": "2012-06-30",
    },
    "real_estate_certificate": {
        "holder_name": "张晓明",
        "holder_code": "330106199003071236",
        "holder_code_type": "citizen_id",
        "license_number": "浙（2022）杭州市不动产权第0123456号",
        "issuer_name": "杭州市规划和自然资源局",
        "issue_date": "2022-09-15",
        "jurisdiction": "330106",
        "co_ownership": "单独所有",
        "location": "西湖区文三路100号3幢201室",
        "unit_number": "330106001001GB00012F00030201",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/市场化商品房",
        "usage": "城镇住宅用地/住宅",
        "area": "89.56",
        "term": "2005年03月01日起2075年02月28日止",
    },
}


def example_fields(type_code: str) -> dict[str, str]:
    """Made-up but valid fields of every field of ``type_code`` (demo, tests, benchmark).

    The people, companies and numbers are invented; the citizen ID numbers and
    USCCs carry correct check characters."""
    return dict(_EXAMPLES[license_type(type_code).slug])
