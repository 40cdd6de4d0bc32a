"""Configuration from environment variables, with documented defaults.

=============================  =====================================================
variable                       meaning (default)
=============================  =====================================================
``DATABASE_URL``               SQLAlchemy URL (``sqlite:///<data dir>/govtrust.db``)
``GOVTRUST_DATA_DIR``          instance folder: database, master key, caches (``./instance``)
``GOVTRUST_BASE_URL``          public base URL and OIDC issuer (``http://127.0.0.1:8000``)
``GOVTRUST_MASTER_KEY``        key-encryption key, 32 bytes as hex or base64 (unset)
``GOVTRUST_MASTER_KEY_FILE``   file holding the same (``<data dir>/master.key``)
``GOVTRUST_VERIFIER_CACHE``    offline verifier trust bundle (``<data dir>/verifier-cache``)
``REDIS_URL``                  optional Redis for rate limits and replay caches (unset)
``GOVTRUST_PKCS11_MODULE``     PKCS#11 library for HSM keys (unset: software keys only)
``GOVTRUST_PKCS11_TOKEN``      token label (``govtrust``)
``GOVTRUST_PKCS11_PIN``        user PIN (unset)
=============================  =====================================================
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

__all__ = ["Config"]


@dataclass(frozen=True)
class Config:
    """Immutable hub configuration. Build with :meth:`from_env` or :meth:`from_mapping`."""

    data_dir: Path = Path("instance")
    database_url: str = ""
    base_url: str = "http://127.0.0.1:8000"
    master_key: str | None = None
    master_key_file: Path | None = None
    verifier_cache: Path | None = None
    redis_url: str | None = None
    pkcs11_module: str | None = None
    pkcs11_token: str = "govtrust"
    pkcs11_pin: str | None = None
    testing: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        data_dir = Path(self.data_dir)
        object.__setattr__(self, "data_dir", data_dir)
        if not self.database_url:
            object.__setattr__(
                self, "database_url", f"sqlite:///{(data_dir / 'govtrust.db').resolve()}"
            )
        if self.master_key_file is None:
            object.__setattr__(self, "master_key_file", data_dir / "master.key")
        if self.verifier_cache is None:
            object.__setattr__(self, "verifier_cache", data_dir / "verifier-cache")
        object.__setattr__(self, "base_url", self.base_url.rstrip("/"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Config:
        env = os.environ if env is None else env
        values: dict[str, Any] = {
            "data_dir": Path(env.get("GOVTRUST_DATA_DIR", "instance")),
            "database_url": env.get("DATABASE_URL", ""),
            "base_url": env.get("GOVTRUST_BASE_URL", "http://127.0.0.1:8000"),
            "master_key": env.get("GOVTRUST_MASTER_KEY") or None,
            "master_key_file": Path(env["GOVTRUST_MASTER_KEY_FILE"])
            if env.get("GOVTRUST_MASTER_KEY_FILE")
            else None,
            "verifier_cache": Path(env["GOVTRUST_VERIFIER_CACHE"])
            if env.get("GOVTRUST_VERIFIER_CACHE")
            else None,
            "redis_url": env.get("REDIS_URL") or None,
            "pkcs11_module": env.get("GOVTRUST_PKCS11_MODULE") or None,
            "pkcs11_token": env.get("GOVTRUST_PKCS11_TOKEN", "govtrust"),
            "pkcs11_pin": env.get("GOVTRUST_PKCS11_PIN") or None,
        }
        values.update(overrides)
        return cls(**values)

    @classmethod
    def from_mapping(cls, mapping: Mapping[str, Any]) -> Config:
        """Build from a dict; unknown keys are an error, not silently ignored."""
        known = {f.name for f in fields(cls)}
        unknown = set(mapping) - known
        if unknown:
            raise ValueError(f"unknown configuration keys: {sorted(unknown)}")
        return cls(**mapping)

    def replace(self, **changes: Any) -> Config:
        return replace(self, **changes)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")
