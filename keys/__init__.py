"""GovTrust key custody: generation, encrypted storage, PKCS#11/HSM, purposes,
rotation with overlap, JWKS. Private keys never leave a custody backend."""

from ._custody import Custody, MasterKey, MasterKeyError, SoftwareCustody, StoredKey
from ._store import KeyStore
from ._types import ALLOWED_ALGORITHMS, HUB, KeyInfo, KeyPurpose, KeyState

__all__ = [
    "ALLOWED_ALGORITHMS",
    "HUB",
    "Custody",
    "KeyInfo",
    "KeyPurpose",
    "KeyState",
    "KeyStore",
    "MasterKey",
    "MasterKeyError",
    "SoftwareCustody",
    "StoredKey",
]
