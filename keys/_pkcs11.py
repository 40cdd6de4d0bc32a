"""PKCS#11 custody: key pairs generated inside a token, used there, never exported.

Each key is a pair of token objects labelled (``CKA_LABEL``) and identified
(``CKA_ID``) by the ``ref`` the :class:`~keys.KeyStore` gives it. The private
object is ``CKA_TOKEN``, ``CKA_PRIVATE``, ``CKA_SENSITIVE``, not
``CKA_EXTRACTABLE`` and may only sign (no decrypt, unwrap, derive or
sign-recover); the database keeps the public key and the ref, never a private
part.

Mechanisms (SoftHSM2 2.6 as packaged by Debian was checked):

=======  ===============================  =======================================
alg      key generation                   signature
=======  ===============================  =======================================
ES256    CKM_EC_KEY_PAIR_GEN, secp256r1   CKM_ECDSA_SHA256 when the token has it,
                                          else CKM_ECDSA over the SHA-256 digest
                                          (SoftHSM2 2.6 has no CKM_ECDSA_SHA256);
                                          raw r‖s → DER
RS256    CKM_RSA_PKCS_KEY_PAIR_GEN        CKM_SHA256_RSA_PKCS
PS256    (3072 bits, or 2048/4096)        CKM_SHA256_RSA_PKCS_PSS (SHA-256, MGF1-SHA-256, salt 32)
EdDSA    CKM_EC_EDWARDS_KEY_PAIR_GEN,     CKM_EDDSA (pure Ed25519)
         CKA_EC_PARAMS = OID 1.3.101.112
=======  ===============================  =======================================

SM2 is refused: SoftHSM2 (and standard PKCS#11) has no SM2 mechanism; SM2
keys use the software backend (docs/keys.md).

Concurrency. python-pkcs11 calls ``C_Initialize(NULL)``, which tells the
module that the application will not call it from several threads at once
(SoftHSM2 then disables its internal locking). Every call into a module is
therefore made under one process-wide lock per module, through one logged-in
session per token shared by all :class:`Pkcs11Custody` instances (PKCS#11
login state is per application and token, not per session). python-pkcs11
loads a module once per path and process; this module keeps its own registry
on top of that, re-initialises a module in a forked child, and re-opens the
session (logging in again) when the token reports it closed or logged out.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import pkcs11
from asn1crypto.core import ObjectIdentifier, OctetString
from asn1crypto.keys import ECDomainParameters
from pkcs11 import MGF, Attribute, KeyType, Mechanism, ObjectClass
from pkcs11 import exceptions as p11e

from trust import (
    InvalidKey,
    KeyFamily,
    KeyNotFound,
    KeyStateError,
    PublicKey,
    SignatureAlgorithm,
    Signer,
    UnsupportedAlgorithm,
    b64url,
    public_key_from_jwk,
    raw_to_der,
)

from ._custody import Custody, StoredKey

__all__ = ["Pkcs11Custody", "Pkcs11Signer", "shutdown"]

T = TypeVar("T")

_P256_PARAMS: Final = ECDomainParameters(name="named", value="secp256r1").dump()
# RFC 8410 id-Ed25519; PKCS#11 3.0 also allows PrintableString "edwards25519"
# (SoftHSM2 2.6 accepts both, and refuses "curve25519").
_ED25519_PARAMS: Final = ObjectIdentifier("1.3.101.112").dump()
_PSS_PARAMS: Final = (Mechanism.SHA256, MGF.SHA256, 32)
_RSA_BITS: Final = (2048, 3072, 4096)

SM2_UNSUPPORTED: Final = (
    "SM2 keys cannot live in the PKCS#11 backend: SoftHSM2 has no SM2 mechanism "
    "(PKCS#11 defines none); SM2 keys use the software backend (see docs/keys.md)"
)

# Errors after which the session is re-opened (and the user logged in again).
_SESSION_LOST: Final = (
    p11e.SessionClosed,
    p11e.SessionHandleInvalid,
    p11e.UserNotLoggedIn,
)


def _backend_error(message: str) -> KeyStateError:
    return KeyStateError(message, code="key_backend")


# --------------------------------------------------------------------------- module registry


class _Module:
    """One loaded PKCS#11 module: the python-pkcs11 ``lib`` and the lock that
    serialises every call into it."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.tokens: dict[str, _Token] = {}
        self.stale = False  # set in a forked child: re-initialise before use
        self.closed = False  # set by shutdown()
        try:
            self.lib = pkcs11.lib(path)
        except p11e.PKCS11Error as exc:
            raise _backend_error(f"cannot load PKCS#11 module {path}: {exc}") from None

    def ensure_ready(self) -> None:
        """Re-initialise after a fork (PKCS#11: a child process must call C_Initialize)."""
        if self.closed:
            raise _backend_error(f"PKCS#11 module {self.path} was shut down")
        if not self.stale:
            return
        try:
            self.lib.finalize()
        except p11e.PKCS11Error:
            pass
        self.lib.initialize()
        self.stale = False

    def after_fork(self) -> None:
        self.lock = threading.RLock()  # a lock held by another thread at fork() stays held
        self.stale = True
        for token in self.tokens.values():
            token.drop_session()


