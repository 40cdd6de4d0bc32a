"""license_wallet.types: the license-type catalogue and field validation."""

from __future__ import annotations

from collections.abc import Mapping

import pytest

from license_wallet.errors import InvalidLicenseFields, LicenseError, UnknownLicenseType
from license_wallet.identifier import build_identifier
from license_wallet.types import (
    COMMON_METADATA,
    DECOY_DIGESTS,
    FieldKind,
    LicenseType,
    example_fields,
    license_type,
    license_types,
    validate_field,
    validate_fields,
)
from trust.errors import MalformedInput

REQUIRED_TYPES = {"居民身份证", "营业执照", "机动车驾驶证", "结婚证", "学位证书", "不动产权证书"}
ID_CARD = license_type("resident_id_card").code
BUSINESS = license_type("business_license").code
REAL_ESTATE = license_type("real_estate_certificate").code
ISSUER_USCC = "113300000024820150"


def test_catalogue_has_the_required_types() -> None:
    assert {t.name_zh for t in license_types()} >= REQUIRED_TYPES
    assert len({t.code for t in license_types()}) == len(license_types())
    assert len({t.slug for t in license_types()}) == len(license_types())


@pytest.mark.parametrize("lt", license_types(), ids=lambda t: t.slug)
def test_schema_shape(lt: LicenseType) -> None:
    # The type code is in the form GB/T 36904 identifiers take.
    assert str(build_identifier(lt.code, ISSUER_USCC, "1", 1)).count(lt.code) == 1
    keys = [f.key for f in lt.fields]
    labels = [f.label for f in lt.fields]
    assert len(set(keys)) == len(keys) and len(set(labels)) == len(labels)
    assert all(k.isascii() and k.isidentifier() for k in keys)
    assert all(0 < label < 24 for label in labels)  # one-byte CBOR labels
    assert all(f.name_zh and f.name_en and f.max_length > 0 for f in lt.fields)
    assert {"holder_name", "holder_code", "issuer_name"} <= set(keys)
    assert lt.minimal_keys and set(lt.minimal_keys) <= set(keys)
    assert all(f.choices for f in lt.fields if f.kind is FieldKind.ENUM)
    assert lt.digest_slots == len(keys) + DECOY_DIGESTS
    assert lt.field("nope") is None and lt.field_by_label(99) is None


@pytest.mark.parametrize("lt", license_types(), ids=lambda t: t.slug)
def test_example_fields_validate_and_cover_every_field(lt: LicenseType) -> None:
    fields = example_fields(lt.code)
    assert validate_fields(lt.code, fields) == fields
    assert set(fields) == set(lt.keys)


def test_common_metadata_covers_gbt_36903_items() -> None:
    names = {m.name_zh for m in COMMON_METADATA}
    for item in (
        "证照名称",
        "证照类型代码",
        "证照编号",
        "电子证照标识",
        "颁发机构",
        "颁发机构代码",
    ):
        assert item in names
    for item in ("颁发日期", "有效期起始日期", "有效期截止日期", "持证主体", "持证主体代码"):
        assert item in names
    assert {"持证主体代码类型", "证照所属管辖属地"} <= names


def test_type_lookup_by_code_and_slug() -> None:
    assert license_type(ID_CARD) is license_type("resident_id_card")
    assert license_type(ID_CARD).name_zh == "居民身份证"
    with pytest.raises(UnknownLicenseType) as exc:
        license_type("11100000000013338W999")
    assert exc.value.code == "license_type_unknown"
    with pytest.raises(UnknownLicenseType):
        validate_fields("nope", {})


def _bad(
    type_code: str, changes: Mapping[str, object], drop: tuple[str, ...] = ()
) -> InvalidLicenseFields:
    fields: dict[str, object] = {**example_fields(type_code), **changes}
    for key in drop:
        del fields[key]
    with pytest.raises(InvalidLicenseFields) as exc:
        validate_fields(type_code, fields)  # type: ignore[arg-type]
    assert isinstance(exc.value, LicenseError) and isinstance(exc.value, MalformedInput)
    return exc.value


