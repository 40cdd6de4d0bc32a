"""Key purposes, states and the public view of a key record."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Final

from trust import KeyFamily, PublicKey, SignatureAlgorithm

__all__ = ["KeyPurpose", "KeyState", "KeyInfo", "ALLOWED_ALGORITHMS", "HUB"]

HUB: Final = "hub"  # owner of the national hub's own keys


class KeyPurpose(StrEnum):
    """Exactly one purpose per key; a key is refused for every other purpose."""

    ID_TOKEN = "id_token"
    ACCESS_TOKEN = "access_token"
    SEAL = "seal"
    LICENSE = "license"
    STATUS_LIST = "status_list"
    TRUST_LIST = "trust_list"
    TSA = "tsa"
    LOG = "log"
    CA = "ca"


class KeyState(StrEnum):
    """pending → active → retiring (verify only) → retired."""

    PENDING = "pending"
    ACTIVE = "active"
    RETIRING = "retiring"
    RETIRED = "retired"


# Which algorithms each purpose may use (an allow-list per token type, RFC 8725 §3.1).
ALLOWED_ALGORITHMS: Final[dict[KeyPurpose, frozenset[str]]] = {
    KeyPurpose.ID_TOKEN: frozenset({"RS256", "PS256", "ES256", "SM2"}),
    KeyPurpose.ACCESS_TOKEN: frozenset({"RS256", "PS256", "ES256", "SM2"}),
    KeyPurpose.SEAL: frozenset({"SM2", "ES256", "RS256", "PS256"}),
    KeyPurpose.LICENSE: frozenset({"SM2", "ES256"}),
    KeyPurpose.STATUS_LIST: frozenset({"SM2", "ES256"}),
    KeyPurpose.TRUST_LIST: frozenset({"SM2", "ES256"}),
    KeyPurpose.TSA: frozenset({"SM2", "ES256", "RS256"}),
    KeyPurpose.LOG: frozenset({"EdDSA", "ES256", "SM2"}),
    KeyPurpose.CA: frozenset({"SM2", "ES256", "RS256"}),
}


@dataclass(frozen=True, slots=True)
class KeyInfo:
    """Everything about a key except its private part."""

    kid: str
    purpose: KeyPurpose
    algorithm: SignatureAlgorithm
    owner: str
    state: KeyState
    backend: str
    public_key: PublicKey
    label: str
    created_at: datetime
    activated_at: datetime | None
    retiring_at: datetime | None
    verify_until: datetime | None
    retired_at: datetime | None

    @property
    def family(self) -> KeyFamily:
        return self.algorithm.family

    def jwk(self) -> dict[str, object]:
        """Public JWK with ``kid``, ``alg`` and ``use``."""
        return self.public_key.jwk(kid=self.kid, alg=self.algorithm.jose, use="sig")
