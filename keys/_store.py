"""The key store: generation, purposes, lifecycle, rotation with overlap, JWKS.

Private key material never leaves a :class:`~keys._custody.Custody` backend:
no method returns it, no log line prints it. Services ask for "a signer for
purpose P" and get a :class:`trust.Signer`.
"""

from __future__ import annotations

import builtins
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govtrust.db import Database, utcnow
from govtrust.events import EventLog
from trust import (
    KeyNotFound,
    KeyPurposeError,
    KeyStateError,
    PublicKey,
    Signer,
    UnsupportedAlgorithm,
    load_public_key,
    signature_algorithm,
)
from trust.crypto import PrivateKey

from ._custody import Custody, SoftwareCustody, StoredKey
from ._types import ALLOWED_ALGORITHMS, HUB, KeyInfo, KeyPurpose, KeyState
from .models import KeyRecord

__all__ = ["KeyStore", "ACTIVE_CACHE_SECONDS"]

ACTIVE_CACHE_SECONDS = 5.0


_KID_LENGTH = 22  # 132 bits of the RFC 7638 thumbprint


def _purpose_and_state(_db: Database) -> Any:
    """A key's purpose and state (signer_for, every signature), built once."""
    return select(KeyRecord.purpose, KeyRecord.state).where(KeyRecord.kid == bindparam("kid"))


def _kid(public_key: PublicKey) -> str:
    return public_key.thumbprint()[:_KID_LENGTH]


def _context(kid: str, purpose: str, algorithm: str, owner: str) -> bytes:
    return f"govtrust-key|{kid}|{purpose}|{algorithm}|{owner}".encode()


