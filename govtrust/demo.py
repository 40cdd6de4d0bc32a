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
        "seals": _seed_seals(hub),
        "seal_console": _seed_seal_console(hub),
    }


DEMO_SEAL_HOLDER: Final = "zj"
DEMO_SEAL_MAKER: Final = "samr"
DEMO_AGENCY_CLIENT: Final = "zj-agency"


def _seed_seals(hub: Hub) -> dict[str, Any]:
    """An agency with an SM2 official seal (made by 市场监管总局 as 制章者) and an
    RSA contract seal, both active, and its machine client (``seal:sign``)."""
    holder = hub.registry.find(DEMO_SEAL_HOLDER)
    if holder is None or holder.status.value != "active":
        return {}
    seals = hub.seals.list(holder_id=DEMO_SEAL_HOLDER)
    if not seals:
        hub.pki.ensure()  # the seals' certificates come from the hub's issuing CAs
        for kind, name, alg, maker in (
            ("official", f"{holder.name_zh}公章", "SM2", DEMO_SEAL_MAKER),
            ("contract", "合同专用章", "RS256", None),
        ):
            seal = hub.seals.apply(
                holder_id=DEMO_SEAL_HOLDER,
                kind=kind,
                name=name,
                algorithm=alg,
                maker_id=maker,
                actor=ACTOR,
            )
            hub.seals.approve(seal.id, actor=maker or ACTOR)
            hub.seals.activate(seal.id, actor=ACTOR)
        seals = hub.seals.list(holder_id=DEMO_SEAL_HOLDER)
    secret = portal_secret(hub.master_key, DEMO_AGENCY_CLIENT)
    if hub.idp.clients.get(DEMO_AGENCY_CLIENT) is None:
        hub.idp.clients.add(
            client_id=DEMO_AGENCY_CLIENT,
            name=f"{holder.name_zh} 用印系统",
            secret=secret,
            scopes=["seal:sign"],
            participant_id=DEMO_SEAL_HOLDER,
            replace=True,
        )
    return {
        "holder": DEMO_SEAL_HOLDER,
        "seals": [{"id": s.id, "kind": s.kind.value, "algorithm": s.algorithm} for s in seals],
        "machine_client": {"client_id": DEMO_AGENCY_CLIENT, "client_secret": secret},
    }


# ----------------------------------------------------------------------------- seal console

# The account policy refuses passwords that contain the username ("zj-operator"), so the
# password is not "Zj-Operator-2026".
DEMO_SEAL_OPERATOR: Final = "zj-operator"
DEMO_SEAL_OPERATOR_PASSWORD: Final = "Zj-Seal-Operator-2026"
DEMO_SEAL_OPERATOR_NAME: Final = "王五"


def _seed_seal_console(hub: Hub) -> dict[str, Any]:
    """The seal console (``/seal/``) as an OIDC client of the hub, and the demo agency's
    operator: an enterprise account whose name and USCC are the ``zj`` participant's."""
    from seal_service.console import CONSOLE, SCOPE, console_secret, console_uris

    holder = hub.registry.find(DEMO_SEAL_HOLDER)
    if holder is None or holder.uscc is None:
        return {}
    store = hub.idp.clients
    uris = console_uris(hub.config.base_url)
    secret = console_secret(hub.master_key)
    wanted: dict[str, Any] = {
        "client_id": CONSOLE.client_id,
        "name": CONSOLE.name_zh,
        "redirect_uris": (uris["redirect_uri"],),
        "post_logout_redirect_uris": (uris["post_logout_redirect_uri"],),
        "backchannel_logout_uri": uris["backchannel_logout_uri"],
        "scopes": tuple(SCOPE.split()),
        "id_token_alg": CONSOLE.id_token_alg,
        "subject_type": "pairwise",
        "sector": CONSOLE.client_id,
        # a component of the hub, not a regional platform: no registry participant
        # (so `idp sync-clients` leaves it alone)
        "participant_id": None,
        # the hub's own console: consent to share the name and enterprise is implied
        "first_party": True,
    }
    existing = store.get(CONSOLE.client_id)
    if existing is not None and (
        existing.redirect_uris == wanted["redirect_uris"]
        and existing.post_logout_redirect_uris == wanted["post_logout_redirect_uris"]
        and existing.backchannel_logout_uri == wanted["backchannel_logout_uri"]
        and existing.scopes == wanted["scopes"]
        and existing.first_party
        and existing.check_client_secret(secret)
    ):
        client = "unchanged"
    else:
        store.add(secret=secret, replace=existing is not None, **wanted)
        client = "updated" if existing is not None else "created"
    if hub.idp.accounts.by_username(DEMO_SEAL_OPERATOR) is None:
        hub.idp.accounts.create_enterprise(
            username=DEMO_SEAL_OPERATOR,
            password=DEMO_SEAL_OPERATOR_PASSWORD,
            name=DEMO_SEAL_OPERATOR_NAME,
            enterprise_name=holder.name_zh,
            uscc=holder.uscc,
        )
    return {
        "url": f"{hub.config.base_url.rstrip('/')}/seal/",
        "client": {CONSOLE.client_id: client},
        "operator": {"username": DEMO_SEAL_OPERATOR, "password": DEMO_SEAL_OPERATOR_PASSWORD},
    }
