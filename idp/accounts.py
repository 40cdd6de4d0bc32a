"""Accounts of the identity provider: citizens (公民) and enterprise operators
(法人经办人) — registration, password sign-in with progressive throttling, and
the TOTP second factor with one-time recovery codes.

Standards and guidance implemented
----------------------------------

* **GB 11643-1999** citizen identity numbers and **GB 32100-2015** unified
  social credit codes, validated by :mod:`trust.identifiers` and stored in
  canonical form (upper-case ``X``, upper-case USCC).
* **OWASP Password Storage Cheat Sheet**: argon2id at one of the cheat sheet's
  minimum configurations, m = 7168 KiB (7 MiB), t = 5, p = 1 (equal in strength
  to its 19 MiB, t = 2 one and cheaper in CPU; Keycloak's default); hashes made
  with other parameters are replaced at the next successful sign-in. Passwords are NFKC-normalised first
  (NIST SP 800-63B §5.1.1.2), so a full-width ``Ａ`` typed by an input method is
  the same password as ``A``.
* **OWASP Authentication Cheat Sheet** / SECURITY.md "Login": one result for
  unknown user, wrong password, throttled and disabled accounts, and the same
  argon2 work on each path (an unknown user is checked against a dummy hash with
  the current parameters). Why a sign-in failed is written to ``idp_events``
  (``detail.reason``) and never returned to the caller.
* **RFC 6238 / RFC 4226** (:mod:`idp.totp`): TOTP second factor, seeds
  envelope-encrypted under the master key (``idp-totp|<account id>`` as
  associated data), replay guard by an atomic ``UPDATE … WHERE totp_last_step <
  :step``.

Throttling (NIST SP 800-63B §5.2.2 rate limiting, Keycloak's brute-force
detector) — counters in ``idp_login_throttle``:

=============================  ==========================  ==================
key                            first block after           block length
=============================  ==========================  ==================
``acct-ip:<account>|<net>``    5 failures                  2^(n−5) s, ≤ 15 min
``ip:<net>``                   30 failures (any account)   2^(n−30) s, ≤ 15 min
``acct:<account>``             20 failures (any address)   2^(n−20) s, ≤ 30 s
=============================  ==========================  ==================

``<net>`` is the IPv4 address, or the IPv6 /64 (one subscriber's allocation).
An attempt is refused, whatever the password, while any of its three keys is
blocked. Refused attempts are logged but **not counted**: a block's length
depends only on failures that were actually evaluated, so hammering during a
block cannot push it out, and an address throttled on ``acct-ip`` feeds the
account-wide counter at most once per block (about once per 15 minutes at the
cap). The account-wide block never exceeds 30 s, so a victim signing in from
elsewhere is delayed, never locked out. Counters restart 24 h after their
window began. A successful sign-in (with the second factor, when enrolled)
clears ``acct-ip`` and ``acct``; never ``ip``.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import re
import secrets
import threading
import unicodedata
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from govtrust.db import Database, insert_now, utcnow
from keys import MasterKey
from trust import TrustError
from trust.identifiers import InvalidIdentifier, validate_citizen_id, validate_uscc
from trust.passwords import OWASP_ARGON2ID

from . import totp
from .models import Account, AuthEvent, LoginThrottle

__all__ = [
    "Accounts",
    "AccountError",
    "AccountView",
    "AuthEventView",
    "LoginResult",
    "ThrottleRule",
    "THROTTLE_RULES",
    "PASSWORD_HASHER",
    "PASSWORD_MIN_LENGTH",
    "PASSWORD_MAX_LENGTH",
    "RECOVERY_CODE_COUNT",
    "password_problem",
]

AccountKind = Literal["citizen", "enterprise"]

#: An OWASP Password Storage Cheat Sheet minimum configuration for argon2id
#: (m = 7 MiB, t = 5, p = 1; see trust.passwords), computed by libsodium.
PASSWORD_HASHER: Final = OWASP_ARGON2ID
PASSWORD_MIN_LENGTH: Final = 10
#: NIST SP 800-63B asks that at least 64 characters be allowed.
PASSWORD_MAX_LENGTH: Final = 128
RECOVERY_CODE_COUNT: Final = 10

_USERNAME_RE: Final = re.compile(r"[A-Za-z0-9_.@-]{3,64}")
_MOBILE_RE: Final = re.compile(r"1[3-9][0-9]{9}")
_RECOVERY_RE: Final = re.compile(r"[a-z2-7]{10}")
_RECOVERY_ALPHABET: Final = "abcdefghijklmnopqrstuvwxyz234567"  # RFC 4648 base32, lower case
_CONSUMED: Final = ""  # a used recovery code's slot: keeps the list non-empty (see has_totp)
_WINDOW: Final = timedelta(hours=24)


class AccountError(TrustError):
    """An account operation was refused; ``code`` says why, ``field`` names the input."""

    code = "account_error"

    def __init__(self, message: str = "", *, code: str, field: str | None = None) -> None:
        super().__init__(message or code, code=code)
        self.field = field


@dataclass(frozen=True, slots=True)
class AccountView:
    """What the rest of the hub may know about an account (no secrets)."""

    id: str
    username: str
    kind: AccountKind
    name: str
    id_number: str | None
    phone: str | None
    enterprise_name: str | None
    uscc: str | None
    has_totp: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class LoginResult:
    """The outcome of a password check. Every failure is the same value."""

    ok: bool
    account: AccountView | None
    second_factor_required: bool


_FAILED: Final = LoginResult(ok=False, account=None, second_factor_required=False)


@dataclass(frozen=True, slots=True)
class AuthEventView:
    """One line of the account page's "recent activity" (no internal reasons)."""

    at: datetime
    kind: str
    ip: str | None
    client_id: str | None