_registry_lock = threading.Lock()
_modules: dict[str, _Module] = {}


def _after_fork_in_child() -> None:
    global _registry_lock
    _registry_lock = threading.Lock()
    for module in _modules.values():
        module.after_fork()


os.register_at_fork(after_in_child=_after_fork_in_child)


def _module(path: str) -> _Module:
    with _registry_lock:
        module = _modules.get(path)
        if module is None:
            module = _modules[path] = _Module(path)
        return module


def shutdown() -> None:
    """Close every session and finalise every module this process loaded.

    For process exit and tests: the next :class:`Pkcs11Custody` loads and
    initialises the module again (re-reading e.g. ``SOFTHSM2_CONF``).
    """
    with _registry_lock:
        modules = list(_modules.values())
        _modules.clear()
    for module in modules:
        with module.lock:
            for token in module.tokens.values():
                token.close()
            module.tokens.clear()
            module.closed = True
            try:
                module.lib.finalize()
            except p11e.PKCS11Error:
                pass


class _Token:
    """The one logged-in session on one token, shared in the process.

    ``generation`` changes whenever the session is replaced, so that object
    handles found on an older session are looked up again.
    """

    def __init__(self, module: _Module, label: str, pin: str) -> None:
        self.module = module
        self.label = label
        self._pin = pin
        self._session: pkcs11.Session | None = None
        self.generation = 0
        with module.lock:
            module.ensure_ready()
            try:
                self._token = module.lib.get_token(token_label=label)
            except p11e.NoSuchToken:
                raise _backend_error(f"no PKCS#11 token labelled {label!r}") from None
            except p11e.MultipleTokensReturned:
                raise _backend_error(f"several PKCS#11 tokens labelled {label!r}") from None
            self._open()
            self.mechanisms = frozenset(self._token.slot.get_mechanisms())

    def same_pin(self, pin: str) -> bool:
        return hmac.compare_digest(self._pin.encode(), pin.encode())

    def _open(self) -> pkcs11.Session:
        try:
            session = self._token.open(rw=True, user_pin=self._pin)
        except p11e.UserAlreadyLoggedIn:
            # Login is per application and token: another session of this
            # process is logged in, so a plain session is a user session too.
            session = self._token.open(rw=True)
        except (p11e.PinIncorrect, p11e.PinInvalid, p11e.PinLenRange):
            raise _backend_error(f"PKCS#11 login to token {self.label!r} failed") from None
        except p11e.PinLocked:
            raise _backend_error(f"the user PIN of token {self.label!r} is locked") from None
        except p11e.PKCS11Error as exc:
            raise _backend_error(
                f"cannot open a session on token {self.label!r}: {type(exc).__name__}"
            ) from None
        self._session = session
        self.generation += 1
        return session

    def drop_session(self) -> None:
        """Forget the session without calling the module (it is gone or unusable)."""
        self._session = None
        self.generation += 1

    def close(self) -> None:
        if self._session is not None:
            try:
                self._session.close()  # C_Logout + C_CloseSession
            except p11e.PKCS11Error:
                pass
        self.drop_session()

    def run(self, op: Callable[[pkcs11.Session], T], *, what: str) -> T:
        """Run ``op`` on the shared session under the module lock, re-opening the
        session once if the token lost it (logout, closed session, re-init)."""
        with self.module.lock:
            for attempt in (1, 2):
                self.module.ensure_ready()
                session = self._session or self._open()
                try:
                    return op(session)
                except _SESSION_LOST:
                    self.drop_session()
                    if attempt == 2:
                        raise _backend_error(f"PKCS#11 {what}: token session lost") from None
                except p11e.PKCS11Error as exc:
                    raise _backend_error(f"PKCS#11 {what} failed: {type(exc).__name__}") from exc
        raise AssertionError("unreachable")  # pragma: no cover

    @contextmanager
    def session(self) -> Iterator[pkcs11.Session]:
        """The shared session, held under the module lock (inspection, tests)."""
        with self.module.lock:
            self.module.ensure_ready()
            yield self._session or self._open()


