"""Home-made SES seals, SES signatures and OFD packages for the seal_service tests.

Not a sealing implementation: just enough to make well-formed structures with
keys and certificates we control (a GovTrust test PKI), so the tests can reach
PASSED, and can break one thing at a time. The ofdrw vectors cover interop.
"""

from __future__ import annotations

import base64
import io
import warnings
import zipfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from asn1crypto import core

from seal_service import ses
from trust.algorithms import OID
from trust.crypto import PrivateKey, generate_private_key
from trust.hashes import sm3
from trust.pki import Certificate, issue_end_entity, issue_root
from trust.sigenc import der_to_raw

T0 = datetime(2024, 1, 1, tzinfo=UTC)
T_END = datetime(2034, 1, 1, tzinfo=UTC)
SIGNING_TIME = datetime(2025, 6, 1, 12, 0, 0, tzinfo=UTC)
NS = "http://www.ofdspec.org/2016"


@dataclass
class TestPKI:
    __test__ = False  # not a pytest test class

    root_key: PrivateKey
    root: Certificate
    maker_key: PrivateKey
    maker: Certificate
    holder_key: PrivateKey
    holder: Certificate


def make_pki(*, holder_not_after: datetime = T_END) -> TestPKI:
    root_key = generate_private_key("sm2")
    root = issue_root(
        root_key.signer("SM2"), "CN=GovTrust Test Seal Root,O=GovTrust,C=CN",
        not_before=T0, not_after=T_END,
    )  # fmt: skip
    maker_key = generate_private_key("sm2")
    maker = issue_end_entity(
        root_key.signer("SM2"), root, maker_key.public_key(), "CN=Test Seal Maker,O=GovTrust,C=CN",
        purpose="seal", not_before=T0, not_after=T_END,
    )  # fmt: skip
    holder_key = generate_private_key("sm2")
    holder = issue_end_entity(
        root_key.signer("SM2"), root, holder_key.public_key(), "CN=测试机关,O=GovTrust,C=CN",
        purpose="seal", not_before=T0, not_after=holder_not_after,
    )  # fmt: skip
    return TestPKI(root_key, root, maker_key, maker, holder_key, holder)


# --------------------------------------------------------------------------- signature encodings


def der(sig: bytes) -> bytes:
    return sig


def raw(sig: bytes) -> bytes:
    """Raw 64-byte r‖s, as some real seal files carry."""
    return der_to_raw(sig, 32)


def non_minimal_der(sig: bytes) -> bytes:
    """The same (r, s) with a long-form outer length (accepted when verifying, never emitted)."""
    assert sig[0] == 0x30 and sig[1] < 0x80
    return b"\x30\x81" + sig[1:]


Encoder = Callable[[bytes], bytes]


def _len(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    body = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(body)]) + body


def _time(value: datetime, utc: bool = False) -> ses._Time:
    return ses._Time(name="utc" if utc else "general", value=value)


def _picture() -> ses.SESESPictrueInfo:
    return ses.SESESPictrueInfo(
        {"type": "PNG", "data": b"\x89PNG\r\n\x1a\nnot-a-real-image", "width": 40, "height": 40}
    )


# --------------------------------------------------------------------------- seals


def seal_v4(
    pki: TestPKI,
    *,
    valid_start: datetime = T0,
    valid_end: datetime = T_END,
    version: int = 4,
    cert_list_type: int = 1,
    holder_certs: tuple[Certificate, ...] | None = None,
    digest_type: str = "sm3",
    alg: str = OID.SM3_WITH_SM2,
    time_stamp: bytes | None = None,
    encode: Encoder = der,
    name: str = "GovTrust 测试印章",
    es_id: str = "11010000000001",
) -> bytes:
    certs = holder_certs if holder_certs is not None else (pki.holder,)
    if cert_list_type == 1:
        cert_list: core.Asn1Value = ses.SESCertInfoList([c.der for c in certs])
    else:
        cert_list = ses.SESCertDigestList(
            [{"type": digest_type, "value": sm3(c.der)} for c in certs]
        )
    info = ses.SESSealInfoV4(
        {
            "header": {"id": "ES", "version": version, "vid": "GovTrustTest"},
            "es_id": es_id,
            "property": ses.SESESPropertyInfoV4(
                {
                    "type": 1,
                    "name": ses._Text(name="utf8", value=name),
                    "cert_list_type": cert_list_type,
                    "cert_list": cert_list,
                    "create_date": _time(valid_start),
                    "valid_start": _time(valid_start),
                    "valid_end": _time(valid_end),
                }
            ),
            "picture": _picture(),
        }
    )
    signature = encode(pki.maker_key.sign("SM2", info.dump()))
    fields = {
        "seal_info": info,
        "cert": pki.maker.der,
        "sign_alg_id": alg,
        "signed_value": signature,
    }
    if time_stamp is not None:
        fields["time_stamp"] = core.OctetBitString(time_stamp, explicit=0)
    return ses.SESealV4(fields).dump()