@dataclass(frozen=True, slots=True)
class ThrottleRule:
    """``free`` failures are allowed; the n-th failure after that blocks the key
    for 2^(n - free) seconds, never longer than ``cap``."""

    name: str
    free: int
    cap: timedelta

    def block_for(self, failures: int) -> timedelta | None:
        if failures < self.free:
            return None
        exponent = min(failures - self.free, 30)  # 2^30 s is far beyond any cap
        return min(timedelta(seconds=2**exponent), self.cap)


ACCT_IP: Final = ThrottleRule("acct-ip", 5, timedelta(minutes=15))
IP: Final = ThrottleRule("ip", 30, timedelta(minutes=15))
ACCT: Final = ThrottleRule("acct", 20, timedelta(seconds=30))
THROTTLE_RULES: Final = (ACCT_IP, IP, ACCT)


def password_problem(password: str, *, username: str | None = None) -> str | None:
    """Why ``password`` is refused, or None. The policy, kept short on purpose:

    * 10 to 128 characters after NFKC normalisation, no control characters;
    * characters from at least two of: lower-case letters, upper-case letters,
      digits, anything else (punctuation, spaces, Chinese characters …) — so
      ``aaaaaaaaaa`` and ``1234567890`` are refused;
    * not containing the username.
    """
    if not isinstance(password, str):
        return "the password must be text"
    pw = _normalise_password(password)
    if len(pw) < PASSWORD_MIN_LENGTH:
        return f"at least {PASSWORD_MIN_LENGTH} characters"
    if len(pw) > PASSWORD_MAX_LENGTH:
        return f"at most {PASSWORD_MAX_LENGTH} characters"
    if any(unicodedata.category(c) == "Cc" for c in pw):
        return "no control characters"
    classes = {
        "lower" if c.islower() else "upper" if c.isupper() else "digit" if c.isdigit() else "other"
        for c in pw
    }
    if len(classes) < 2:
        return "mix at least two of: lower case, upper case, digits, other characters"
    if username and username.casefold() in pw.casefold():
        return "must not contain the username"
    return None


