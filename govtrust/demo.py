"""The demo world seeded by ``govtrust init --demo`` (idempotent). Grows with each component.

Demo credentials (documented in README.md; development only):

* registry console: ``admin`` / ``GovTrust-Demo-2026``
* citizen 张三: ``zhangsan`` / ``Zhang-San-2026``
* enterprise operator 李四 (杭州示例科技有限公司): ``qiye`` / ``Qi-Ye-Demo-2026``

The two regional portals (``/portal/zj/``, ``/portal/gd/``) are registered as OIDC
clients of the hub: pairwise subjects per province, RS256 (浙江) and ES256 (广东) ID
tokens, back-channel logout, client secrets derived from the master key.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any, Final

from govtrust.admin.auth import add_admin
from govtrust.hub import Hub
from govtrust.portals import PORTALS, portal_secret, portal_uris
from govtrust.registry import Role
from trust.identifiers import make_citizen_id, make_uscc

__all__ = [
    "seed_demo",
    "DEMO_ADMIN",
    "DEMO_ADMIN_PASSWORD",
    "DEMO_CITIZEN",
    "DEMO_CITIZEN_PASSWORD",
    "DEMO_CITIZEN_NAME",
    "DEMO_CITIZEN_ID",
    "DEMO_ENTERPRISE",
    "DEMO_ENTERPRISE_PASSWORD",
]

DEMO_ADMIN: Final = "admin"
DEMO_ADMIN_PASSWORD: Final = "GovTrust-Demo-2026"
ACTOR: Final = "system:demo"

# The account policy refuses passwords that contain the username, so not "Zhangsan-2026".
DEMO_CITIZEN: Final = "zhangsan"
DEMO_CITIZEN_PASSWORD: Final = "Zhang-San-2026"
DEMO_CITIZEN_NAME: Final = "张三"
DEMO_CITIZEN_ID: Final = make_citizen_id("330106", _dt.date(1990, 5, 17), 123)  # 杭州市西湖区
DEMO_ENTERPRISE: Final = "qiye"
DEMO_ENTERPRISE_PASSWORD: Final = "Qi-Ye-Demo-2026"
DEMO_ENTERPRISE_NAME: Final = "杭州示例科技有限公司"
DEMO_ENTERPRISE_USCC: Final = make_uscc("9", "1", "330106", "DEM00001")

# Demo roles: two provincial portals are relying parties; the Ministry of Public
# Security issues identity cards; the market regulator issues business licenses.
_DEMO_ROLES: Final = {
    "zj": [Role.RELYING_PARTY, Role.LICENSE_ISSUER, Role.SEAL_HOLDER],
    "gd": [Role.RELYING_PARTY, Role.LICENSE_ISSUER],
    "mps": [Role.LICENSE_ISSUER],
    "samr": [Role.LICENSE_ISSUER, Role.SEAL_MAKER],
    "hub": [Role.TSA, Role.SEAL_MAKER],
}


def _seed_portal_clients(hub: Hub) -> dict[str, str]:
    """Register (or bring up to date) the two portals' clients; returns what happened."""
    store = hub.idp.clients
    done: dict[str, str] = {}
    for spec in PORTALS.values():
        uris = portal_uris(hub.config.base_url, spec.key)
        secret = portal_secret(hub.master_key, spec.key)
        wanted: dict[str, Any] = {
            "client_id": spec.client_id,
            "name": spec.name_zh,
            "redirect_uris": (uris["redirect_uri"],),
            "post_logout_redirect_uris": (uris["post_logout_redirect_uri"],),
            "backchannel_logout_uri": uris["backchannel_logout_uri"],
            "scopes": ("openid", "profile"),
            "id_token_alg": spec.id_token_alg,
            "subject_type": "pairwise",
            "sector": spec.participant_id,
            "participant_id": spec.participant_id,
            # Provincial platforms are federation members approved in the registry:
            # consent to share the name is implied (the hub still asks for "identity").
            "first_party": True,
        }
        existing = store.get(spec.client_id)
        if existing is not None and (
            existing.name == wanted["name"]
            and existing.redirect_uris == wanted["redirect_uris"]
            and existing.post_logout_redirect_uris == wanted["post_logout_redirect_uris"]
            and existing.backchannel_logout_uri == wanted["backchannel_logout_uri"]
            and existing.scopes == wanted["scopes"]
            and existing.id_token_signed_response_alg == wanted["id_token_alg"]
            and existing.subject_type == "pairwise"
            and existing.sector == wanted["sector"]
            and existing.participant_id == wanted["participant_id"]
            and existing.first_party
            and existing.token_endpoint_auth_method == "client_secret_basic"
            and existing.check_client_secret(secret)
        ):
            done[spec.client_id] = "unchanged"
            continue
        store.add(secret=secret, replace=existing is not None, **wanted)
        done[spec.client_id] = "updated" if existing is not None else "created"
    return done


def _seed_accounts(hub: Hub) -> dict[str, dict[str, str]]:
    accounts = hub.idp.accounts
    if accounts.by_username(DEMO_CITIZEN) is None:
        accounts.create_citizen(
            username=DEMO_CITIZEN,
            password=DEMO_CITIZEN_PASSWORD,
            name=DEMO_CITIZEN_NAME,
            id_number=DEMO_CITIZEN_ID,
        )
    if accounts.by_username(DEMO_ENTERPRISE) is None:
        accounts.create_enterprise(
            username=DEMO_ENTERPRISE,
            password=DEMO_ENTERPRISE_PASSWORD,
            name="李四",
            enterprise_name=DEMO_ENTERPRISE_NAME,
            uscc=DEMO_ENTERPRISE_USCC,
        )
    return {
        "citizen": {"username": DEMO_CITIZEN, "password": DEMO_CITIZEN_PASSWORD},
        "enterprise": {"username": DEMO_ENTERPRISE, "password": DEMO_ENTERPRISE_PASSWORD},
    }


def seed_demo(hub: Hub) -> dict[str, Any]:
    """Seed what the components built so far need; safe to run again."""
    add_admin(hub.db, DEMO_ADMIN, DEMO_ADMIN_PASSWORD, "演示管理员 Demo administrator")
    for pid, roles in _DEMO_ROLES.items():
        if hub.registry.find(pid) is None:
            continue
        for role in roles:
            hub.registry.grant_role(pid, role, actor=ACTOR)
    base = hub.config.base_url
    return {
        "admin": {"username": DEMO_ADMIN, "password": DEMO_ADMIN_PASSWORD},
        "hub_keys": [k.kid for k in hub.keys.list(owner="hub")],
        "portal_clients": _seed_portal_clients(hub),
        "portals": {spec.key: f"{base}/portal/{spec.key}/" for spec in PORTALS.values()},
        **_seed_accounts(hub),
    }