def seal_v1(
    pki: TestPKI,
    *,
    valid_start: datetime = T0,
    valid_end: datetime = T_END,
    signed: str = "gmt0031",
) -> bytes:
    """A GM/T 0031-2014 seal. ``signed="info"`` signs DER(SES_SealInfo) instead (wrong for v1)."""
    info = ses.SESSealInfoV1(
        {
            "header": {"id": "ES", "version": 1, "vid": "GovTrustTest"},
            "es_id": "11010000000002",
            "property": ses.SESESPropertyInfoV1(
                {
                    "type": 1,
                    "name": ses._Text(name="utf8", value="GovTrust v1 测试印章"),
                    "cert_list": [pki.holder.der],
                    "create_date": _time(valid_start, utc=True),
                    "valid_start": _time(valid_start, utc=True),
                    "valid_end": _time(valid_end, utc=True),
                }
            ),
            "picture": _picture(),
        }
    )
    cert = core.OctetString(pki.maker.der)
    oid = core.ObjectIdentifier(OID.SM3_WITH_SM2)
    body = info.dump() + cert.dump() + oid.dump()
    tbs = b"\x30" + _len(len(body)) + body if signed == "gmt0031" else info.dump()
    sign_info = ses.SESSignInfoV1(
        {"cert": cert, "signature_algorithm": oid, "sign_data": pki.maker_key.sign("SM2", tbs)}
    )
    return ses.SESealV1({"seal_info": info, "sign_info": sign_info}).dump()


# --------------------------------------------------------------------------- signatures


def signature_v4(
    pki: TestPKI,
    seal_der: bytes,
    *,
    data_hash: bytes,
    property_info: str = "/Doc_0/Signs/Sign_0/Signature.xml",
    time_info: datetime = SIGNING_TIME,
    version: int = 4,
    signer_key: PrivateKey | None = None,
    signer_cert: Certificate | None = None,
    encode: Encoder = der,
    alg: str = OID.SM3_WITH_SM2,
    time_stamp: bytes | None = None,
) -> bytes:
    tbs = ses.TBSSignV4(
        {
            "version": version,
            "eseal": ses.SESealV4.load(seal_der),
            "time_info": _time(time_info),
            "data_hash": data_hash,
            "property_info": property_info,
        }
    )
    key = signer_key or pki.holder_key
    fields = {
        "to_sign": tbs,
        "cert": (signer_cert or pki.holder).der,
        "signature_alg_id": alg,
        "signature": encode(key.sign("SM2", tbs.dump())),
    }
    if time_stamp is not None:
        fields["time_stamp"] = core.OctetBitString(time_stamp, explicit=0)
    return ses.SESSignatureV4(fields).dump()


def signature_v1(
    pki: TestPKI,
    seal_der: bytes,
    *,
    data_hash: bytes,
    time_info: bytes = b"250601120000Z",
    property_info: str = "/Doc_0/Signs/Sign_0/Signature.xml",
) -> bytes:
    tbs = ses.TBSSignV1(
        {
            "version": 1,
            "eseal": ses.SESealV1.load(seal_der),
            "time_info": ses._Bytes(name="bits", value=time_info),
            "data_hash": ses._Bytes(name="bits", value=data_hash),
            "property_info": property_info,
            "cert": pki.holder.der,
            "signature_algorithm": OID.SM3_WITH_SM2,
        }
    )
    signature = pki.holder_key.sign("SM2", tbs.dump())
    return ses.SESSignatureV1({"to_sign": tbs, "signature": signature}).dump()


# --------------------------------------------------------------------------- OFD packages