class Accounts:
    """Account service over the IdP tables (no web framework here)."""

    def __init__(
        self,
        db: Database,
        *,
        master_key: MasterKey,
        clock: Callable[[], datetime] = utcnow,
        hasher: PasswordHasher | None = None,
    ) -> None:
        self._db = db
        self._master_key = master_key
        self._clock = clock
        self.hasher = hasher if hasher is not None else PASSWORD_HASHER
        # Made now, not on the first unknown user (that first request would be slower).
        self._dummy_hash = _dummy_hash(self.hasher)

    # ------------------------------------------------------------------ creation

    def create_citizen(
        self,
        *,
        username: str,
        password: str,
        name: str,
        id_number: str,
        phone: str | None = None,
    ) -> AccountView:
        """Register a citizen; ``id_number`` is a GB 11643 citizen identity number."""
        return self._create(
            kind="citizen",
            username=username,
            password=password,
            name=name,
            id_number=_citizen_id(id_number),
            phone=phone,
            enterprise_name=None,
            uscc=None,
        )

    def create_enterprise(
        self,
        *,
        username: str,
        password: str,
        name: str,
        enterprise_name: str,
        uscc: str,
        phone: str | None = None,
        id_number: str | None = None,
    ) -> AccountView:
        """Register an enterprise operator: ``name`` is the operator, ``uscc`` the
        enterprise's GB 32100 code; ``id_number`` (the operator's) is optional."""
        try:
            code = validate_uscc(uscc).code
        except InvalidIdentifier as exc:
            raise AccountError(
                f"invalid unified social credit code: {exc.reason}",
                code="invalid_uscc",
                field="uscc",
            ) from None
        return self._create(
            kind="enterprise",
            username=username,
            password=password,
            name=name,
            id_number=_citizen_id(id_number) if id_number is not None else None,
            phone=phone,
            enterprise_name=_text(enterprise_name, 200, "enterprise_name"),
            uscc=code,
        )

    def _create(
        self,
        *,
        kind: AccountKind,
        username: str,
        password: str,
        name: str,
        id_number: str | None,
        phone: str | None,
        enterprise_name: str | None,
        uscc: str | None,
    ) -> AccountView:
        uname = _username(username)
        problem = password_problem(password, username=uname)
        if problem is not None:
            raise AccountError(
                f"password too weak: {problem}", code="weak_password", field="password"
            )
        account = Account(
            id=str(uuid.uuid4()),
            username=uname,
            kind=kind,
            password_hash=self.hasher.hash(_normalise_password(password)),
            name=_text(name, 100, "name"),
            id_number=id_number,
            phone=_phone(phone) if phone is not None else None,
            enterprise_name=enterprise_name,
            uscc=uscc,
            totp_secret=None,
            totp_last_step=0,
            recovery_codes=[],
            failed_logins=0,
            locked_until=None,
            created_at=self._clock(),
            disabled=False,
        )
        view = _view(account)
        taken: str | None = None
        try:
            with self._db.write() as s:
                if s.scalar(select(Account.id).where(Account.username == uname)) is not None:
                    taken = "username"
                elif id_number is not None and (
                    s.scalar(select(Account.id).where(Account.id_number == id_number)) is not None
                ):
                    taken = "id_number"
                else:
                    s.add(account)
                    s.add(self._event("account_created", account.id, None, {"kind": kind}))
        except IntegrityError:  # a concurrent registration won a unique constraint
            taken = self._taken(uname, id_number)
        if taken is not None:
            raise AccountError(
                f"an account with this {taken.replace('_', ' ')} already exists",
                code="account_exists",
                field=taken,
            )
        return view

    def _taken(self, username: str, id_number: str | None) -> str:
        with self._db.session() as s:
            if s.scalar(select(Account.id).where(Account.username == username)) is not None:
                return "username"
        return "id_number" if id_number is not None else "username"

    # ------------------------------------------------------------------ lookups

    def get(self, account_id: str) -> AccountView | None:
        with self._db.session() as s:
            account = s.get(Account, account_id)
            return _view(account) if account is not None else None

    def by_username(self, username: str) -> AccountView | None:
        uname = _lookup_name(username)
        if uname is None:
            return None
        with self._db.session() as s:
            account = s.scalars(select(Account).where(Account.username == uname)).first()
            return _view(account) if account is not None else None

    def has_totp(self, account_id: str) -> bool:
        view = self.get(account_id)
        return view is not None and view.has_totp

    def set_password(self, account_id: str, new_password: str) -> None:
        """Replace the password (the caller has checked who is asking)."""
        view = self.get(account_id)
        if view is None:
            raise AccountError("no such account", code="unknown_account")
        problem = password_problem(new_password, username=view.username)
        if problem is not None:
            raise AccountError(
                f"password too weak: {problem}", code="weak_password", field="password"
            )
        new_hash = self.hasher.hash(_normalise_password(new_password))
        with self._db.write() as s:
            s.execute(
                update(Account)
                .where(Account.id == account_id)
                .values(password_hash=new_hash)
                .execution_options(synchronize_session=False)
            )
            s.add(self._event("password_changed", account_id, None, {}))

    def events(self, account_id: str, limit: int = 50) -> list[AuthEventView]:
        """The account's recent events, newest first (reasons stay server-side)."""
        limit = max(1, min(int(limit), 500))
        with self._db.session() as s:
            rows = s.scalars(
                select(AuthEvent)
                .where(AuthEvent.account_id == account_id)
                .order_by(AuthEvent.at.desc(), AuthEvent.id.desc())
                .limit(limit)
            ).all()
            return [
                AuthEventView(at=e.at, kind=e.kind, ip=e.ip, client_id=e.client_id) for e in rows
            ]

    # ------------------------------------------------------------------ sign-in

    def authenticate(
        self,
        username: str,
        password: str,
        *,
        ip: str,
        on_success: Callable[[AccountView], None] | None = None,
    ) -> LoginResult:
        """Check a password. Unknown user, wrong password, throttled and disabled
        all return the same :class:`LoginResult` after the same argon2 work.

        ``on_success`` is called with the account inside the transaction that
        records a successful sign-in (``login_succeeded``), so what it writes
        through the same :class:`~govtrust.db.Database` (a hub session) commits
        with that event or not at all: one write transaction instead of two. It is
        not called on failure; the caller still reads the result."""
        now = self._clock()
        uname = _lookup_name(username)
        found: tuple[str, str, bool, AccountView] | None = None
        if uname is not None:
            db = self._db
            with db.connection() as c:
                account = c.execute(db.statement(_account_by_name), {"name": uname}).first()
                if account is not None:
                    found = (account.id, account.password_hash, account.disabled, _view(account))

        # The expensive part runs outside any transaction (no lock held for it).
        pw = _normalise_password(password) if isinstance(password, str) else ""
        if found is None:
            self._verify(self._dummy_hash, pw)
            reason: str | None = "unknown_user"
            key_owner = _pseudo_account_key(uname or str(username))
            account_id: str | None = None
        else:
            account_id, stored_hash, disabled, _ = found
            key_owner = account_id
            reason = None if self._verify(stored_hash, pw) else "wrong_password"
            if reason is None and disabled:
                reason = "disabled"

        second_factor = found is not None and found[3].has_totp
        if (
            reason is None
            and found is not None
            and self._quiet_success(
                key_owner, ip, now, account_id, second_factor, found[3], on_success
            )
        ):
            return self._succeeded(found, pw, second_factor)
        with self._db.unit() as s:
            throttle = _Throttle(s, self._db, key_owner, ip, now)
            blocked = throttle.blocked()
            if blocked:
                reason = "throttled"
            if reason is None:
                # With a second factor enrolled, counters are cleared only once
                # it is passed: otherwise each correct password would buy a
                # fresh set of TOTP guesses.
                if not second_factor:
                    throttle.succeeded()
                s.add(
                    self._event(
                        "login_succeeded", account_id, ip, {"second_factor_required": second_factor}
                    )
                )
                if on_success is not None and found is not None and not second_factor:
                    s.flush()
                    on_success(found[3])
            else:
                detail: dict[str, Any] = {"reason": reason}
                if blocked:
                    detail["blocked_by"] = blocked
                else:
                    for event in throttle.failed(account_id):
                        s.add(event)
                s.add(self._event("login_failed", account_id, ip, detail))

        if reason is not None or found is None:
            return _FAILED
        return self._succeeded(found, pw, second_factor)

    def _succeeded(
        self, found: tuple[str, str, bool, AccountView], pw: str, second_factor: bool
    ) -> LoginResult:
        if self.hasher.check_needs_rehash(found[1]):
            self._rehash(found[0], found[1], pw)
        return LoginResult(ok=True, account=found[3], second_factor_required=second_factor)

    def _quiet_success(
        self,
        owner: str,
        ip: str,
        now: datetime,
        account_id: str | None,
        second_factor: bool,
        account: AccountView,
        on_success: Callable[[AccountView], None] | None,
    ) -> bool:
        """The common case of a correct password: no block running and no counter to
        clear. Then a success is one read of the throttle rows and the event — no
        throttle rows are created or locked — and ``on_success`` in the same
        transaction. Anything else (a block, failures to reset) returns False and
        goes through :class:`_Throttle`, which decides."""
        keys = _throttle_keys(owner, ip)
        db = self._db
        with db.unit() as unit:
            s = unit.connection()
            rows = s.execute(db.statement(_throttle_rows), {"keys": list(keys.values())})
            by_key = {row.key: row for row in rows}
            for rule, key in keys.items():
                row = by_key.get(key)
                if row is None:
                    continue
                if row.blocked_until is not None and row.blocked_until > now:
                    return False
                if rule in (ACCT_IP, ACCT) and not second_factor and row.failures:
                    return False
            insert_now(
                s,
                self._event(
                    "login_succeeded", account_id, ip, {"second_factor_required": second_factor}
                ),
            )
            if on_success is not None and not second_factor:
                on_success(account)
        return True

    def _verify(self, stored_hash: str, password: str) -> bool:
        try:
            return self.hasher.verify(stored_hash, password)
        except (VerificationError, InvalidHashError):
            return False

    def _rehash(self, account_id: str, old_hash: str, password: str) -> None:
        """New parameters: replace the hash, unless the password changed meanwhile."""
        new_hash = self.hasher.hash(password)
        with self._db.write() as s:
            s.execute(
                update(Account)
                .where(Account.id == account_id, Account.password_hash == old_hash)
                .values(password_hash=new_hash)
                .execution_options(synchronize_session=False)
            )

    # ------------------------------------------------------------------ second factor

    def begin_totp_enrolment(self, account_id: str) -> tuple[str, str]:
        """Store a new, not yet confirmed TOTP seed; returns (base32 secret, otpauth URI).

        Starting again replaces a pending seed; a confirmed one is never replaced
        here (that would let whoever holds a password-only session drop the
        second factor).
        """
        seed = totp.generate_secret()
        blob = self._master_key.wrap(seed, context=_totp_context(account_id))
        outcome = "ok"
        username = ""
        with self._db.write() as s:
            account = s.scalars(
                select(Account).where(Account.id == account_id).with_for_update()
            ).first()
            if account is None:
                outcome = "unknown_account"
            elif _confirmed(account):
                outcome = "totp_already_enrolled"
            else:
                username = account.username
                account.totp_secret = blob
                account.totp_last_step = 0
                account.recovery_codes = []
                s.add(self._event("totp_enrolment_started", account_id, None, {}))
        if outcome != "ok":
            raise AccountError(outcome.replace("_", " "), code=outcome)
        return totp.b32encode(seed), totp.otpauth_uri(seed, username)

    def confirm_totp(self, account_id: str, code: str) -> list[str]:
        """Confirm the pending seed with a code from the app; returns the ten
        recovery codes, shown once (only their SHA-256 digests are kept)."""
        now = self._clock()
        with self._db.session() as s:
            account = s.get(Account, account_id)
            if account is None:
                raise AccountError("no such account", code="unknown_account")
            if _confirmed(account):
                raise AccountError("TOTP is already enrolled", code="totp_already_enrolled")
            blob = account.totp_secret
            last_step = account.totp_last_step
        if blob is None:
            raise AccountError("no TOTP enrolment has been started", code="no_pending_totp")
        seed = self._master_key.unwrap(blob, context=_totp_context(account_id))
        step = totp.verify(seed, code, at=now, last_step=last_step)
        if step is None:
            raise AccountError("wrong or expired code", code="invalid_totp_code", field="code")
        codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
        confirmed = False
        with self._db.write() as s:
            account = s.scalars(
                select(Account).where(Account.id == account_id).with_for_update()
            ).first()
            # Re-checked under the row lock: the same seed, still pending, step unused.
            if (
                account is not None
                and account.totp_secret == blob
                and not _confirmed(account)
                and account.totp_last_step < step
            ):
                account.totp_last_step = step
                account.recovery_codes = [_recovery_digest(c) for c in codes]
                s.add(self._event("totp_enrolled", account_id, None, {}))
                confirmed = True
        if not confirmed:
            raise AccountError("the enrolment changed meanwhile", code="invalid_totp_code")
        return codes

    def verify_second_factor(self, account_id: str, code: str, *, ip: str) -> bool:
        """A TOTP code (6 digits) or a recovery code (``xxxxx-xxxxx``), each usable
        once. Failures count in the same throttle as passwords; while blocked,
        even a right code fails. Success clears the ``acct-ip`` and ``acct``
        counters."""
        now = self._clock()
        with self._db.session() as s:
            account = s.get(Account, account_id)
            if account is None or account.disabled or not _confirmed(account):
                return False
            blob = account.totp_secret
            last_step = account.totp_last_step
        assert blob is not None  # _confirmed
        text = code.strip() if isinstance(code, str) else ""
        step: int | None = None
        digest: str | None = None
        replayed = False
        if len(text) == totp.DIGITS and text.isascii() and text.isdigit():
            method = "totp"
            seed = self._master_key.unwrap(blob, context=_totp_context(account_id))
            step = totp.verify(seed, text, at=now, last_step=last_step)
            # Only to name the failure in the log; the guard is the UPDATE below.
            replayed = step is None and totp.verify(seed, text, at=now, last_step=-1) is not None
        else:
            method = "recovery_code"
            normalised = "".join(text.split()).replace("-", "").lower()
            if _RECOVERY_RE.fullmatch(normalised):
                digest = _recovery_digest(normalised)

        ok = False
        with self._db.write() as s:
            throttle = _Throttle(s, self._db, account_id, ip, now)
            blocked = throttle.blocked()
            reason = "throttled" if blocked else "replayed" if replayed else "invalid_code"
            if not blocked and step is not None:
                result = s.execute(
                    update(Account)
                    .where(Account.id == account_id, Account.totp_last_step < step)
                    .values(totp_last_step=step)
                    .execution_options(synchronize_session=False)
                )
                ok = _rowcount(result) == 1
                reason = "invalid_code" if ok else "replayed"
            elif not blocked and digest is not None:
                ok = _consume_recovery_code(s, account_id, digest)
            if ok:
                throttle.succeeded()
                s.add(self._event("second_factor_succeeded", account_id, ip, {"method": method}))
            else:
                detail: dict[str, Any] = {"method": method, "reason": reason}
                if blocked:
                    detail["blocked_by"] = blocked
                else:
                    for event in throttle.failed(account_id):
                        s.add(event)
                s.add(self._event("second_factor_failed", account_id, ip, detail))
        return ok

    # ------------------------------------------------------------------ helpers

    def _event(
        self, kind: str, account_id: str | None, ip: str | None, detail: dict[str, Any]
    ) -> AuthEvent:
        return AuthEvent(
            at=self._clock(),
            kind=kind,
            account_id=account_id,
            ip=ip[:64] if ip is not None else None,
            detail=detail,
        )