@pytest.mark.parametrize(
    ("type_code", "changes", "drop", "field", "code"),
    [
        (ID_CARD, {"photo": "x"}, (), "photo", "field_unknown"),
        (ID_CARD, {"issue_date": "2020-05-18"}, (), "issue_date", "field_unknown"),
        (ID_CARD, {}, ("holder_name",), "holder_name", "field_missing"),
        (ID_CARD, {"address": ""}, (), "address", "field_missing"),
        (ID_CARD, {"holder_name": "张" * 101}, (), "holder_name", "field_too_long"),
        (ID_CARD, {"holder_name": 42}, (), "holder_name", "field_not_text"),
        (ID_CARD, {"holder_name": " 张三"}, (), "holder_name", "field_bad_text"),
        (ID_CARD, {"address": "杭州\n西湖"}, (), "address", "field_bad_text"),
        (ID_CARD, {"address": "杭州\u202e西湖"}, (), "address", "field_bad_text"),
        (ID_CARD, {"birth_date": "1990/03/07"}, (), "birth_date", "field_bad_date"),
        (ID_CARD, {"birth_date": "1990-02-30"}, (), "birth_date", "field_bad_date"),
        (ID_CARD, {"birth_date": "１９９０-03-07"}, (), "birth_date", "field_bad_date"),
        (ID_CARD, {"sex": "M"}, (), "sex", "field_bad_enum"),
        (ID_CARD, {"holder_code": "330106199003071235"}, (), "holder_code", "field_bad_citizen_id"),
        (ID_CARD, {"birth_date": "1990-03-08"}, (), "birth_date", "field_inconsistent"),
        (ID_CARD, {"sex": "女"}, (), "sex", "field_inconsistent"),
        (BUSINESS, {"holder_code": "91330106MA2GL0DU83"}, (), "holder_code", "field_bad_uscc"),
        (BUSINESS, {"jurisdiction": "990106"}, (), "jurisdiction", "field_bad_division"),
        (BUSINESS, {"jurisdiction": "33010"}, (), "jurisdiction", "field_bad_division"),
        (REAL_ESTATE, {"area": "-1"}, (), "area", "field_bad_decimal"),
        (REAL_ESTATE, {"area": "89.567"}, (), "area", "field_bad_decimal"),
        (REAL_ESTATE, {"unit_number": "33010600100lgb"}, (), "unit_number", "field_bad_code"),
        (REAL_ESTATE, {"holder_code_type": "uscc"}, (), "holder_code", "field_bad_uscc"),
        (REAL_ESTATE, {"holder_code_type": "driver"}, (), "holder_code_type", "field_bad_enum"),
        (
            license_type("degree_certificate").code,
            {"holder_code_type": "uscc"},
            (),
            "holder_code_type",
            "field_inconsistent",
        ),
    ],
)
def test_validation_names_field_and_reason(
    type_code: str, changes: dict[str, object], drop: tuple[str, ...], field: str, code: str
) -> None:
    err = _bad(type_code, changes, drop)
    assert (err.field, err.code) == (field, code)


def test_checksum_failure_carries_the_identifier_reason() -> None:
    err = _bad(ID_CARD, {"holder_code": "330106199003071235"})
    assert err.reason == "bad_check_char"


def test_optional_fields_may_be_absent() -> None:
    fields = example_fields(BUSINESS)
    del fields["jurisdiction"]
    assert validate_fields(BUSINESS, fields) == fields


def test_values_are_normalised() -> None:
    fields = example_fields(license_type("marriage_certificate").code)
    # A lower-case x check character is accepted and upper-cased (GB 11643 input rule).
    fields["spouse_id"] = "11010519491231002x"
    out = validate_fields(license_type("marriage_certificate").code, fields)
    assert out["spouse_id"] == "11010519491231002X"
    assert validate_field(BUSINESS, "holder_code", "91330106ma2gl0du82") == "91330106MA2GL0DU82"


def test_passport_holder_code() -> None:
    fields = example_fields(REAL_ESTATE)
    fields.update(holder_code_type="passport", holder_code="E12345678")
    assert validate_fields(REAL_ESTATE, fields)["holder_code"] == "E12345678"
    fields["holder_code"] = "e1"
    assert _bad(REAL_ESTATE, fields).code == "field_bad_code"


def test_fields_must_be_a_mapping() -> None:
    with pytest.raises(InvalidLicenseFields):
        validate_fields(ID_CARD, [("holder_name", "x")])  # type: ignore[arg-type]
    with pytest.raises(InvalidLicenseFields) as exc:
        validate_field(ID_CARD, "nope", "x")
    assert exc.value.code == "field_unknown"
