"""The GovTrust hub: configuration, database, app factory and command line.

This package composes the bounded contexts (``trust``, ``keys``, ``idp``,
``seal_service``, ``license_wallet``, ``verifier``); it holds no domain logic.
"""

from .config import Config

__all__ = ["Config", "create_app"]


def create_app(config: Config | None = None):  # type: ignore[no-untyped-def]
    """Build the WSGI application (see :mod:`govtrust.app`)."""
    from .app import create_app as _create_app

    return _create_app(config)