class _Throttle:
    """The three throttle rows of one attempt, locked for the current transaction.

    Rows are created if missing (``INSERT … ON CONFLICT DO NOTHING``) and then
    locked in key order (``SELECT … FOR UPDATE`` on PostgreSQL; on SQLite the
    write transaction holds the database lock), so concurrent failures are all
    counted and two attempts never deadlock.
    """

    def __init__(self, s: Session, db: Database, owner: str, ip: str, now: datetime) -> None:
        self._s = s
        self._now = now
        self._ip = ip
        self._keys = _throttle_keys(owner, ip)
        insert = sqlite.insert if db.is_sqlite else postgresql.insert
        for key in sorted(self._keys.values()):
            s.execute(
                insert(LoginThrottle)
                .values(key=key, failures=0, window_start=now, blocked_until=None)
                .on_conflict_do_nothing(index_elements=["key"])
            )
        rows = s.scalars(
            select(LoginThrottle)
            .where(LoginThrottle.key.in_(list(self._keys.values())))
            .order_by(LoginThrottle.key)
            .with_for_update()
            .execution_options(populate_existing=True)
        ).all()
        by_key = {row.key: row for row in rows}
        self._rows = {rule: by_key[key] for rule, key in self._keys.items()}

    def blocked(self) -> list[str]:
        """Names of the rules whose block is still running."""
        return [
            rule.name
            for rule, row in self._rows.items()
            if row.blocked_until is not None and row.blocked_until > self._now
        ]

    def failed(self, account_id: str | None) -> Iterable[AuthEvent]:
        """Count one evaluated failure on every key; yields ``throttled`` events
        for the keys this failure blocks."""
        events = []
        for rule, row in self._rows.items():
            if self._now - row.window_start >= _WINDOW:
                row.failures = 0
                row.window_start = self._now
            row.failures += 1
            block = rule.block_for(row.failures)
            if block is not None:
                row.blocked_until = self._now + block
                events.append(
                    AuthEvent(
                        at=self._now,
                        kind="throttled",
                        account_id=account_id,
                        ip=self._ip[:64],
                        detail={
                            "key": rule.name,
                            "failures": row.failures,
                            "seconds": int(block.total_seconds()),
                        },
                    )
                )
        return events

    def succeeded(self) -> None:
        for rule in (ACCT_IP, ACCT):
            row = self._rows[rule]
            row.failures = 0
            row.blocked_until = None
            row.window_start = self._now