def _token(module_path: str, label: str, pin: str) -> _Token:
    module = _module(module_path)
    with module.lock:
        token = module.tokens.get(label)
        if token is None:
            token = module.tokens[label] = _Token(module, label, pin)
        elif not token.same_pin(pin):
            raise _backend_error(
                f"token {label!r} is already open in this process with a different PIN"
            )
        return token


# --------------------------------------------------------------------------- key material


@dataclass(frozen=True, slots=True)
class _Spec:
    key_type: KeyType
    gen_mechanism: Mechanism


_SPECS: Final[dict[KeyFamily, _Spec]] = {
    KeyFamily.P256: _Spec(KeyType.EC, Mechanism.EC_KEY_PAIR_GEN),
    KeyFamily.RSA: _Spec(KeyType.RSA, Mechanism.RSA_PKCS_KEY_PAIR_GEN),
    KeyFamily.ED25519: _Spec(KeyType.EC_EDWARDS, Mechanism.EC_EDWARDS_KEY_PAIR_GEN),
}


def _spec(family: KeyFamily) -> _Spec:
    if family is KeyFamily.SM2:
        raise UnsupportedAlgorithm(SM2_UNSUPPORTED)
    spec = _SPECS.get(family)
    if spec is None:
        raise UnsupportedAlgorithm(f"the PKCS#11 backend does not hold {family} keys")
    return spec


def _ec_point(value: bytes, size: int) -> bytes:
    """CKA_EC_POINT is a DER OCTET STRING (PKCS#11 2.40); some modules give it bare."""
    if len(value) == size:
        return value
    try:
        point = OctetString.load(value).native
    except ValueError:
        raise InvalidKey("token returned a malformed CKA_EC_POINT") from None
    if not isinstance(point, bytes) or len(point) != size:
        raise InvalidKey("token returned a CKA_EC_POINT of the wrong size")
    return point


