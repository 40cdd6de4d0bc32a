"""The demo world seeded by ``govtrust init --demo`` (idempotent). Grows with each component."""

from __future__ import annotations

from typing import Any

from govtrust.hub import Hub

__all__ = ["seed_demo"]


def seed_demo(hub: Hub) -> dict[str, Any]:
    """Seed what the components built so far need; safe to run again."""
    return {"hub_keys": [k.kid for k in hub.keys.list(owner="hub")]}