class KeyStore:
    """Key custody over a database of :class:`KeyRecord` rows and custody backends."""

    def __init__(
        self,
        db: Database,
        *,
        software: SoftwareCustody,
        hsm: Custody | None = None,
        clock: Callable[[], datetime] = utcnow,
        log: EventLog | None = None,
    ) -> None:
        self._db = db
        self._backends: dict[str, Custody] = {software.backend: software}
        if hsm is not None:
            self._backends[hsm.backend] = hsm
        self._software = software
        self._clock = clock
        self._log = log
        self._signers: dict[str, Signer] = {}
        self._active: dict[tuple[KeyPurpose, str | None, str], tuple[float, Signer]] = {}
        self._infos: dict[str, tuple[float, KeyInfo]] = {}  # verification_key's cache
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ creation

    def generate(
        self,
        purpose: KeyPurpose | str,
        algorithm: str,
        *,
        owner: str = HUB,
        backend: str = "software",
        activate: bool = True,
        label: str = "",
    ) -> KeyInfo:
        """Create a key for exactly one purpose. With ``activate`` it becomes the
        active key for (purpose, owner, algorithm), which must not already exist
        (use :meth:`rotate` to replace one)."""
        purpose = KeyPurpose(purpose)
        alg = self._check_allowed(purpose, algorithm)
        custody = self._backend(backend)
        stored = custody.generate(
            f"gt-{secrets.token_hex(8)}",
            alg.family,
            context=lambda pub: _context(_kid(pub), purpose, alg.name, owner),
        )
        kid = _kid(stored.public_key)
        try:
            return self._insert(kid, purpose, alg.name, owner, backend, stored, activate, label)
        except BaseException:
            if stored.blob is None:  # a token key nobody will ever reference
                custody.destroy(stored.ref)
            raise

    def import_private_key(
        self,
        key: PrivateKey,
        purpose: KeyPurpose | str,
        algorithm: str,
        *,
        owner: str = HUB,
        activate: bool = True,
        label: str = "",
    ) -> KeyInfo:
        """Take custody of an existing key (software backend); the caller must
        then forget its copy."""
        purpose = KeyPurpose(purpose)
        alg = self._check_allowed(purpose, algorithm)
        if alg.family is not key.family:
            raise UnsupportedAlgorithm(f"{alg.name} does not fit a {key.family} key")
        kid = _kid(key.public_key())
        stored = self._software.store(key, context=_context(kid, purpose, alg.name, owner))
        return self._insert(kid, purpose, alg.name, owner, "software", stored, activate, label)

    def _insert(
        self,
        kid: str,
        purpose: KeyPurpose,
        algorithm: str,
        owner: str,
        backend: str,
        stored: StoredKey,
        activate: bool,
        label: str,
    ) -> KeyInfo:
        now = self._clock()
        record = KeyRecord(
            kid=kid,
            purpose=purpose.value,
            algorithm=algorithm,
            owner=owner,
            state=(KeyState.ACTIVE if activate else KeyState.PENDING).value,
            backend=backend,
            label=label,
            public_key_der=stored.public_key.spki_der(),
            private_blob=stored.blob,
            external_ref=stored.ref if stored.blob is None else None,
            created_at=now,
            activated_at=now if activate else None,
        )
        try:
            with self._db.write() as session:
                session.add(record)
                session.flush()
                self._emit(
                    session,
                    "key.generated",
                    kid=kid,
                    purpose=purpose.value,
                    algorithm=algorithm,
                    owner=owner,
                    backend=backend,
                    state=record.state,
                    thumbprint=stored.public_key.thumbprint(),
                )
        except IntegrityError:
            raise KeyStateError(
                f"an active {purpose} key for {owner}/{algorithm} already exists; use rotate",
                code="key_conflict",
            ) from None
        self._forget()
        return self._info(record)

    # ------------------------------------------------------------------ lifecycle

    def activate(self, kid: str) -> KeyInfo:
        """pending → active."""
        return self._transition(kid, KeyState.PENDING, KeyState.ACTIVE, activated_at=self._clock())

    def rotate(
        self,
        purpose: KeyPurpose | str,
        algorithm: str,
        *,
        owner: str = HUB,
        overlap: timedelta = timedelta(days=1),
        backend: str = "software",
        label: str = "",
    ) -> KeyInfo:
        """Make a new active key; the old one becomes *retiring* (verify only) until
        ``now + overlap`` — set ``overlap`` to the longest lifetime of anything it signed."""
        purpose = KeyPurpose(purpose)
        alg = self._check_allowed(purpose, algorithm)
        new = self.generate(
            purpose, alg.name, owner=owner, backend=backend, activate=False, label=label
        )
        now = self._clock()
        try:
            with self._db.write() as session:
                old = session.scalars(
                    select(KeyRecord)
                    .where(
                        KeyRecord.purpose == purpose.value,
                        KeyRecord.owner == owner,
                        KeyRecord.algorithm == alg.name,
                        KeyRecord.state == KeyState.ACTIVE.value,
                    )
                    .with_for_update()
                ).all()
                for rec in old:
                    rec.state = KeyState.RETIRING.value
                    rec.retiring_at = now
                    rec.verify_until = now + overlap
                session.flush()
                session.execute(
                    update(KeyRecord)
                    .where(KeyRecord.kid == new.kid, KeyRecord.state == KeyState.PENDING.value)
                    .values(state=KeyState.ACTIVE.value, activated_at=now)
                )
                self._emit(
                    session,
                    "key.rotated",
                    kid=new.kid,
                    purpose=purpose.value,
                    owner=owner,
                    algorithm=alg.name,
                    retiring=[rec.kid for rec in old],
                    verify_until=(now + overlap).isoformat(),
                )
        except IntegrityError:
            raise KeyStateError("concurrent rotation", code="key_conflict") from None
        self._forget()
        return self.get(new.kid)

    def retire_due(self) -> list[str]:
        """retiring → retired for every key whose overlap has ended."""
        now = self._clock()
        with self._db.write() as session:
            due = session.scalars(
                select(KeyRecord).where(
                    KeyRecord.state == KeyState.RETIRING.value, KeyRecord.verify_until <= now
                )
            ).all()
            for rec in due:
                rec.state = KeyState.RETIRED.value
                rec.retired_at = now
                self._emit(
                    session, "key.retired", kid=rec.kid, purpose=rec.purpose, owner=rec.owner
                )
            kids = [rec.kid for rec in due]
            refs = [(rec.backend, rec.external_ref) for rec in due]
        for kid in kids:
            self._forget(kid)
        self._destroy(refs)
        return kids

    def retire(self, kid: str) -> KeyInfo:
        """Retire a key now (compromise or decommissioning)."""
        now = self._clock()
        with self._db.write() as session:
            rec = session.get(KeyRecord, kid)
            if rec is None:
                raise KeyNotFound(kid)
            rec.state = KeyState.RETIRED.value
            rec.retired_at = now
            self._emit(session, "key.retired", kid=kid, purpose=rec.purpose, owner=rec.owner)
            info = self._info(rec)
            refs = [(rec.backend, rec.external_ref)]
        self._forget(kid)
        self._destroy(refs)
        return info

    def _destroy(self, refs: Iterable[tuple[str, str | None]]) -> None:
        """Retired keys never sign again: destroy token-held private keys (the
        public key stays in the record for verification history)."""
        for backend, ref in refs:
            if ref is not None and backend in self._backends:
                self._backends[backend].destroy(ref)

    def _transition(self, kid: str, src: KeyState, dst: KeyState, **values: object) -> KeyInfo:
        with self._db.write() as session:
            result = session.execute(
                update(KeyRecord)
                .where(KeyRecord.kid == kid, KeyRecord.state == src.value)
                .values(state=dst.value, **values)
            )
            if result.rowcount != 1:  # type: ignore[attr-defined]
                if session.get(KeyRecord, kid) is None:
                    raise KeyNotFound(kid)
                raise KeyStateError(f"key {kid} is not {src}")
            self._emit(session, f"key.{dst.value}", kid=kid)
        self._forget()
        return self.get(kid)

    # ------------------------------------------------------------------ use

    def signer(
        self, purpose: KeyPurpose | str, *, algorithm: str | None = None, owner: str = HUB
    ) -> Signer:
        """The signer of the active key for (purpose, owner[, algorithm]).

        Cached per process for :data:`ACTIVE_CACHE_SECONDS` (a database read per
        signature would dominate token issuance). Changes made through this store
        clear the cache at once; another process sees them within the TTL, which is
        safe because a replaced key stays valid for verification during its overlap."""
        purpose = KeyPurpose(purpose)
        cache_key = (purpose, algorithm, owner)
        hit = self._active.get(cache_key)
        if hit is not None and time.monotonic() - hit[0] < ACTIVE_CACHE_SECONDS:
            return hit[1]
        signer = self._lookup_active(purpose, algorithm, owner)
        with self._lock:
            self._active[cache_key] = (time.monotonic(), signer)
        return signer

    def _lookup_active(self, purpose: KeyPurpose, algorithm: str | None, owner: str) -> Signer:
        with self._db.session() as session:
            stmt = select(KeyRecord).where(
                KeyRecord.purpose == purpose.value,
                KeyRecord.owner == owner,
                KeyRecord.state == KeyState.ACTIVE.value,
            )
            if algorithm is not None:
                stmt = stmt.where(KeyRecord.algorithm == signature_algorithm(algorithm).name)
            records = session.scalars(stmt).all()
        if not records:
            raise KeyNotFound(f"no active {purpose} key for {owner}")
        if len(records) > 1:
            raise KeyStateError(
                f"several active {purpose} keys for {owner}; name the algorithm",
                code="key_ambiguous",
            )
        return self._signer(records[0])

    def signer_for(self, kid: str, purpose: KeyPurpose | str) -> Signer:
        """The signer of key ``kid``, refused unless it is active and made for ``purpose``."""
        purpose = KeyPurpose(purpose)
        cached = self._signers.get(kid)
        if cached is not None:
            # The key's state is read at every call (a retired key stops signing at
            # once, in every process) — but only its purpose and state, not the
            # whole record with its wrapped private key.
            with self._db.connection() as conn:
                row = conn.execute(self._db.statement(_purpose_and_state), {"kid": kid}).first()
            if row is None:
                raise KeyNotFound(kid)
            self._check_signing(kid, purpose, row.purpose, row.state)
            return cached
        with self._db.session() as session:
            rec = session.get(KeyRecord, kid)
        if rec is None:
            raise KeyNotFound(kid)
        self._check_signing(kid, purpose, rec.purpose, rec.state)
        return self._signer(rec)

    @staticmethod
    def _check_signing(kid: str, purpose: KeyPurpose, rec_purpose: str, rec_state: str) -> None:
        if rec_purpose != purpose.value:
            raise KeyPurposeError(f"key {kid} is a {rec_purpose} key, not {purpose}")
        if rec_state != KeyState.ACTIVE.value:
            raise KeyStateError(f"key {kid} is {rec_state}; only active keys sign")

    def verification_key(self, kid: str, purpose: KeyPurpose | str) -> PublicKey:
        """The public key of an active or retiring key made for ``purpose``.

        The key's record is cached per process for :data:`ACTIVE_CACHE_SECONDS`
        (every API call checks an access token: a database read each time cost more
        than the signature check). Changes made through this store clear it at once;
        another process sees a retirement within the TTL, and the end of an overlap
        is judged on the current clock at every call."""
        purpose = KeyPurpose(purpose)
        hit = self._infos.get(kid)
        if hit is not None and time.monotonic() - hit[0] < ACTIVE_CACHE_SECONDS:
            info = hit[1]
        else:
            info = self.get(kid)
            with self._lock:
                if len(self._infos) > 1_000:
                    self._infos.clear()
                self._infos[kid] = (time.monotonic(), info)
        if info.purpose is not purpose:
            raise KeyPurposeError(f"key {kid} is a {info.purpose} key, not {purpose}")
        if info.state not in (KeyState.ACTIVE, KeyState.RETIRING):
            raise KeyStateError(f"key {kid} is {info.state}")
        if (
            info.state is KeyState.RETIRING
            and info.verify_until
            and info.verify_until <= self._clock()
        ):
            raise KeyStateError(f"key {kid} overlap has ended")
        return info.public_key

    def _signer(self, rec: KeyRecord) -> Signer:
        cached = self._signers.get(rec.kid)
        if cached is not None:
            return cached
        custody = self._backend(rec.backend)
        signer = custody.signer(
            signature_algorithm(rec.algorithm),
            load_public_key(rec.public_key_der),
            rec.private_blob,
            rec.external_ref,
            context=_context(rec.kid, rec.purpose, rec.algorithm, rec.owner),
            key_id=rec.kid,
        )
        with self._lock:
            self._signers[rec.kid] = signer
        return signer

    def _forget(self, kid: str | None = None) -> None:
        with self._lock:
            if kid is not None:
                self._signers.pop(kid, None)
            self._active.clear()
            self._infos.clear()

    # ------------------------------------------------------------------ queries

    def get(self, kid: str) -> KeyInfo:
        with self._db.session() as session:
            rec = session.get(KeyRecord, kid)
            if rec is None:
                raise KeyNotFound(kid)
            return self._info(rec)

    def list(
        self,
        *,
        purpose: KeyPurpose | str | None = None,
        owner: str | None = None,
        states: Iterable[KeyState] | None = None,
    ) -> list[KeyInfo]:
        with self._db.session() as session:
            stmt = select(KeyRecord).order_by(KeyRecord.created_at, KeyRecord.kid)
            if purpose is not None:
                stmt = stmt.where(KeyRecord.purpose == KeyPurpose(purpose).value)
            if owner is not None:
                stmt = stmt.where(KeyRecord.owner == owner)
            if states is not None:
                stmt = stmt.where(KeyRecord.state.in_([KeyState(s).value for s in states]))
            return [self._info(r) for r in session.scalars(stmt).all()]

    def jwks(
        self, purpose: KeyPurpose | str, *, owner: str = HUB
    ) -> dict[str, builtins.list[dict[str, object]]]:
        """Published keys: active and retiring (until their overlap ends)."""
        now = self._clock()
        keys = [
            k.jwk()
            for k in self.list(
                purpose=purpose, owner=owner, states=(KeyState.ACTIVE, KeyState.RETIRING)
            )
            if k.state is KeyState.ACTIVE or (k.verify_until is not None and k.verify_until > now)
        ]
        return {"keys": keys}

    # ------------------------------------------------------------------ helpers

    def _backend(self, name: str) -> Custody:
        try:
            return self._backends[name]
        except KeyError:
            raise KeyStateError(
                f"key backend {name!r} is not configured", code="key_backend"
            ) from None

    @staticmethod
    def _check_allowed(purpose: KeyPurpose, algorithm: str):  # type: ignore[no-untyped-def]
        alg = signature_algorithm(algorithm)
        if alg.name not in ALLOWED_ALGORITHMS[purpose]:
            raise UnsupportedAlgorithm(f"{alg.name} is not allowed for {purpose} keys")
        return alg

    @staticmethod
    def _info(rec: KeyRecord) -> KeyInfo:
        return KeyInfo(
            kid=rec.kid,
            purpose=KeyPurpose(rec.purpose),
            algorithm=signature_algorithm(rec.algorithm),
            owner=rec.owner,
            state=KeyState(rec.state),
            backend=rec.backend,
            public_key=load_public_key(rec.public_key_der),
            label=rec.label,
            created_at=rec.created_at,
            activated_at=rec.activated_at,
            retiring_at=rec.retiring_at,
            verify_until=rec.verify_until,
            retired_at=rec.retired_at,
        )

    def _emit(self, session: Session, kind: str, **details: object) -> None:
        if self._log is not None:
            self._log.append(session, kind, details)
