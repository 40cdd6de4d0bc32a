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
from license_wallet.types import license_type
from trust.crypto import PrivateKey, load_private_key
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

# Which license types each demo issuer may issue: the catalogue's 证照类型代码
# (license_wallet/types.py), published in the trust list as each participant's
# ``license_types``. 公安部: identity cards and driving licenses; 市场监管总局:
# business licenses; the provinces: marriage, degree and real-estate certificates.
_DEMO_LICENSE_TYPES: Final = {
    "mps": ("resident_id_card", "driving_license"),
    "samr": ("business_license",),
    "zj": ("marriage_certificate", "real_estate_certificate"),
    "gd": ("marriage_certificate", "degree_certificate", "real_estate_certificate"),
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
    for pid, slugs in _DEMO_LICENSE_TYPES.items():
        if hub.registry.find(pid) is None:
            continue
        for slug in slugs:
            hub.registry.grant_license_type(pid, license_type(slug).code, actor=ACTOR)
    base = hub.config.base_url
    return {
        "admin": {"username": DEMO_ADMIN, "password": DEMO_ADMIN_PASSWORD},
        "hub_keys": [k.kid for k in hub.keys.list(owner="hub")],
        "portal_clients": _seed_portal_clients(hub),
        "portals": {spec.key: f"{base}/portal/{spec.key}/" for spec in PORTALS.values()},
        **_seed_accounts(hub),
        "seals": _seed_seals(hub),
        "seal_console": _seed_seal_console(hub),
        "licenses": _seed_licenses(hub),
        "wallet": _seed_wallet(hub),
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


# ----------------------------------------------------------------------------- e-licenses

DEMO_LICENSE_ISSUER: Final = "mps"
DEMO_LICENSE_CLIENT: Final = "mps-licensing"


def demo_holder_key(hub: Hub) -> PrivateKey:
    """张三's holder key (P-256) for the demo licenses: **derived from the master key**
    (HKDF label ``demo-holder-zhangsan``), never stored, only for the demo citizen.
    A real holder key is the wallet's non-extractable WebCrypto key, registered by
    the wallet; the server never sees its private half (docs/licenses.md)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    order = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
    seed = int.from_bytes(hub.master_key.derive("demo-holder-zhangsan"), "big")
    key = ec.derive_private_key(seed % (order - 1) + 1, ec.SECP256R1())
    der = key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return load_private_key(der)


def _seed_licenses(hub: Hub) -> dict[str, Any]:
    """张三's 居民身份证 and 机动车驾驶证 from 公安部 (SM2), bound to the demo holder key,
    and 公安部's machine client (``license:issue license:revoke``)."""
    issuer = hub.registry.find(DEMO_LICENSE_ISSUER)
    citizen = hub.idp.accounts.by_username(DEMO_CITIZEN)
    if issuer is None or issuer.status.value != "active" or citizen is None:
        return {}
    born = _dt.date(1990, 5, 17)
    person = {
        "holder_name": DEMO_CITIZEN_NAME,
        "holder_code": DEMO_CITIZEN_ID,
        "sex": "男" if int(DEMO_CITIZEN_ID[16]) % 2 else "女",
        "birth_date": born.isoformat(),
        "address": "浙江省杭州市西湖区文三路100号3幢201室",
    }
    wanted = {
        "resident_id_card": (
            person | {"ethnicity": "汉", "issuer_name": "杭州市公安局西湖分局"},
            _dt.datetime(2021, 3, 1, tzinfo=_dt.UTC),
            _dt.datetime(2041, 3, 1, tzinfo=_dt.UTC),
        ),
        "driving_license": (
            person
            | {
                "issuer_name": "浙江省杭州市公安局交通警察支队",
                "issue_date": "2024-06-30",
                "jurisdiction": "330100",
                "nationality": "中国",
                "first_issue_date": "2012-06-30",
                "vehicle_class": "C1",
            },
            _dt.datetime(2024, 6, 30, tzinfo=_dt.UTC),
            _dt.datetime(2034, 6, 30, tzinfo=_dt.UTC),
        ),
    }
    have = {v.type_code for v in hub.licenses.list_for_holder(citizen.id)}
    jwk = demo_holder_key(hub).public_key().jwk()
    for slug, (fields, start, end) in wanted.items():
        if license_type(slug).code in have:
            continue
        hub.licenses.issue(
            DEMO_LICENSE_ISSUER,
            slug,
            citizen.id,
            jwk,
            fields,
            start,
            end,
            actor=ACTOR,
        )
    secret = portal_secret(hub.master_key, DEMO_LICENSE_CLIENT)
    if hub.idp.clients.get(DEMO_LICENSE_CLIENT) is None:
        hub.idp.clients.add(
            client_id=DEMO_LICENSE_CLIENT,
            name=f"{issuer.name_zh} 电子证照签发系统",
            secret=secret,
            scopes=["license:issue", "license:revoke"],
            participant_id=DEMO_LICENSE_ISSUER,
            replace=True,
        )
    return {
        "holder": DEMO_CITIZEN,
        "licenses": [
            {"id": v.id, "type": license_type(v.type_code).name_zh, "identifier": v.identifier}
            for v in hub.licenses.list_for_holder(citizen.id)
        ],
        "machine_client": {"client_id": DEMO_LICENSE_CLIENT, "client_secret": secret},
    }


def _seed_wallet(hub: Hub) -> dict[str, Any]:
    """The e-license wallet (``/wallet/``) as an OIDC client of the hub (public ``sub``:
    the account that holds the licenses); see :mod:`license_wallet.wallet`."""
    from license_wallet.wallet import seed_wallet_client

    return seed_wallet_client(hub)
