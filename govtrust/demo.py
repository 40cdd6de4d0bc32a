"""The demo world seeded by ``govtrust init --demo`` (idempotent). Grows with each component.

Demo credentials (documented in README.md; development only):

* registry console: ``admin`` / ``GovTrust-Demo-2026``
"""

from __future__ import annotations

from typing import Any, Final

from govtrust.admin.auth import add_admin
from govtrust.hub import Hub
from govtrust.registry import Role

__all__ = ["seed_demo", "DEMO_ADMIN", "DEMO_ADMIN_PASSWORD"]

DEMO_ADMIN: Final = "admin"
DEMO_ADMIN_PASSWORD: Final = "GovTrust-Demo-2026"
ACTOR: Final = "system:demo"

# Demo roles: two provincial portals are relying parties; the Ministry of Public
# Security issues identity cards; the market regulator issues business licenses.
_DEMO_ROLES: Final = {
    "zj": [Role.RELYING_PARTY, Role.LICENSE_ISSUER, Role.SEAL_HOLDER],
    "gd": [Role.RELYING_PARTY, Role.LICENSE_ISSUER],
    "mps": [Role.LICENSE_ISSUER],
    "samr": [Role.LICENSE_ISSUER, Role.SEAL_MAKER],
    "hub": [Role.TSA, Role.SEAL_MAKER],
}


def seed_demo(hub: Hub) -> dict[str, Any]:
    """Seed what the components built so far need; safe to run again."""
    add_admin(hub.db, DEMO_ADMIN, DEMO_ADMIN_PASSWORD, "演示管理员 Demo administrator")
    for pid, roles in _DEMO_ROLES.items():
        if hub.registry.find(pid) is None:
            continue
        for role in roles:
            hub.registry.grant_role(pid, role, actor=ACTOR)
    return {
        "admin": {"username": DEMO_ADMIN, "password": DEMO_ADMIN_PASSWORD},
        "hub_keys": [k.kid for k in hub.keys.list(owner="hub")],
    }