def _token_public_key(pub: pkcs11.PublicKey, family: KeyFamily) -> PublicKey:
    """The trust :class:`PublicKey` of a token public-key object."""
    if family is KeyFamily.P256:
        if pub[Attribute.EC_PARAMS] != _P256_PARAMS:
            raise InvalidKey("token key is not on P-256")
        point = _ec_point(pub[Attribute.EC_POINT], 65)
        if point[0] != 0x04:
            raise InvalidKey("token returned a compressed or invalid EC point")
        jwk = {"kty": "EC", "crv": "P-256", "x": b64url(point[1:33]), "y": b64url(point[33:])}
    elif family is KeyFamily.ED25519:
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64url(_ec_point(pub[Attribute.EC_POINT], 32))}
    else:
        n = int.from_bytes(pub[Attribute.MODULUS], "big")
        e = int.from_bytes(pub[Attribute.PUBLIC_EXPONENT], "big")
        jwk = {
            "kty": "RSA",
            "n": b64url(n.to_bytes((n.bit_length() + 7) // 8, "big")),
            "e": b64url(e.to_bytes((e.bit_length() + 7) // 8, "big")),
        }
    return public_key_from_jwk(jwk)


def _one(session: pkcs11.Session, ref: str, cls: ObjectClass) -> Any:
    found = list(
        session.get_objects(
            {Attribute.CLASS: cls, Attribute.LABEL: ref, Attribute.ID: ref.encode()}
        )
    )
    if not found:
        kind = "private" if cls is ObjectClass.PRIVATE_KEY else "public"
        raise KeyNotFound(f"the PKCS#11 token has no {kind} key {ref!r}")
    if len(found) > 1:
        raise InvalidKey(f"the PKCS#11 token holds several objects named {ref!r}")
    return found[0]


# --------------------------------------------------------------------------- custody


class Pkcs11Custody(Custody):
    """Keys generated and used inside a PKCS#11 token (SoftHSM2, an HSM)."""

    backend = "pkcs11"

    def __init__(
        self, module_path: str, token_label: str, pin: str, *, rsa_bits: int = 3072
    ) -> None:
        if rsa_bits not in _RSA_BITS:
            raise InvalidKey("RSA key size must be 2048, 3072 or 4096")
        self._rsa_bits = rsa_bits
        self._token = _token(module_path, token_label, pin)

    def __repr__(self) -> str:  # never show the PIN
        return f"<Pkcs11Custody {self._token.module.path} token={self._token.label!r}>"

    @property
    def mechanisms(self) -> frozenset[Mechanism]:
        """The mechanisms the token announces."""
        return self._token.mechanisms

    def generate(
        self, ref: str, family: KeyFamily, *, context: Callable[[PublicKey], bytes]
    ) -> StoredKey:
        spec = _spec(family)
        if spec.gen_mechanism not in self._token.mechanisms:
            raise UnsupportedAlgorithm(f"the PKCS#11 token has no {spec.gen_mechanism.name}")
        ident = ref.encode()
        # Everything explicit: module defaults differ (SoftHSM2 defaults
        # CKA_SIGN_RECOVER to true for RSA, and CKA_MODIFIABLE to true, which
        # would let CKA_DECRYPT or CKA_DERIVE be switched on later).
        public_template: dict[Attribute, Any] = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: False,
            Attribute.MODIFIABLE: False,
            Attribute.VERIFY: True,
            Attribute.VERIFY_RECOVER: False,
            Attribute.ENCRYPT: False,
            Attribute.WRAP: False,
            Attribute.DERIVE: False,
        }
        private_template: dict[Attribute, Any] = {
            Attribute.TOKEN: True,
            Attribute.PRIVATE: True,
            Attribute.SENSITIVE: True,
            Attribute.EXTRACTABLE: False,
            Attribute.MODIFIABLE: False,
            Attribute.COPYABLE: False,
            Attribute.SIGN: True,
            Attribute.SIGN_RECOVER: False,
            Attribute.DECRYPT: False,
            Attribute.UNWRAP: False,
            Attribute.DERIVE: False,
        }
        key_length = None
        if family is KeyFamily.RSA:
            key_length = self._rsa_bits
        else:
            public_template[Attribute.EC_PARAMS] = (
                _P256_PARAMS if family is KeyFamily.P256 else _ED25519_PARAMS
            )

        def make(session: pkcs11.Session) -> PublicKey:
            if list(session.get_objects({Attribute.LABEL: ref})):
                raise KeyStateError(f"the PKCS#11 token already holds {ref!r}", code="key_conflict")
            args: dict[str, Any] = {
                "id": ident,
                "label": ref,
                "store": True,
                "mechanism": spec.gen_mechanism,
                "public_template": public_template,
                "private_template": private_template,
            }
            try:
                pub, _ = session.generate_keypair(spec.key_type, key_length, **args)
            except p11e.AttributeTypeInvalid:
                # CKA_COPYABLE is PKCS#11 2.40; a 2.20 module refuses it (no C_CopyObject
                # can lift CKA_SENSITIVE or CKA_EXTRACTABLE anyway).
                args["private_template"] = {
                    k: v for k, v in private_template.items() if k is not Attribute.COPYABLE
                }
                pub, _ = session.generate_keypair(spec.key_type, key_length, **args)
            try:
                return _token_public_key(pub, family)
            except BaseException:
                _destroy(session, ref)
                raise

        public_key = self._token.run(make, what=f"{family} key generation")
        return StoredKey(public_key=public_key, blob=None, ref=ref)

    def signer(
        self,
        algorithm: SignatureAlgorithm,
        public_key: PublicKey,
        blob: bytes | None,
        ref: str | None,
        *,
        context: bytes,
        key_id: str,
    ) -> Signer:
        if ref is None:
            raise KeyNotFound("PKCS#11 key record has no token reference")
        return Pkcs11Signer(self._token, algorithm, public_key, ref, key_id=key_id)

    def destroy(self, ref: str | None) -> None:
        """Delete the key pair's token objects (idempotent)."""
        if ref is None:
            return
        self._token.run(lambda session: _destroy(session, ref), what="key destruction")

    @contextmanager
    def session(self) -> Iterator[pkcs11.Session]:
        """The logged-in session, under the module lock. For inspection and tests:
        nothing read through it can be private key material (``CKA_SENSITIVE``)."""
        with self._token.session() as session:
            yield session


def _destroy(session: pkcs11.Session, ref: str) -> None:
    for obj in list(session.get_objects({Attribute.LABEL: ref, Attribute.ID: ref.encode()})):
        obj.destroy()


# --------------------------------------------------------------------------- signer


class Pkcs11Signer(Signer):
    """A :class:`Signer` whose private key stays in the token."""

    def __init__(
        self,
        token: _Token,
        algorithm: SignatureAlgorithm,
        public_key: PublicKey,
        ref: str,
        *,
        key_id: str | None = None,
    ) -> None:
        spec = _spec(algorithm.family)
        if public_key.family is not algorithm.family:
            raise UnsupportedAlgorithm(f"{algorithm.name} does not fit a {public_key.family} key")
        self.algorithm = algorithm
        self.key_id = key_id
        self._token = token
        self._ref = ref
        self._public = public_key
        self._key: Any = None
        self._generation = -1
        self._prehash = False
        self._param: Any = None
        name = algorithm.name
        if name == "ES256":
            if Mechanism.ECDSA_SHA256 in token.mechanisms:
                self._mechanism = Mechanism.ECDSA_SHA256
            else:
                self._mechanism, self._prehash = Mechanism.ECDSA, True
        elif name == "RS256":
            self._mechanism = Mechanism.SHA256_RSA_PKCS
        elif name == "PS256":
            self._mechanism, self._param = Mechanism.SHA256_RSA_PKCS_PSS, _PSS_PARAMS
        elif name == "EdDSA":
            self._mechanism = Mechanism.EDDSA
        else:
            raise UnsupportedAlgorithm(f"the PKCS#11 backend does not sign {name}")
        if self._mechanism not in token.mechanisms:
            raise UnsupportedAlgorithm(f"the PKCS#11 token has no {self._mechanism.name}")

        def check(session: pkcs11.Session) -> None:
            pub = _one(session, ref, ObjectClass.PUBLIC_KEY)
            priv = _one(session, ref, ObjectClass.PRIVATE_KEY)
            if (
                pub[Attribute.KEY_TYPE] != spec.key_type
                or priv[Attribute.KEY_TYPE] != spec.key_type
            ):
                raise InvalidKey(f"token key {ref!r} is not a {algorithm.family} key")
            if _token_public_key(pub, algorithm.family) != public_key:
                raise InvalidKey(f"token key {ref!r} does not match its stored public key")
            if not (
                priv[Attribute.SIGN]
                and priv[Attribute.SENSITIVE]
                and not priv[Attribute.EXTRACTABLE]
            ):
                raise InvalidKey(
                    f"token key {ref!r} is not a sensitive, non-extractable signing key"
                )
            self._key, self._generation = priv, token.generation

        token.run(check, what="key lookup")
        # The public object matches the record; prove the private object pairs with it.
        probe = b"govtrust pkcs11 key check\x00" + ref.encode()
        if not public_key.verify(algorithm, probe, self.sign(probe)):
            raise InvalidKey(f"token key {ref!r} does not sign for its stored public key")

    @property
    def public_key(self) -> PublicKey:
        return self._public

    def _sign_token(self, data: bytes) -> bytes:
        message = hashlib.sha256(data).digest() if self._prehash else data

        def op(session: pkcs11.Session) -> bytes:
            if self._key is None or self._generation != self._token.generation:
                self._key = _one(session, self._ref, ObjectClass.PRIVATE_KEY)
                self._generation = self._token.generation
            signature: bytes = self._key.sign(
                message, mechanism=self._mechanism, mechanism_param=self._param
            )
            return signature

        return self._token.run(op, what=f"{self.algorithm.name} signature")

    def sign(self, data: bytes) -> bytes:
        sig = self._sign_token(data)
        if self.algorithm.family is KeyFamily.P256:
            return raw_to_der(sig, 32)  # the token gives r‖s (PKCS#11 §2.3.1)
        return sig

    def sign_raw(self, data: bytes) -> bytes:
        sig = self._sign_token(data)
        if self.algorithm.family is KeyFamily.P256:
            raw_to_der(sig, 32)  # validates the width and 0 < r, s
        return sig

    def __repr__(self) -> str:
        return f"<Pkcs11Signer {self.algorithm.name} {self._ref}>"
