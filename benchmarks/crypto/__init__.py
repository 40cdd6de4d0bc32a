"""Sign/verify throughput of SM2, ECDSA P-256, RSA-2048 and Ed25519 through
:mod:`trust.crypto`, against the native libraries and ``openssl speed``."""

from .bench import render, run

__all__ = ["render", "run"]
