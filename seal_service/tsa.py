"""An RFC 3161 time-stamping authority and token verifier (Flask-free, database-free).

:class:`TimeStampAuthority` answers a DER ``TimeStampReq`` (RFC 3161 §2.4.1)
with a DER ``TimeStampResp`` (§2.4.2). A granted response carries a token: a
CMS SignedData (:mod:`trust.cms`) whose eContent is the ``TSTInfo`` and whose
signed attributes include ESS signing-certificate-v2 (RFC 5816 / RFC 5035)
binding the TSA certificate. A refused request gets ``rejection`` with the
PKIFailureInfo bit of §2.4.2: ``badAlg`` (imprint hash not accepted),
``badDataFormat`` (not DER, wrong digest length, too large), ``badRequest``
(version, nonce), ``unacceptedPolicy``, ``unacceptedExtension``,
``systemFailure`` (the clock or the signer failed).

TSA keys: SM2 (SM2-with-SM3, GB/T 35275 algorithm identifiers; SM3 message
imprints accepted) and ECDSA P-256. The TSA certificate must carry
id-kp-timeStamping as its only, critical, extendedKeyUsage (§2.3) —
:func:`trust.pki.issue_end_entity` with ``purpose="tsa"`` issues exactly that.

TSTInfo as issued: version 1, the TSA policy (or the requested one when it is
accepted), the imprint as requested, a serial from ``serial_source``, genTime in
whole seconds (GeneralizedTime ``Z``), accuracy (default 1 s), ordering false
(omitted, DER default), the nonce echoed, no extensions.

:func:`verify_timestamp_token` checks, in order: CMS structure and signature,
eContentType id-ct-TSTInfo, the TSTInfo (DER, version 1), the message imprint,
the nonce, the policy (if the caller restricts it), the ESS signing-certificate
(v1 or v2) attribute against the signer certificate, the TSA certificate's EKU,
and the certificate path to ``trusted_certs`` at genTime. Failures raise
:class:`TsaError` with a stable ``code``.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any, Final

from asn1crypto import core as asn1_core
from asn1crypto import tsp as asn1_tsp
from asn1crypto import x509 as asn1_x509

from trust.algorithms import KeyFamily
from trust.cms import (
    DIGEST_OIDS,
    ID_CT_TST_INFO,
    CmsError,
    hash_data,
    sign_encapsulated,
    verify_encapsulated,
)
from trust.crypto import Signer
from trust.errors import CertificateError, TrustError
from trust.pki import EKU_TIME_STAMPING, Certificate, Name, validate_path

__all__ = [
    "TsaError",
    "PKIFailure",
    "TimeStampAuthority",
    "TimestampInfo",
    "TimestampResponse",
    "make_request",
    "new_nonce",
    "parse_response",
    "verify_timestamp_token",
    "verify_timestamp_response",
    "ATTR_SIGNING_CERTIFICATE",
    "ATTR_SIGNING_CERTIFICATE_V2",
    "IMPRINT_ALGORITHMS",
]

MAX_REQUEST_SIZE: Final = 8 * 1024
MAX_RESPONSE_SIZE: Final = 256 * 1024
MAX_NONCE_BITS: Final = 160
ATTR_SIGNING_CERTIFICATE: Final = "1.2.840.113549.1.9.16.2.12"  # RFC 2634 §5.4
ATTR_SIGNING_CERTIFICATE_V2: Final = "1.2.840.113549.1.9.16.2.47"  # RFC 5035 §3
_EXT_EKU: Final = "2.5.29.37"
#: message-imprint hash algorithms a TSA accepts by default (no SHA-1)
IMPRINT_ALGORITHMS: Final = ("sha256", "sha384", "sha512", "sm3")
_DIGEST_SIZES: Final = {"sm3": 32, "sha256": 32, "sha384": 48, "sha512": 64, "sha1": 20}
_DIGEST_NAMES: Final = {oid: name for name, oid in DIGEST_OIDS.items()}
_STATUS_CODES: Final = {name: value for value, name in asn1_tsp.PKIStatus._map.items()}
_FAILURE_BITS: Final = {name: bit for bit, name in asn1_tsp.PKIFailureInfo._map.items()}
_TSA_ALGORITHMS: Final = {KeyFamily.SM2: "SM2", KeyFamily.P256: "ES256"}


class TsaError(TrustError):
    """A time-stamp request, response or token is not acceptable."""

    code = "tsa_error"


class PKIFailure(IntEnum):
    """PKIFailureInfo bits (RFC 3161 §2.4.2)."""

    BAD_ALG = 0
    BAD_REQUEST = 2
    BAD_DATA_FORMAT = 5
    TIME_NOT_AVAILABLE = 14
    UNACCEPTED_POLICY = 15
    UNACCEPTED_EXTENSION = 16
    ADD_INFO_NOT_AVAILABLE = 17
    SYSTEM_FAILURE = 25


class _Rejected(Exception):
    def __init__(self, failure: PKIFailure, text: str) -> None:
        super().__init__(text)
        self.failure = failure
        self.text = text


class _TimeStampResp(asn1_core.Sequence):  # type: ignore[misc]
    """RFC 3161 §2.4.2: the token is OPTIONAL (absent when rejected)."""

    _fields = [
        ("status", asn1_tsp.PKIStatusInfo),
        ("time_stamp_token", asn1_core.Any, {"optional": True}),
    ]


_PARSE_ERRORS: Final = (
    ValueError,
    TypeError,
    KeyError,
    IndexError,
    AttributeError,
    OverflowError,
    RecursionError,
    LookupError,
    NotImplementedError,
    ArithmeticError,
    UnicodeError,
)


def _load_der(cls: Any, der: bytes) -> Any:
    """Parse ``der`` as ``cls`` and insist it is DER (a re-encoding gives the same bytes)."""
    value = cls.load(der, strict=True)
    if bytes(cls.load(der, strict=True).dump(force=True)) != der:
        raise ValueError("not DER")
    return value


def _digest_name(alg: Any) -> str | None:
    name = _DIGEST_NAMES.get(alg["algorithm"].dotted)
    params = alg["parameters"]
    if not (isinstance(params, asn1_core.Void) or bytes(params.dump()) == b"\x05\x00"):
        return None
    return name


# --------------------------------------------------------------------------- requests


def new_nonce() -> int:
    """A fresh 64-bit random nonce (what OpenSSL sends)."""
    return secrets.randbits(63) | (1 << 62)


def make_request(
    digest_alg: str,
    digest: bytes,
    *,
    nonce: int | None = None,
    cert_req: bool = True,
    policy: str | None = None,
) -> bytes:
    """A DER TimeStampReq for ``digest`` (hash name per :data:`trust.cms.DIGEST_OIDS`)."""
    if digest_alg not in IMPRINT_ALGORITHMS:
        raise TsaError(f"imprint digest {digest_alg!r} not supported", code="unsupported_algorithm")
    if not isinstance(digest, bytes) or len(digest) != _DIGEST_SIZES[digest_alg]:
        raise TsaError(
            f"a {digest_alg} digest is {_DIGEST_SIZES[digest_alg]} bytes", code="invalid_argument"
        )
    fields: dict[str, Any] = {
        "version": "v1",
        "message_imprint": {
            "hash_algorithm": {"algorithm": DIGEST_OIDS[digest_alg]},
            "hashed_message": digest,
        },
        "cert_req": cert_req,
    }
    if policy is not None:
        fields["req_policy"] = policy
    if nonce is not None:
        if not isinstance(nonce, int) or nonce < 0 or nonce.bit_length() > MAX_NONCE_BITS:
            raise TsaError(
                "nonce must be a non-negative integer of ≤ 160 bits", code="invalid_argument"
            )
        fields["nonce"] = nonce
    return bytes(asn1_tsp.TimeStampReq(fields).dump(force=True))


# --------------------------------------------------------------------------- the authority


def _generalized_time(value: datetime) -> asn1_core.GeneralizedTime:
    return asn1_core.GeneralizedTime(value.astimezone(UTC).replace(microsecond=0))


def _ess_cert_id_v2(certificate: Certificate) -> bytes:
    asn1_cert = asn1_x509.Certificate.load(certificate.der)
    value = asn1_tsp.SigningCertificateV2(
        {
            "certs": [
                {
                    # hashAlgorithm omitted: DEFAULT id-sha256 (RFC 5035 §4)
                    "cert_hash": hash_data("sha256", certificate.der),
                    "issuer_serial": {
                        "issuer": [
                            asn1_x509.GeneralName(name="directory_name", value=asn1_cert.issuer)
                        ],
                        "serial_number": certificate.serial,
                    },
                }
            ]
        }
    )
    return bytes(value.dump(force=True))


def _is_tsa_certificate(cert: Certificate) -> bool:
    ext = cert.extension(_EXT_EKU)
    return (
        ext is not None
        and ext.critical
        and cert.extended_key_usage == frozenset({EKU_TIME_STAMPING})
        and not cert.is_ca
    )


class TimeStampAuthority:
    """Answers RFC 3161 requests with tokens signed by ``signer``.

    ``clock()`` returns an aware datetime; ``serial_source()`` returns a fresh
    positive integer for every granted token (uniqueness is its job: a database
    sequence in production). ``accepted_policies`` are further policies a client
    may request; ``policy_oid`` is used when the request names none.
    """

    def __init__(
        self,
        signer: Signer,
        certificate: Certificate,
        chain: Sequence[Certificate],
        policy_oid: str,
        clock: Callable[[], datetime],
        serial_source: Callable[[], int],
        *,
        accepted_policies: Collection[str] = (),
        accuracy: timedelta = timedelta(seconds=1),
        imprint_algorithms: Collection[str] = IMPRINT_ALGORITHMS,
        gm_content_types: bool = False,
    ) -> None:
        expected = _TSA_ALGORITHMS.get(signer.algorithm.family)
        if expected != signer.algorithm.name:
            raise TsaError(
                f"a TSA signs with SM2 or ES256, not {signer.algorithm.name}",
                code="unsupported_algorithm",
            )
        if signer.public_key != certificate.public_key:
            raise TsaError(
                "the signer's key is not the TSA certificate's key", code="invalid_argument"
            )
        if not _is_tsa_certificate(certificate):
            raise TsaError(
                "the TSA certificate needs id-kp-timeStamping as its only, critical, EKU",
                code="tsa_certificate_purpose",
            )
        try:
            asn1_core.ObjectIdentifier(policy_oid).dump()
        except (ValueError, TypeError):
            raise TsaError(f"bad policy OID {policy_oid!r}", code="invalid_argument") from None
        if not isinstance(accuracy, timedelta) or accuracy <= timedelta(0):
            raise TsaError("accuracy must be a positive timedelta", code="invalid_argument")
        unknown = set(imprint_algorithms) - set(IMPRINT_ALGORITHMS)
        if unknown or not imprint_algorithms:
            raise TsaError(
                f"imprint algorithms {sorted(unknown)} not supported", code="invalid_argument"
            )
        self._signer = signer
        self.certificate = certificate
        self.chain = tuple(chain)
        self.policy_oid = policy_oid
        self._policies = frozenset({policy_oid, *accepted_policies})
        self._clock = clock
        self._serial_source = serial_source
        self.accuracy = accuracy
        self._imprint_oids = {DIGEST_OIDS[n]: n for n in imprint_algorithms}
        self._gm = gm_content_types
        self._ess = _ess_cert_id_v2(certificate)

    # -- request handling

    def _parse(self, request_der: bytes) -> Any:
        if not isinstance(request_der, bytes | bytearray | memoryview):
            raise _Rejected(PKIFailure.BAD_DATA_FORMAT, "request must be bytes")
        request_der = bytes(request_der)
        if len(request_der) > MAX_REQUEST_SIZE:
            raise _Rejected(PKIFailure.BAD_DATA_FORMAT, "request too large")
        try:
            req = _load_der(asn1_tsp.TimeStampReq, request_der)
            version = req["version"].native
            imprint = req["message_imprint"]
            alg = imprint["hash_algorithm"]
            alg_oid = alg["algorithm"].dotted
            params_ok = _digest_name(alg) is not None or alg_oid not in _DIGEST_NAMES
            hashed = imprint["hashed_message"].native
            policy = req["req_policy"]
            policy_oid = None if isinstance(policy, asn1_core.Void) else policy.dotted
            nonce = req["nonce"].native
            cert_req = bool(req["cert_req"].native)
            has_extensions = not isinstance(req["extensions"], asn1_core.Void)
        except _PARSE_ERRORS:
            raise _Rejected(PKIFailure.BAD_DATA_FORMAT, "not a DER TimeStampReq") from None
        if version != "v1":
            raise _Rejected(PKIFailure.BAD_REQUEST, "version must be 1")
        name = self._imprint_oids.get(alg_oid)
        if name is None or not params_ok:
            raise _Rejected(PKIFailure.BAD_ALG, f"imprint algorithm {alg_oid} not accepted")
        if not isinstance(hashed, bytes) or len(hashed) != _DIGEST_SIZES[name]:
            raise _Rejected(
                PKIFailure.BAD_DATA_FORMAT, f"a {name} imprint is {_DIGEST_SIZES[name]} bytes"
            )
        if policy_oid is not None and policy_oid not in self._policies:
            raise _Rejected(PKIFailure.UNACCEPTED_POLICY, f"policy {policy_oid} not accepted")
        if has_extensions:
            raise _Rejected(PKIFailure.UNACCEPTED_EXTENSION, "no request extensions are supported")
        if nonce is not None and (nonce < 0 or nonce.bit_length() > MAX_NONCE_BITS):
            raise _Rejected(PKIFailure.BAD_REQUEST, "nonce out of range")
        return req, policy_oid or self.policy_oid, nonce, cert_req

    def _accuracy(self) -> dict[str, int]:
        total_us = self.accuracy // timedelta(microseconds=1)
        seconds, rest = divmod(total_us, 1_000_000)
        millis, micros = divmod(rest, 1000)
        out = {}
        if seconds:
            out["seconds"] = seconds
        if millis:
            out["millis"] = millis
        if micros:
            out["micros"] = micros
        return out

    def respond(self, request_der: bytes) -> bytes:
        """DER TimeStampResp for ``request_der``; never raises for a bad request."""
        try:
            req, policy, nonce, cert_req = self._parse(request_der)
            try:
                now = self._clock()
                if not isinstance(now, datetime) or now.tzinfo is None:
                    raise ValueError
            except Exception:  # noqa: BLE001 - any clock fault is "time not available"
                raise _Rejected(PKIFailure.TIME_NOT_AVAILABLE, "the TSA clock failed") from None
            serial = self._serial_source()
            if not isinstance(serial, int) or serial <= 0 or serial.bit_length() > 160:
                raise _Rejected(PKIFailure.SYSTEM_FAILURE, "serial source failed")
            tst: dict[str, Any] = {
                "version": "v1",
                "policy": policy,
                "message_imprint": req["message_imprint"],
                "serial_number": serial,
                "gen_time": _generalized_time(now),
                "accuracy": self._accuracy(),
            }
            if nonce is not None:
                tst["nonce"] = nonce
            tst_der = bytes(asn1_tsp.TSTInfo(tst).dump(force=True))
            try:
                token = sign_encapsulated(
                    self._signer,
                    self.certificate,
                    content=tst_der,
                    content_type=ID_CT_TST_INFO,
                    chain=self.chain,
                    include_certificates=cert_req,
                    gm_content_types=self._gm,
                    extra_signed_attributes=[(ATTR_SIGNING_CERTIFICATE_V2, self._ess)],
                )
            except TrustError:
                raise _Rejected(PKIFailure.SYSTEM_FAILURE, "signing failed") from None
        except _Rejected as rej:
            return _rejection(rej.failure, rej.text)
        status = asn1_tsp.PKIStatusInfo({"status": "granted"})
        body = bytes(status.dump()) + token
        return _tlv(0x30, body)


def _tlv(tag: int, body: bytes) -> bytes:
    n = len(body)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + body


def _rejection(failure: PKIFailure, text: str) -> bytes:
    status = asn1_tsp.PKIStatusInfo(
        {
            "status": "rejection",
            "status_string": [text],
            "fail_info": asn1_tsp.PKIFailureInfo({asn1_tsp.PKIFailureInfo._map[int(failure)]}),
        }
    )
    return bytes(_TimeStampResp({"status": status}).dump(force=True))


# --------------------------------------------------------------------------- responses and tokens


@dataclass(frozen=True, slots=True)
class TimestampResponse:
    """A parsed TimeStampResp."""

    status: int
    status_text: tuple[str, ...]
    failures: frozenset[PKIFailure]
    token: bytes | None = field(repr=False)

    @property
    def granted(self) -> bool:
        return self.status in (0, 1)


def parse_response(response_der: bytes) -> TimestampResponse:
    """Parse a DER TimeStampResp (status, failure bits, token bytes)."""
    if not isinstance(response_der, bytes | bytearray | memoryview):
        raise TsaError("response must be bytes", code="malformed")
    response_der = bytes(response_der)
    if len(response_der) > MAX_RESPONSE_SIZE:
        raise TsaError("response too large", code="too_large")
    try:
        resp = _load_der(_TimeStampResp, response_der)
        status = resp["status"]
        native = status["status"].native
        code = native if isinstance(native, int) else _STATUS_CODES[native]
    except _PARSE_ERRORS:
        raise TsaError("not a DER TimeStampResp", code="malformed") from None
    return _response_fields(resp, code)


def _response_fields(resp: Any, code: int) -> TimestampResponse:
    try:
        status = resp["status"]
        text_field = status["status_string"]
        text = (
            ()
            if isinstance(text_field, asn1_core.Void)
            else tuple(str(t.native) for t in text_field)
        )
        fail_field = status["fail_info"]
        failures: set[PKIFailure] = set()
        if not isinstance(fail_field, asn1_core.Void):
            for name in fail_field.native:
                bit = _FAILURE_BITS.get(name) if isinstance(name, str) else name
                if isinstance(bit, int) and bit in PKIFailure._value2member_map_:
                    failures.add(PKIFailure(bit))
        token_field = resp["time_stamp_token"]
        token = None if isinstance(token_field, asn1_core.Void) else bytes(token_field.dump())
    except _PARSE_ERRORS:
        raise TsaError("not a DER TimeStampResp", code="malformed") from None
    return TimestampResponse(code, text, frozenset(failures), token)


@dataclass(frozen=True, slots=True)
class TimestampInfo:
    """A verified time-stamp token."""

    gen_time: datetime
    serial: int
    policy: str
    tsa_certificate: Certificate
    accuracy: timedelta | None
    nonce: int | None
    digest_algorithm: str
    digest: bytes = field(repr=False)
    ordering: bool = False
    path: tuple[Certificate, ...] = field(default=(), repr=False)


def _err(message: str, code: str) -> TsaError:
    return TsaError(message, code=code)


def _parse_tst_info(der: bytes) -> dict[str, Any]:
    try:
        tst = _load_der(asn1_tsp.TSTInfo, der)
        version = tst["version"].native
        imprint = tst["message_imprint"]
        alg_name = _digest_name(imprint["hash_algorithm"])
        hashed = imprint["hashed_message"].native
        gen = tst["gen_time"].native
        acc = tst["accuracy"]
        accuracy = None
        if not isinstance(acc, asn1_core.Void):
            parts = {k: acc[k].native or 0 for k in ("seconds", "millis", "micros")}
            if (
                not all(0 <= v for v in parts.values())
                or parts["millis"] > 999
                or parts["micros"] > 999
            ):
                raise ValueError("accuracy")
            accuracy = timedelta(
                seconds=parts["seconds"], milliseconds=parts["millis"], microseconds=parts["micros"]
            )
        out = {
            "version": version,
            "policy": tst["policy"].dotted,
            "digest_alg": alg_name,
            "digest": hashed,
            "serial": tst["serial_number"].native,
            "gen_time": gen,
            "accuracy": accuracy,
            "ordering": bool(tst["ordering"].native),
            "nonce": tst["nonce"].native,
            "has_extensions": not isinstance(tst["extensions"], asn1_core.Void),
        }
    except _PARSE_ERRORS:
        raise _err("the token's TSTInfo is malformed", "malformed") from None
    if out["version"] != "v1":
        raise _err("TSTInfo version must be 1", "malformed")
    if not isinstance(out["gen_time"], datetime) or out["gen_time"].tzinfo is None:
        raise _err("TSTInfo genTime is malformed", "malformed")
    if out["has_extensions"]:
        raise _err("TSTInfo extensions are not supported", "unsupported_extension")
    return out


def _issuer_serial_matches(issuer_serial: Any, cert: Certificate) -> bool:
    if issuer_serial["serial_number"].native != cert.serial:
        return False
    names = list(issuer_serial["issuer"])
    if len(names) != 1 or names[0].name != "directory_name":
        return False
    return Name.from_der(bytes(names[0].chosen.untag().dump())).matches(cert.issuer)


def _check_signing_certificate(attrs: Any, cert: Certificate) -> None:
    v2 = attrs.attribute(ATTR_SIGNING_CERTIFICATE_V2)
    v1 = attrs.attribute(ATTR_SIGNING_CERTIFICATE)
    if v2 is None and v1 is None:
        raise _err("no ESS signing-certificate attribute", "missing_signing_certificate")
    try:
        checks: list[tuple[str, bytes, Any]] = []
        if v2 is not None:
            first = asn1_tsp.SigningCertificateV2.load(v2, strict=True)["certs"][0]
            name = _digest_name(first["hash_algorithm"])
            if name is None:
                raise _err("ESSCertIDv2 hash algorithm not supported", "unsupported_algorithm")
            checks.append((name, first["cert_hash"].native, first["issuer_serial"]))
        if v1 is not None:
            first = asn1_tsp.SigningCertificate.load(v1, strict=True)["certs"][0]
            checks.append(("sha1", first["cert_hash"].native, first["issuer_serial"]))
        for name, cert_hash, issuer_serial in checks:
            if not hmac.compare_digest(cert_hash, hash_data(name, cert.der)):
                raise _err(
                    "ESS signing-certificate does not identify the TSA certificate",
                    "signing_certificate_mismatch",
                )
            if not isinstance(issuer_serial, asn1_core.Void) and not _issuer_serial_matches(
                issuer_serial, cert
            ):
                raise _err(
                    "ESS issuerSerial does not identify the TSA certificate",
                    "signing_certificate_mismatch",
                )
    except TsaError:
        raise
    except (*_PARSE_ERRORS, TrustError):
        raise _err("ESS signing-certificate attribute is malformed", "malformed") from None


def verify_timestamp_token(
    token_der: bytes,
    *,
    digest_alg: str,
    digest: bytes | None = None,
    data: bytes | None = None,
    trusted_certs: Collection[Certificate],
    intermediates: Collection[Certificate] = (),
    nonce: int | None = None,
    policies: Collection[str] | None = None,
) -> TimestampInfo:
    """Verify an RFC 3161 token (DER ContentInfo) over ``data`` or its ``digest``.

    ``trusted_certs`` are the trust anchors (a root CA, or the TSA certificate
    itself); the path is validated at genTime. An empty trust list never passes.
    """
    if (digest is None) == (data is None):
        raise _err("give exactly one of digest or data", "invalid_argument")
    if digest_alg not in _DIGEST_SIZES or digest_alg == "sha1":
        raise _err(f"imprint digest {digest_alg!r} not supported", "unsupported_algorithm")
    expected = hash_data(digest_alg, data) if data is not None else digest
    if not isinstance(expected, bytes):
        raise _err("digest must be bytes", "invalid_argument")
    trusted = tuple(trusted_certs)
    if not trusted:
        raise _err("no trusted certificates given", "cert_untrusted_root")
    try:
        cms = verify_encapsulated(
            token_der,
            content_types=(ID_CT_TST_INFO,),
            extra_certificates=(*trusted, *intermediates),
        )
    except CmsError as exc:
        raise _err(f"token: {exc.message}", exc.code) from None
    assert cms.content is not None
    tst = _parse_tst_info(cms.content)
    if tst["digest_alg"] != digest_alg:
        raise _err(
            f"the token imprint uses {tst['digest_alg']}, not {digest_alg}", "imprint_mismatch"
        )
    if not isinstance(tst["digest"], bytes) or not hmac.compare_digest(tst["digest"], expected):
        raise _err("the token's message imprint does not match", "imprint_mismatch")
    if nonce is not None and tst["nonce"] != nonce:
        raise _err("the token's nonce differs from the request's", "nonce_mismatch")
    if policies is not None and tst["policy"] not in policies:
        raise _err(f"TSA policy {tst['policy']} not accepted", "policy_not_accepted")
    signer = cms.signers[0]
    tsa_cert = signer.certificate
    _check_signing_certificate(signer, tsa_cert)
    if not _is_tsa_certificate(tsa_cert):
        raise _err(
            "the TSA certificate lacks id-kp-timeStamping as its only, critical, EKU",
            "tsa_certificate_purpose",
        )
    gen_time = tst["gen_time"].astimezone(UTC)
    try:
        path = validate_path(
            tsa_cert,
            intermediates=(*cms.certificates, *intermediates),
            roots=trusted,
            at=gen_time,
            purpose="tsa",
        )
    except CertificateError as exc:
        raise _err(f"TSA certificate: {exc.message}", exc.code) from None
    return TimestampInfo(
        gen_time=gen_time,
        serial=tst["serial"],
        policy=tst["policy"],
        tsa_certificate=tsa_cert,
        accuracy=tst["accuracy"],
        nonce=tst["nonce"],
        digest_algorithm=digest_alg,
        digest=expected,
        ordering=tst["ordering"],
        path=tuple(path),
    )


def verify_timestamp_response(
    response_der: bytes,
    *,
    digest_alg: str,
    digest: bytes | None = None,
    data: bytes | None = None,
    trusted_certs: Collection[Certificate],
    intermediates: Collection[Certificate] = (),
    nonce: int | None = None,
    policies: Collection[str] | None = None,
) -> TimestampInfo:
    """:func:`parse_response`, refuse anything but granted, then verify the token."""
    resp = parse_response(response_der)
    if not resp.granted or resp.token is None:
        failures = ", ".join(f.name.lower() for f in sorted(resp.failures)) or "none"
        raise _err(f"the TSA refused (status {resp.status}, failure {failures})", "rejected")
    return verify_timestamp_token(
        resp.token,
        digest_alg=digest_alg,
        digest=digest,
        data=data,
        trusted_certs=trusted_certs,
        intermediates=intermediates,
        nonce=nonce,
        policies=policies,
    )
