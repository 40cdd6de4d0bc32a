"""The participant registry of the GovTrust federation (DB-backed, hub side)."""

from .service import LEVELS, KeyView, ParticipantView, Registry, RegistryError, Role, Status

__all__ = ["LEVELS", "KeyView", "ParticipantView", "Registry", "RegistryError", "Role", "Status"]