# ---------------------------------------------------------------------- module helpers

_dummy_lock = threading.Lock()
_dummy_hashes: dict[tuple[Any, ...], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash of a random password with ``hasher``'s parameters (one per parameter set)."""
    params = (
        hasher.time_cost,
        hasher.memory_cost,
        hasher.parallelism,
        hasher.hash_len,
        hasher.salt_len,
        hasher.type,
    )
    with _dummy_lock:
        if params not in _dummy_hashes:
            _dummy_hashes[params] = hasher.hash(secrets.token_urlsafe(32))
        return _dummy_hashes[params]


def _normalise_password(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def _username(username: str) -> str:
    if not isinstance(username, str) or not _USERNAME_RE.fullmatch(username):
        raise AccountError(
            "usernames are 3-64 characters: letters, digits and _ . @ -",
            code="invalid_username",
            field="username",
        )
    return username.lower()


def _lookup_name(username: object) -> str | None:
    """The stored form of ``username``, or None if it cannot be one."""
    if isinstance(username, str) and _USERNAME_RE.fullmatch(username):
        return username.lower()
    return None


def _pseudo_account_key(username: str) -> str:
    """Throttle key owner for a name with no account: same shape of work, and no
    collision with real ids (UUIDs have hyphens, this has none)."""
    return "u" + hashlib.sha256(username.encode("utf-8", "surrogatepass")).hexdigest()[:35]


def _text(value: str | None, max_len: int, field: str) -> str:
    text = value.strip() if isinstance(value, str) else ""
    if not text or len(text) > max_len or any(unicodedata.category(c) == "Cc" for c in text):
        raise AccountError(
            f"{field.replace('_', ' ')}: 1-{max_len} characters, no control characters",
            code=f"invalid_{field}",
            field=field,
        )
    return text


def _citizen_id(value: str) -> str:
    try:
        return validate_citizen_id(value).number
    except InvalidIdentifier as exc:
        raise AccountError(
            f"invalid citizen identity number: {exc.field}: {exc.reason}",
            code="invalid_id_number",
            field="id_number",
        ) from None


def _phone(value: str) -> str:
    """A mainland mobile number, stored as its 11 digits (``+86``, spaces, hyphens dropped)."""
    text = re.sub(r"[\s-]", "", value) if isinstance(value, str) else ""
    if text.startswith("+86"):
        text = text[3:]
    if not _MOBILE_RE.fullmatch(text):
        raise AccountError(
            "phone: a mainland mobile number, 11 digits starting 13-19",
            code="invalid_phone",
            field="phone",
        )
    return text


def _throttle_keys(owner: str, ip: str) -> dict[ThrottleRule, str]:
    """The throttle row key of every rule for one attempt by ``owner`` from ``ip``."""
    net = _network(ip)
    return {ACCT_IP: f"acct-ip:{owner}|{net}", IP: f"ip:{net}", ACCT: f"acct:{owner}"}


def _network(ip: str) -> str:
    """The throttled unit of an address: IPv4 as is, IPv6 by /64, anything else hashed."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except (ValueError, AttributeError):
        return "x" + hashlib.sha256(str(ip).encode("utf-8", "surrogatepass")).hexdigest()[:32]
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            return str(addr.ipv4_mapped)
        net = ipaddress.IPv6Network((int(addr) >> 64 << 64, 64))
        return str(net)
    return str(addr)


def _totp_context(account_id: str) -> bytes:
    return f"idp-totp|{account_id}".encode()


def _confirmed(account: Account) -> bool:
    """TOTP is enrolled once confirmed: seed present and recovery codes issued.
    (No confirmation column: a pending seed has an empty recovery-code list, and
    used codes leave an empty slot so the list never empties again.)"""
    return account.totp_secret is not None and bool(account.recovery_codes)


def _new_recovery_code() -> str:
    raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))  # 50 bits
    return f"{raw[:5]}-{raw[5:]}"


def _recovery_digest(code: str) -> str:
    normalised = "".join(code.split()).replace("-", "").lower()
    return hashlib.sha256(normalised.encode("ascii")).hexdigest()


def _consume_recovery_code(s: Session, account_id: str, digest: str) -> bool:
    """Use up one recovery code under the account's row lock (exactly one winner)."""
    stored = s.execute(
        select(Account.recovery_codes).where(Account.id == account_id).with_for_update()
    ).scalar_one_or_none()
    if not stored:
        return False
    codes = list(stored)
    index: int | None = None
    for i, candidate in enumerate(codes):
        if candidate != _CONSUMED and hmac.compare_digest(candidate, digest):
            index = i
    if index is None:
        return False
    codes[index] = _CONSUMED
    s.execute(
        update(Account)
        .where(Account.id == account_id)
        .values(recovery_codes=codes)
        .execution_options(synchronize_session=False)
    )
    return True


def _rowcount(result: Any) -> int:
    return int(result.rowcount)


# Hot-path statements, built once per database (Database.statement).
def _account_by_name(_db: Database) -> Any:
    return select(Account.__table__).where(Account.username == bindparam("name"))


def _throttle_rows(_db: Database) -> Any:
    t = LoginThrottle.__table__
    return select(t).where(t.c.key.in_(bindparam("keys", expanding=True)))


def _view(account: Any) -> AccountView:
    """The view of an account (an :class:`Account` or a row of its table)."""
    kind: AccountKind = "enterprise" if account.kind == "enterprise" else "citizen"
    return AccountView(
        id=account.id,
        username=account.username,
        kind=kind,
        name=account.name,
        id_number=account.id_number,
        phone=account.phone,
        enterprise_name=account.enterprise_name,
        uscc=account.uscc,
        has_totp=_confirmed(account),
        created_at=account.created_at,
    )