def zip_package(files: Mapping[str, bytes], *, compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A ZIP with exactly these entries (duplicates allowed when given as a list of pairs)."""
    out = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        with zipfile.ZipFile(out, "w", compression) as z:
            items = files.items() if isinstance(files, Mapping) else files
            for name, data in items:
                z.writestr(name, data)
    return out.getvalue()


def read_package(data: bytes) -> dict[str, bytes]:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return {i.filename: z.read(i) for i in z.infolist() if not i.is_dir()}


def replace_parts(data: bytes, changes: Mapping[str, bytes | None]) -> bytes:
    """Rebuild an OFD ZIP with some parts replaced (``None`` removes the part)."""
    parts = read_package(data)
    for name, value in changes.items():
        if value is None:
            parts.pop(name, None)
        else:
            parts[name] = value
    return zip_package(parts)


def flip(data: bytes, index: int, mask: int = 0x01) -> bytes:
    b = bytearray(data)
    b[index] ^= mask
    return bytes(b)


UNSIGNED_PARTS: dict[str, bytes] = {
    "OFD.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD xmlns:ofd="{NS}" Version="1.0" DocType="OFD">'
        "<ofd:DocBody><ofd:DocInfo><ofd:DocID>govtrust-test</ofd:DocID></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot>"
        "<ofd:Signatures>Doc_0/Signs/Signatures.xml</ofd:Signatures></ofd:DocBody></ofd:OFD>"
    ).encode(),
    "Doc_0/Document.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document xmlns:ofd="{NS}"><ofd:CommonData>'
        "<ofd:MaxUnitID>3</ofd:MaxUnitID></ofd:CommonData><ofd:Pages>"
        '<ofd:Page ID="1" BaseLoc="Pages/Page_0/Content.xml"/></ofd:Pages></ofd:Document>'
    ).encode(),
    "Doc_0/Pages/Page_0/Content.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page xmlns:ofd="{NS}"><ofd:Content>'
        '<ofd:Layer ID="2"><ofd:TextObject ID="3" Boundary="10 10 100 10">'
        '<ofd:TextCode X="0" Y="5">准予登记</ofd:TextCode></ofd:TextObject></ofd:Layer>'
        "</ofd:Content></ofd:Page>"
    ).encode(),
}


def signature_xml(
    parts: Mapping[str, bytes],
    *,
    refs: tuple[str, ...] = ("OFD.xml", "Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml"),
    check_method: str = "1.2.156.10197.1.401",
    digest: Callable[[bytes], bytes] = sm3,
    extra_refs: tuple[tuple[str, str], ...] = (),
    signed_value: str = "/Doc_0/Signs/Sign_0/SignedValue.dat",
    seal_loc: str | None = None,
    date_time: str = "20250601120000Z",
) -> bytes:
    references = "".join(
        f'<ofd:Reference FileRef="/{p}"><ofd:CheckValue>'
        f"{base64.b64encode(digest(parts[p])).decode()}</ofd:CheckValue></ofd:Reference>"
        for p in refs
    ) + "".join(
        f'<ofd:Reference FileRef="{p}"><ofd:CheckValue>{v}</ofd:CheckValue></ofd:Reference>'
        for p, v in extra_refs
    )
    seal = f"<ofd:Seal><ofd:BaseLoc>{seal_loc}</ofd:BaseLoc></ofd:Seal>" if seal_loc else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signature xmlns:ofd="{NS}"><ofd:SignedInfo>'
        '<ofd:Provider ProviderName="GovTrust" Company="GovTrust" Version="0.1"/>'
        "<ofd:SignatureMethod>1.2.156.10197.1.501</ofd:SignatureMethod>"
        f"<ofd:SignatureDateTime>{date_time}</ofd:SignatureDateTime>"
        f'<ofd:References CheckMethod="{check_method}">{references}</ofd:References>'
        f'<ofd:StampAnnot ID="9" PageRef="1" Boundary="50 50 40 40"/>{seal}'
        f"</ofd:SignedInfo><ofd:SignedValue>{signed_value}</ofd:SignedValue></ofd:Signature>"
    ).encode()


def signatures_xml(*entries: tuple[str, str, str]) -> bytes:
    """Signatures.xml with (ID, Type, BaseLoc) entries."""
    body = "".join(f'<ofd:Signature ID="{i}" Type="{t}" BaseLoc="{b}"/>' for i, t, b in entries)
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Signatures xmlns:ofd="{NS}">'
        f"<ofd:MaxSignId>{len(entries)}</ofd:MaxSignId>{body}</ofd:Signatures>"
    ).encode()


def sealed_ofd(
    pki: TestPKI,
    *,
    seal: bytes | None = None,
    with_seal_file: bool = True,
    time_info: datetime = SIGNING_TIME,
    **signature_kwargs: object,
) -> bytes:
    """A one-page OFD sealed (Type="Seal") with a home-made v4 seal."""
    parts = dict(UNSIGNED_PARTS)
    seal = seal or seal_v4(pki)
    refs: tuple[str, ...] = ("OFD.xml", "Doc_0/Document.xml", "Doc_0/Pages/Page_0/Content.xml")
    seal_loc = None
    if with_seal_file:
        parts["Doc_0/Signs/Sign_0/Seal.esl"] = seal
        refs = (*refs, "Doc_0/Signs/Sign_0/Seal.esl")
        seal_loc = "/Doc_0/Signs/Sign_0/Seal.esl"
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(("1", "Seal", "Sign_0/Signature.xml"))
    xml = signature_xml(parts, refs=refs, seal_loc=seal_loc)
    parts["Doc_0/Signs/Sign_0/Signature.xml"] = xml
    parts["Doc_0/Signs/Sign_0/SignedValue.dat"] = signature_v4(
        pki,
        seal,
        data_hash=sm3(xml),
        time_info=time_info,
        **signature_kwargs,  # type: ignore[arg-type]
    )
    return zip_package(parts)


def signed_ofd(
    pki: TestPKI, *, encode: Encoder = der, date_time: str = "2025-06-01 20:00:00"
) -> bytes:
    """A one-page OFD with a bare SM2 signature (Type="Sign") by the holder key."""
    parts = dict(UNSIGNED_PARTS)
    parts["Doc_0/Signs/Signatures.xml"] = signatures_xml(
        ("s1", "Sign", "/Doc_0/Signs/Sign_0/Signature.xml")
    )
    xml = signature_xml(parts, check_method="SM3", date_time=date_time)
    parts["Doc_0/Signs/Sign_0/Signature.xml"] = xml
    parts["Doc_0/Signs/Sign_0/SignedValue.dat"] = encode(pki.holder_key.sign("SM2", xml))
    return zip_package(parts)
