"""idp.totp against RFC 4226 Appendix D and RFC 6238 Appendix B, plus the
verifier's rules: window, replay guard, strict input, constant-time compare."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from idp import totp

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[1] / "vectors" / "otp" / "rfc-vectors.json").read_text()
)
HOTP = VECTORS["rfc4226_appendix_d"]
TOTP = VECTORS["rfc6238_appendix_b"]
SEED = b"12345678901234567890"
AT = datetime(2026, 11, 26, 8, 0, 10, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


# --------------------------------------------------------------------------- RFC 4226


@pytest.mark.parametrize("case", HOTP["cases"], ids=lambda c: f"count{c['count']}")
def test_rfc4226_appendix_d(case: dict[str, Any]) -> None:
    secret = HOTP["secret_ascii"].encode()
    # The intermediate values, recomputed independently of idp.totp.
    mac = hmac.new(secret, case["count"].to_bytes(8, "big"), hashlib.sha1).digest()
    assert mac.hex() == case["hmac_sha1_hex"]
    offset = mac[-1] & 0xF
    truncated = int.from_bytes(mac[offset : offset + 4], "big") & 0x7FFFFFFF
    assert truncated == case["truncated_decimal"] == int(case["truncated_hex"], 16)
    assert totp.hotp(secret, case["count"], digits=HOTP["digits"]) == case["hotp"]


def test_hotp_keeps_leading_zeros_and_bounds() -> None:
    # RFC 6238 Appendix B: 07081804 at T = 0x23523EC (SHA-1, 8 digits).
    assert totp.hotp(SEED, 0x23523EC, digits=8) == "07081804"
    with pytest.raises(ValueError):
        totp.hotp(SEED, -1)
    with pytest.raises(ValueError):
        totp.hotp(SEED, 1 << 64)
    with pytest.raises(ValueError):
        totp.hotp(SEED, 0, digits=5)
    with pytest.raises(ValueError):
        totp.hotp(SEED, 0, algorithm="md5")


# --------------------------------------------------------------------------- RFC 6238


@pytest.mark.parametrize("case", TOTP["cases"], ids=lambda c: f"{c['algorithm']}-{c['time']}")
def test_rfc6238_appendix_b(case: dict[str, Any]) -> None:
    secret = TOTP["secrets_ascii"][case["algorithm"]].encode()
    when = at(case["time"])
    assert totp.time_step(when, period=TOTP["period"]) == int(case["step_hex"], 16)
    assert (
        totp.totp(secret, when, digits=TOTP["digits"], algorithm=case["algorithm"]) == case["totp"]
    )


@pytest.mark.parametrize(
    "case", [c for c in TOTP["cases"] if c["algorithm"] == "sha1"], ids=lambda c: str(c["time"])
)
def test_verify_accepts_rfc6238_sha1_vectors_with_8_digits(case: dict[str, Any]) -> None:
    step = totp.verify(SEED, case["totp"], at=at(case["time"]), last_step=0, window=0, digits=8)
    assert step == int(case["step_hex"], 16)


def test_time_step_refuses_naive_datetimes() -> None:
    with pytest.raises(ValueError):
        totp.time_step(datetime(2026, 1, 1))


# --------------------------------------------------------------------------- secrets and URIs


def test_generate_secret_is_160_random_bits() -> None:
    secrets_ = {totp.generate_secret() for _ in range(50)}
    assert len(secrets_) == 50
    assert all(len(s) == 20 for s in secrets_)


def test_base32_round_trip_and_tolerance() -> None:
    secret = totp.generate_secret()
    text = totp.b32encode(secret)
    assert len(text) == 32 and "=" not in text and text.isupper()
    assert totp.b32decode(text) == secret
    spaced = " ".join(text[i : i + 4] for i in range(0, 32, 4)).lower()
    assert totp.b32decode(spaced) == secret
    assert totp.b32encode(SEED) == "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
    assert totp.b32decode("gezdgnbvgy3tqojqgezdgnbvgy3tqojq") == SEED
    with pytest.raises(ValueError):
        totp.b32decode("not base32!")


def test_otpauth_uri_is_percent_encoded() -> None:
    uri = totp.otpauth_uri(SEED, "zhang san@example.cn")
    assert uri.isascii()
    assert " " not in uri and "+" not in uri
    parts = urlsplit(uri)
    assert parts.scheme == "otpauth" and parts.netloc == "totp"
    issuer, _, account = unquote(parts.path.lstrip("/")).partition(":")
    assert issuer == "国家政务服务平台"
    assert account == "zhang san@example.cn"
    query = parse_qs(parts.query)
    assert query == {
        "secret": ["GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"],
        "issuer": ["国家政务服务平台"],
        "algorithm": ["SHA1"],
        "digits": ["6"],
        "period": ["30"],
    }
    # A colon in the account name cannot be mistaken for the issuer separator.
    tricky = totp.otpauth_uri(SEED, "evil:issuer", issuer="某省")
    assert urlsplit(tricky).path.count(":") == 1


# --------------------------------------------------------------------------- verify


def test_verify_returns_the_matched_step_within_the_window() -> None:
    secret = totp.generate_secret()
    now = totp.time_step(AT)
    for offset in (-1, 0, 1):
        code = totp.hotp(secret, now + offset)
        assert totp.verify(secret, code, at=AT, last_step=0) == now + offset
    for offset in (-3, -2, 2, 3):
        code = totp.hotp(secret, now + offset)
        assert totp.verify(secret, code, at=AT, last_step=0) is None
    assert totp.verify(secret, totp.hotp(secret, now - 2), at=AT, last_step=0, window=2) == now - 2
    assert totp.verify(secret, totp.hotp(secret, now + 1), at=AT, last_step=0, window=0) is None


def test_verify_refuses_the_same_or_an_earlier_step() -> None:
    secret = totp.generate_secret()
    now = totp.time_step(AT)
    code = totp.totp(secret, AT)
    step = totp.verify(secret, code, at=AT, last_step=0)
    assert step == now
    assert totp.verify(secret, code, at=AT, last_step=step) is None  # replay
    # The code of the previous step is still inside the window but older: refused.
    earlier = totp.hotp(secret, now - 1)
    assert totp.verify(secret, earlier, at=AT, last_step=step) is None
    # The next step is fine.
    later = AT + timedelta(seconds=30)
    assert totp.verify(secret, totp.totp(secret, later), at=later, last_step=step) == now + 1


@pytest.mark.parametrize(
    "code",
    [
        "",
        "12345",
        "1234567",
        " 123456",
        "123456 ",
        "12345a",
        "１２３４５６",
        "١٢٣٤٥٦",
        "+12345",
        "1e5000",
    ],
)
def test_verify_refuses_anything_but_six_ascii_digits(code: str) -> None:
    secret = totp.generate_secret()
    assert totp.verify(secret, code, at=AT, last_step=0) is None


def test_verify_refuses_non_strings() -> None:
    assert totp.verify(SEED, 123456, at=AT, last_step=0) is None  # type: ignore[arg-type]


def test_verify_compares_every_candidate_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[object, object]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(totp.hmac, "compare_digest", spy)
    secret = totp.generate_secret()
    now = totp.time_step(AT)
    totp.verify(secret, totp.hotp(secret, now - 1), at=AT, last_step=0)  # first candidate
    totp.verify(secret, "000000", at=AT, last_step=0)
    totp.verify(secret, totp.hotp(secret, now), at=AT, last_step=now)  # replay
    assert len(calls) == 9  # three candidates each time, matched or not
