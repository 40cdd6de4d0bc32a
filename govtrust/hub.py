"""The hub's service container: one per process, built from a :class:`Config`.

Holds no per-request state: everything that must be shared between workers
lives in the database (or Redis when configured).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any, Final

from keys import HUB, KeyPurpose, KeyState, KeyStore, MasterKey, MasterKeyError, SoftwareCustody
from keys._custody import Custody
from trust.errors import KeyNotFound

from .config import Config
from .db import Database, utcnow
from .hubpki import HubPki
from .migrate import upgrade
from .registry import Registry
from .tlog_store import TransparencyLog, log_origin
from .trustlist_service import TrustListService

if TYPE_CHECKING:
    from idp.service import Idp
    from license_wallet.service import LicenseService
    from seal_service.registry import SealRegistry
    from seal_service.service import SealingService
    from seal_service.tsa import TimeStampAuthority

__all__ = ["Hub", "HUB_KEYS"]

log = logging.getLogger(__name__)

# The hub's own keys, created by ``govtrust init`` when missing.
HUB_KEYS: Final[tuple[tuple[KeyPurpose, str], ...]] = (
    (KeyPurpose.ID_TOKEN, "RS256"),
    (KeyPurpose.ID_TOKEN, "ES256"),
    (KeyPurpose.ID_TOKEN, "SM2"),
    (KeyPurpose.ACCESS_TOKEN, "ES256"),
    (KeyPurpose.TRUST_LIST, "SM2"),
    (KeyPurpose.TRUST_LIST, "ES256"),
    (KeyPurpose.LOG, "EdDSA"),
    (KeyPurpose.TSA, "ES256"),
    (KeyPurpose.TSA, "SM2"),
)

#: The policy of the hub's RFC 3161 time-stamping authority (GovTrust's private arc).
HUB_TSA_POLICY: Final = "2.25.260963707435137666906721756309274554653.100.1"


class Hub:
    """Database, key store and (as they arrive) the other services."""

    def __init__(
        self,
        config: Config,
        *,
        create_master_key: bool = False,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.config = config
        self.clock = clock
        config.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = Database(config.database_url)
        self.master_key = MasterKey.load(
            config.master_key, config.master_key_file, create=create_master_key
        )
        self._tsas: dict[str, TimeStampAuthority] = {}

    @cached_property
    def hsm(self) -> Custody | None:
        if not self.config.pkcs11_module:
            return None
        if not self.config.pkcs11_pin:
            raise MasterKeyError(
                "GOVTRUST_PKCS11_MODULE is set but GOVTRUST_PKCS11_PIN is not", code="config"
            )
        from keys._pkcs11 import Pkcs11Custody

        return Pkcs11Custody(
            self.config.pkcs11_module, self.config.pkcs11_token, self.config.pkcs11_pin or ""
        )

    @cached_property
    def keys(self) -> KeyStore:
        return KeyStore(
            self.db,
            software=SoftwareCustody(self.master_key),
            hsm=self.hsm,
            clock=self.clock,
            log=self.log,
        )

    @cached_property
    def registry(self) -> Registry:
        return Registry(self.db, log=self.log, clock=self.clock)

    @cached_property
    def log(self) -> TransparencyLog:
        """The transparency log; checkpoints are signed with the active ``log`` key."""
        return TransparencyLog(
            self.db,
            origin=log_origin(self.config.base_url),
            signer=lambda: self.keys.signer(KeyPurpose.LOG),
            clock=self.clock,
        )

    @cached_property
    def pki(self) -> HubPki:
        return HubPki(
            self.db,
            self.keys,
            clock=self.clock,
            # Revoked seals' certificates go on the CRLs; the registry is built lazily.
            revocations=lambda: self.seals.revoked_certificates(),
            base_url=self.config.base_url,
        )

    @cached_property
    def trust_lists(self) -> TrustListService:
        return TrustListService(
            self.db,
            registry=self.registry,
            keys=self.keys,
            pki=self.pki,
            log=self.log,
            clock=self.clock,
            extensions=self._trust_list_extensions,
        )

    def _trust_list_extensions(self) -> dict[str, Any]:
        """What the seal service adds to every trust list: the hub's issuing CAs (seal,
        OFD and SES signatures carry only the signer's certificate) and the revoked
        seals, so that offline verifiers refuse them; and what the license service
        adds: every license issuer's public keys."""
        import base64

        return {
            "govtrust.seal_service": {
                "issuing_cas": [base64.b64encode(c.der).decode() for c in self.pki.cas()],
                "revoked_seals": [
                    {
                        "seal": s.id,
                        "holder": s.holder_id,
                        "certificate_serial": s.as_json()["certificate_serial"],
                    }
                    for s in self.seals.revoked()
                ],
            },
            # License issuers' license and status-list keys (JWK with the COSE kid),
            # so that offline verifiers need only the signed trust list.
            "govtrust.license_wallet": {"issuers": self.licenses.issuers()},
            # The identity provider's issuer and ID-token keys (active, and retiring
            # ones while tokens they signed live), so that offline verifiers can
            # check the hub's ID tokens (verifier/id_tokens.py).
            "govtrust.idp": {
                "issuer": self.config.base_url,
                "jwks": self.keys.jwks(KeyPurpose.ID_TOKEN)["keys"],
            },
            # The transparency log's checkpoint keys, so that an offline verifier
            # can check the checkpoint in its trust bundle (verifier/bundle.py).
            "govtrust.log": {
                "origin": self.log.origin,
                "keys": [
                    {"kid": k.kid, "alg": k.algorithm.name, "jwk": k.public_key.jwk(kid=k.kid)}
                    for k in self.keys.list(
                        purpose=KeyPurpose.LOG,
                        owner=HUB,
                        states=(KeyState.ACTIVE, KeyState.RETIRING),
                    )
                ],
            },
        }

    @cached_property
    def idp(self) -> Idp:
        from idp.service import Idp

        def participant_active(participant_id: str) -> bool:
            p = self.registry.find(participant_id)
            return p is not None and p.status.value == "active"

        return Idp(
            db=self.db,
            keys=self.keys,
            master_key=self.master_key,
            issuer=self.config.base_url,
            clock=self.clock,
            participant_active=participant_active,
        )

    @cached_property
    def seals(self) -> SealRegistry:
        from seal_service.registry import SealRegistry

        return SealRegistry(
            self.db,
            keys=self.keys,
            pki=self.pki,
            participants=self.registry,
            log=self.log,
            clock=self.clock,
            on_revoked=lambda _seal: self.trust_lists.publish(),  # verifiers learn it now
        )

    @cached_property
    def licenses(self) -> LicenseService:
        """E-licenses of ``license_issuer`` participants (issue, lifecycle, status lists)."""
        from license_wallet.service import LicenseService

        return LicenseService(
            self.db,
            keys=self.keys,
            participants=self.registry,
            base_url=self.config.base_url,
            log=self.log,
            clock=self.clock,
        )

    @cached_property
    def sealing(self) -> SealingService:
        from seal_service.service import SealingService
        from seal_service.tsa_pyhanko import InProcessTimeStamper

        return SealingService(
            self.db,
            registry=self.seals,
            log=self.log,
            clock=self.clock,
            timestamper=InProcessTimeStamper(lambda: self.tsa("ES256")),
            pki=self.pki,  # roots, CAs and CRLs for PAdES B-LT
        )

    def tsa(self, algorithm: str = "ES256") -> TimeStampAuthority:
        """The hub's RFC 3161 time-stamping authority with its ``algorithm`` key
        (ES256 or SM2; the key and its certificate are made by ``govtrust init``)."""
        cached = self._tsas.get(algorithm)
        if cached is not None:
            return cached
        import secrets

        from seal_service.tsa import TimeStampAuthority

        kid = next(
            (
                k.kid
                for k in self.keys.list(
                    purpose=KeyPurpose.TSA, owner="hub", states=(KeyState.ACTIVE,)
                )
                if k.algorithm.name == algorithm
            ),
            None,
        )
        if kid is None:
            raise KeyNotFound(f"no active {algorithm} TSA key; run govtrust init")
        cert = self.pki.certificate_for(kid) or self.pki.certify(kid)
        chain = self.pki.chain_for(kid)[1:]
        tsa = TimeStampAuthority(
            self.keys.signer_for(kid, KeyPurpose.TSA),
            cert,
            chain,
            HUB_TSA_POLICY,
            self.clock,
            lambda: secrets.randbits(120) | 1,  # unique with overwhelming probability
        )
        self._tsas[algorithm] = tsa
        return tsa

    def verifier_bundle(self) -> bytes:
        """The offline verifiers' trust bundle (:mod:`verifier.bundle`): the current
        signed trust list, every license status list and the log checkpoint, each
        carrying its own signature. Served as ``GET /verifier/bundle.json``."""
        import base64
        import json

        from verifier.bundle import BUNDLE_FORMAT

        lists = {}
        for list_id in self.licenses.status_lists():
            token = self.licenses.status_list_token(list_id)
            lists[self.licenses.status_uri(list_id)] = (
                base64.urlsafe_b64encode(token.token).rstrip(b"=").decode()
            )
        published = self.trust_lists.up_to_date()  # after the lists: their keys exist now
        body = {
            "format": BUNDLE_FORMAT,
            "hub": self.config.base_url,
            "trust_list": published.document.decode(),
            "status_lists": lists,
            "checkpoint": self.log.checkpoint(),
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()

    def migrate(self) -> None:
        upgrade(self.db.engine)

    def ensure_hub_keys(self) -> list[str]:
        """Create any missing hub key; returns the new kids (idempotent)."""
        created = []
        for purpose, alg in HUB_KEYS:
            active = [
                k
                for k in self.keys.list(purpose=purpose, owner="hub", states=(KeyState.ACTIVE,))
                if k.algorithm.name == alg
            ]
            if not active:
                created.append(self.keys.generate(purpose, alg, label=f"hub {purpose} {alg}").kid)
        return created

    def close(self) -> None:
        self.db.dispose()
