"""idp.accounts on SQLite and PostgreSQL: registration and validation (GB 11643,
GB 32100), sign-in without enumeration, progressive throttling that cannot lock
a victim out, concurrency (no lost updates, single-use codes), the TOTP second
factor and recovery codes, and the seed encrypted at rest.

Time is the injected clock; nothing sleeps. A cheap argon2 hasher keeps the
throttle simulations fast; one test exercises the OWASP parameters."""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Callable
from datetime import date
from typing import Any

import pytest
from argon2 import PasswordHasher, Type
from sqlalchemy import select, update

from idp import totp
from idp.accounts import (
    PASSWORD_HASHER,
    AccountError,
    Accounts,
    AccountView,
    AuthEventView,
    LoginResult,
    password_problem,
)
from idp.models import Account, AuthEvent, LoginThrottle
from keys import MasterKeyError
from trust.identifiers import make_citizen_id, make_uscc

CITIZEN_ID = "11010519491231002X"  # GB 11643-1999 Annex A example
BAD_CITIZEN_ID = "110105194912310021"  # same, wrong check character
USCC = "91350100M000100Y43"
BAD_USCC = "91350100M000100Y44"
PASSWORD = "Correct-Horse-42"
ATTACKER = "203.0.113.66"
VICTIM = "198.51.100.7"
FAILED = LoginResult(ok=False, account=None, second_factor_required=False)


class SpyHasher(PasswordHasher):
    """Cheap argon2id parameters, and a record of every hash it verifies."""

    def __init__(self, time_cost: int = 1, memory_cost: int = 8) -> None:
        super().__init__(time_cost=time_cost, memory_cost=memory_cost, parallelism=1)
        self.verified: list[str] = []
        self.lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:  # noqa: A002
        with self.lock:
            self.verified.append(hash if isinstance(hash, str) else hash.decode())
        return super().verify(hash, password)


@pytest.fixture
def hasher() -> SpyHasher:
    return SpyHasher()


@pytest.fixture
def accounts(hub: Any, hasher: SpyHasher) -> Accounts:
    return Accounts(hub.db, master_key=hub.master_key, clock=hub.clock, hasher=hasher)


def citizen_id(n: int) -> str:
    return make_citizen_id("330106", date(1990, 5, 17), n)


@pytest.fixture
def alice(accounts: Accounts) -> AccountView:
    return accounts.create_citizen(
        username="alice", password=PASSWORD, name="张丽", id_number=CITIZEN_ID
    )


def row(hub: Any, key: str) -> LoginThrottle | None:
    with hub.db.session() as s:
        return s.get(LoginThrottle, key)


def failures(hub: Any, key: str) -> int:
    r = row(hub, key)
    return r.failures if r is not None else 0


def blocked_for(hub: Any, key: str) -> float:
    """Seconds left on the key's block (0 if none)."""
    r = row(hub, key)
    if r is None or r.blocked_until is None:
        return 0.0
    return max(0.0, (r.blocked_until - hub.clock()).total_seconds())


def events(hub: Any, kind: str | None = None) -> list[AuthEvent]:
    with hub.db.session() as s:
        q = select(AuthEvent).order_by(AuthEvent.id)
        if kind is not None:
            q = q.where(AuthEvent.kind == kind)
        return list(s.scalars(q).all())


def run_threads(n: int, target: Callable[[int], Any]) -> list[Any]:
    barrier = threading.Barrier(n)
    results: list[Any] = [None] * n
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            results[i] = target(i)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    return results


# =========================================================================== creation


def test_create_citizen(accounts: Accounts, clock: Any) -> None:
    view = accounts.create_citizen(
        username="Zhang.San@gov",
        password=PASSWORD,
        name=" 张三 ",
        id_number=CITIZEN_ID.lower(),
        phone="+86 138-0013-8000",
    )
    assert view == AccountView(
        id=view.id,
        username="zhang.san@gov",
        kind="citizen",
        name="张三",
        id_number=CITIZEN_ID,
        phone="13800138000",
        enterprise_name=None,
        uscc=None,
        has_totp=False,
        created_at=clock.now,
    )
    assert accounts.get(view.id) == view
    assert accounts.by_username("ZHANG.SAN@GOV") == view
    assert accounts.by_username("nobody") is None
    assert accounts.by_username("not a name!") is None
    assert accounts.get("00000000-0000-0000-0000-000000000000") is None


def test_create_enterprise(accounts: Accounts) -> None:
    view = accounts.create_enterprise(
        username="fuzhou-ops",
        password=PASSWORD,
        name="王经办",
        enterprise_name="福州示例科技有限公司",
        uscc=USCC.lower(),
    )
    assert (view.kind, view.uscc, view.enterprise_name, view.id_number) == (
        "enterprise",
        USCC,
        "福州示例科技有限公司",
        None,
    )
    other = accounts.create_enterprise(
        username="hz-ops",
        password=PASSWORD,
        name="李经办",
        enterprise_name="杭州示例",
        uscc=make_uscc("9", "1", "330100", "MA27XK0P"),
        id_number=citizen_id(3),
        phone="13912345678",
    )
    assert other.id_number == citizen_id(3) and other.phone == "13912345678"


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"id_number": BAD_CITIZEN_ID}, "invalid_id_number"),
        ({"id_number": "11010519491231002"}, "invalid_id_number"),
        ({"id_number": "110105194913310028"}, "invalid_id_number"),
        ({"username": "ab"}, "invalid_username"),
        ({"username": "a" * 65}, "invalid_username"),
        ({"username": "has space"}, "invalid_username"),
        ({"username": "张三"}, "invalid_username"),
        ({"username": "alice\n"}, "invalid_username"),
        ({"password": "Short-1"}, "weak_password"),
        ({"password": "aaaaaaaaaaaa"}, "weak_password"),
        ({"password": "12345678901234"}, "weak_password"),
        ({"password": "xx-Alice-2024-xx"}, "weak_password"),
        ({"password": "A" * 64 + "1" * 65}, "weak_password"),
        ({"password": "Tab\tin-password-1"}, "weak_password"),
        ({"phone": "12345678901"}, "invalid_phone"),
        ({"phone": "1380013800"}, "invalid_phone"),
        ({"phone": "+1 415 555 0100"}, "invalid_phone"),
        ({"phone": "１３８００１３８０００"}, "invalid_phone"),
        ({"name": "  "}, "invalid_name"),
        ({"name": "x" * 101}, "invalid_name"),
    ],
)
def test_create_citizen_validation(
    accounts: Accounts, hub: Any, changes: dict[str, str], code: str
) -> None:
    args = {"username": "alice", "password": PASSWORD, "name": "张丽", "id_number": CITIZEN_ID}
    args.update(changes)
    with pytest.raises(AccountError) as info:
        accounts.create_citizen(**args)
    assert info.value.code == code
    with hub.db.session() as s:
        assert s.scalars(select(Account)).all() == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"uscc": BAD_USCC}, "invalid_uscc"),
        ({"uscc": "91350100M000100Y4"}, "invalid_uscc"),
        ({"uscc": "91350100M000100I43"}, "invalid_uscc"),
        ({"enterprise_name": ""}, "invalid_enterprise_name"),
        ({"id_number": BAD_CITIZEN_ID}, "invalid_id_number"),
    ],
)
def test_create_enterprise_validation(
    accounts: Accounts, changes: dict[str, str], code: str
) -> None:
    args = {
        "username": "ops",
        "password": PASSWORD,
        "name": "王经办",
        "enterprise_name": "福州示例",
        "uscc": USCC,
    }
    args.update(changes)
    with pytest.raises(AccountError) as info:
        accounts.create_enterprise(**args)
    assert info.value.code == code


def test_password_policy() -> None:
    assert password_problem("Correct-Horse-42") is None
    assert password_problem("正确的马电池订书钉ab") is None  # Chinese + Latin: two classes
    assert password_problem("abcdefghij1") is None
    assert password_problem("abcdefghij") is not None  # one class
    assert password_problem("ABCDEFGHIJ") is not None
    assert password_problem("Abc1") is not None  # short
    assert password_problem("zhangsan-2024!", username="ZhangSan") is not None
    assert password_problem("x" * 127 + "1") is None
    assert password_problem("x" * 128 + "1") is not None


def test_duplicates_are_refused(accounts: Accounts, alice: AccountView, hub: Any) -> None:
    with pytest.raises(AccountError) as info:
        accounts.create_citizen(
            username="ALICE", password=PASSWORD, name="另一个", id_number=citizen_id(1)
        )
    assert (info.value.code, info.value.field) == ("account_exists", "username")
    with pytest.raises(AccountError) as info:
        accounts.create_citizen(
            username="alice2", password=PASSWORD, name="另一个", id_number=CITIZEN_ID.lower()
        )
    assert (info.value.code, info.value.field) == ("account_exists", "id_number")
    with hub.db.session() as s:
        assert len(s.scalars(select(Account)).all()) == 1


def test_concurrent_registrations_of_one_username(accounts: Accounts) -> None:
    def register(i: int) -> str:
        try:
            accounts.create_citizen(
                username="race", password=PASSWORD, name="甲", id_number=citizen_id(10 + i)
            )
            return "ok"
        except AccountError as exc:
            return exc.code

    assert sorted(run_threads(4, register)) == ["account_exists"] * 3 + ["ok"]


# =========================================================================== sign-in


def test_authenticate_results_differ_only_in_ok(
    accounts: Accounts, alice: AccountView, hub: Any
) -> None:
    ok = accounts.authenticate("alice", PASSWORD, ip=VICTIM)
    assert ok == LoginResult(ok=True, account=alice, second_factor_required=False)
    wrong = accounts.authenticate("alice", "Wrong-Horse-42", ip=VICTIM)
    unknown = accounts.authenticate("bob", PASSWORD, ip=VICTIM)
    malformed = accounts.authenticate("not a username", PASSWORD, ip=VICTIM)
    assert wrong == unknown == malformed == FAILED
    assert accounts.authenticate("ALICE", PASSWORD, ip=VICTIM).ok  # usernames are case-blind

    reasons = [e.detail["reason"] for e in events(hub, "login_failed")]
    assert reasons == ["wrong_password", "unknown_user", "unknown_user"]
    # The account page sees kinds and times, never the internal reasons.
    page = accounts.events(alice.id)
    assert all(isinstance(e, AuthEventView) and not hasattr(e, "detail") for e in page)
    assert [e.kind for e in page][:3] == ["login_succeeded", "login_failed", "login_succeeded"]


def test_passwords_are_nfkc_normalised(accounts: Accounts) -> None:
    accounts.create_citizen(
        username="wide", password="Ｆｕｌｌ-Ｗｉｄｔｈ-１２", name="全角", id_number=citizen_id(4)
    )
    assert accounts.authenticate("wide", "Full-Width-12", ip=VICTIM).ok


def test_every_path_runs_argon2_once(
    accounts: Accounts, alice: AccountView, hasher: SpyHasher, hub: Any, clock: Any
) -> None:
    """Same work for unknown user, wrong password, throttled and disabled accounts
    (counted calls, not wall time)."""
    with hub.db.session() as s:
        real_hash = s.get(Account, alice.id).password_hash  # type: ignore[union-attr]

    def verifications(*args: Any) -> list[str]:
        before = len(hasher.verified)
        assert accounts.authenticate(*args, ip=ATTACKER) == FAILED
        return hasher.verified[before:]

    unknown = verifications("nobody", PASSWORD)
    assert len(unknown) == 1
    assert unknown[0] != real_hash
    # The dummy hash has the same parameters (hence the same cost) as real ones.
    assert unknown[0].rsplit("$", 2)[0] == real_hash.rsplit("$", 2)[0]
    assert len(verifications("not a name!", PASSWORD)) == 1
    for _ in range(5):
        assert verifications("alice", "Wrong-Horse-42") == [real_hash]
    assert blocked_for(hub, f"acct-ip:{alice.id}|{ATTACKER}") > 0
    assert verifications("alice", PASSWORD) == [real_hash]  # throttled: right password fails

    clock.advance(hours=1)
    with hub.db.write() as s:
        s.execute(update(Account).where(Account.id == alice.id).values(disabled=True))
    assert verifications("alice", PASSWORD) == [real_hash]
    reasons = [e.detail["reason"] for e in events(hub, "login_failed")]
    assert reasons == ["unknown_user", "unknown_user"] + ["wrong_password"] * 5 + [
        "throttled",
        "disabled",
    ]


def test_default_hasher_is_owasp_argon2id(hub: Any) -> None:
    assert (PASSWORD_HASHER.type, PASSWORD_HASHER.memory_cost) == (Type.ID, 7168)
    assert (PASSWORD_HASHER.time_cost, PASSWORD_HASHER.parallelism) == (5, 1)
    accounts = Accounts(hub.db, master_key=hub.master_key, clock=hub.clock)
    view = accounts.create_citizen(
        username="owasp", password=PASSWORD, name="甲", id_number=CITIZEN_ID
    )
    with hub.db.session() as s:
        stored = s.get(Account, view.id).password_hash  # type: ignore[union-attr]
    assert stored.startswith("$argon2id$v=19$m=7168,t=5,p=1$")
    assert PASSWORD not in stored
    assert accounts.authenticate("owasp", PASSWORD, ip=VICTIM).ok


def test_rehash_when_parameters_change(hub: Any, clock: Any) -> None:
    old = Accounts(hub.db, master_key=hub.master_key, clock=clock, hasher=SpyHasher(1, 8))
    view = old.create_citizen(username="carol", password=PASSWORD, name="甲", id_number=CITIZEN_ID)
    new = Accounts(hub.db, master_key=hub.master_key, clock=clock, hasher=SpyHasher(2, 16))

    def stored() -> str:
        with hub.db.session() as s:
            return s.get(Account, view.id).password_hash  # type: ignore[union-attr]

    before = stored()
    assert not new.authenticate("carol", "Wrong-Horse-42", ip=VICTIM).ok
    assert stored() == before  # no rehash on failure
    assert new.authenticate("carol", PASSWORD, ip=VICTIM).ok
    after = stored()
    assert "m=16,t=2,p=1" in after and after != before
    assert new.authenticate("carol", PASSWORD, ip=VICTIM).ok
    assert stored() == after


def test_set_password(accounts: Accounts, alice: AccountView, hub: Any) -> None:
    with pytest.raises(AccountError) as info:
        accounts.set_password(alice.id, "weakweakweak")
    assert info.value.code == "weak_password"
    with pytest.raises(AccountError) as info:
        accounts.set_password("no-such-id", "Another-Horse-43")
    assert info.value.code == "unknown_account"
    accounts.set_password(alice.id, "Another-Horse-43")
    assert not accounts.authenticate("alice", PASSWORD, ip=VICTIM).ok
    assert accounts.authenticate("alice", "Another-Horse-43", ip=VICTIM).ok
    assert "password_changed" in [e.kind for e in accounts.events(alice.id)]


# =========================================================================== throttling


def test_acct_ip_progression(accounts: Accounts, alice: AccountView, hub: Any, clock: Any) -> None:
    """5 free failures, then 1, 2, 4 … s, capped at 15 min; attempts made while
    blocked fail (even with the right password) and change nothing."""
    key = f"acct-ip:{alice.id}|{ATTACKER}"
    for n in range(1, 5):
        assert accounts.authenticate("alice", "Wrong-Horse-42", ip=ATTACKER) == FAILED
        assert (failures(hub, key), blocked_for(hub, key)) == (n, 0)
    expected_blocks = []
    for n in range(5, 18):
        assert accounts.authenticate("alice", "Wrong-Horse-42", ip=ATTACKER) == FAILED
        block = blocked_for(hub, key)
        expected_blocks.append(block)
        assert failures(hub, key) == n
        before = row(hub, key)
        for _ in range(3):  # hammering during the block
            assert accounts.authenticate("alice", PASSWORD, ip=ATTACKER) == FAILED
        clock.advance(seconds=block - 1)
        assert accounts.authenticate("alice", PASSWORD, ip=ATTACKER) == FAILED
        after = row(hub, key)
        assert before is not None and after is not None
        assert (after.failures, after.blocked_until) == (before.failures, before.blocked_until)
        clock.advance(seconds=1)
    assert expected_blocks == [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 900, 900, 900]
    throttled = [e.detail for e in events(hub, "throttled") if e.detail["key"] == "acct-ip"]
    assert [d["seconds"] for d in throttled] == expected_blocks

    # Block over: the right password works and clears the per-account counters.
    assert accounts.authenticate("alice", PASSWORD, ip=ATTACKER).ok
    assert failures(hub, key) == 0 and failures(hub, f"acct:{alice.id}") == 0
    assert failures(hub, f"ip:{ATTACKER}") == 13 + 4  # never cleared by a success


def test_other_addresses_are_not_slowed_by_acct_ip(accounts: Accounts, alice: AccountView) -> None:
    for _ in range(6):
        accounts.authenticate("alice", "Wrong-Horse-42", ip=ATTACKER)
    assert accounts.authenticate("alice", PASSWORD, ip=ATTACKER) == FAILED
    assert accounts.authenticate("alice", PASSWORD, ip=VICTIM).ok


def test_ipv6_is_throttled_per_64(accounts: Accounts, alice: AccountView) -> None:
    for i in range(5):
        accounts.authenticate("alice", "Wrong-Horse-42", ip=f"2001:db8:1:2::{i + 1:x}")
    assert accounts.authenticate("alice", PASSWORD, ip="2001:db8:1:2:ffff::9") == FAILED
    assert accounts.authenticate("alice", PASSWORD, ip="2001:db8:1:3::1").ok


def test_ip_rule_across_accounts(accounts: Accounts, hub: Any, clock: Any) -> None:
    """30 failures from one address, spread over accounts (4 each: never the
    acct-ip rule), block that address: 1 s, then 2 s …"""
    for i in range(8):
        accounts.create_citizen(
            username=f"user{i}", password=PASSWORD, name="甲", id_number=citizen_id(20 + i)
        )
    names = [f"user{i}" for i in range(8)] + [f"ghost{i}" for i in range(4)]
    attempts = [name for name in names for _ in range(4)][:29]
    for name in attempts:
        accounts.authenticate(name, "Wrong-Horse-42", ip=ATTACKER)
    assert blocked_for(hub, f"ip:{ATTACKER}") == 0
    accounts.authenticate("ghost3", "Wrong-Horse-42", ip=ATTACKER)  # the 30th
    assert blocked_for(hub, f"ip:{ATTACKER}") == 1
    assert accounts.authenticate("user7", PASSWORD, ip=ATTACKER) == FAILED
    assert accounts.authenticate("user7", PASSWORD, ip=VICTIM).ok
    clock.advance(seconds=1)
    accounts.authenticate("ghost3", "Wrong-Horse-42", ip=ATTACKER)
    assert blocked_for(hub, f"ip:{ATTACKER}") == 2
    clock.advance(seconds=2)
    assert accounts.authenticate("user7", PASSWORD, ip=ATTACKER).ok


def test_account_wide_block_is_at_most_30_seconds(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    """Failures from many addresses block the account for everyone, but briefly:
    1, 2, 4, 8, 16, then 30 s at most; hammering during the block does not
    extend it."""
    key = f"acct:{alice.id}"
    addresses = [f"192.0.2.{i}" for i in range(1, 60)]
    for ip in addresses[:19]:
        accounts.authenticate("alice", "Wrong-Horse-42", ip=ip)
    assert (failures(hub, key), blocked_for(hub, key)) == (19, 0)
    blocks = []
    for ip in addresses[19:27]:
        accounts.authenticate("alice", "Wrong-Horse-42", ip=ip)
        blocks.append(blocked_for(hub, key))
        for other in addresses[30:40]:  # a botnet hammering during the block
            assert accounts.authenticate("alice", "Wrong-Horse-42", ip=other) == FAILED
        assert blocked_for(hub, key) == blocks[-1]
        # The victim, from home, is held back for no longer than the block.
        assert accounts.authenticate("alice", PASSWORD, ip=VICTIM) == FAILED
        clock.advance(seconds=blocks[-1])
    assert blocks == [1, 2, 4, 8, 16, 30, 30, 30]
    assert failures(hub, key) == 27  # refused attempts were not counted
    assert accounts.authenticate("alice", PASSWORD, ip=VICTIM).ok
    assert failures(hub, key) == 0


@pytest.mark.slow
def test_victim_is_delayed_at_most_30_s_while_one_address_hammers(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    """1,000 attempts from one address, one every 10 s (almost 3 hours). Whenever
    the account-wide block is on, the victim tries at once from home, then every
    second while the attacker carries on: in within 30 s every time."""
    acct_key = f"acct:{alice.id}"
    attempts = 0
    delays: list[float] = []

    def attack() -> None:
        nonlocal attempts
        attempts += 1
        assert accounts.authenticate("alice", f"guess-{attempts}-X", ip=ATTACKER) == FAILED

    while attempts < 1000:
        attack()
        clock.advance(seconds=10)
        if blocked_for(hub, acct_key) > 0:
            start = clock.now
            while not accounts.authenticate("alice", PASSWORD, ip=VICTIM).ok:
                clock.advance(seconds=1)
                attack()
                assert (clock.now - start).total_seconds() <= 30
            delays.append((clock.now - start).total_seconds())
    assert delays, "the account-wide block never came on: the scenario tested nothing"
    assert max(delays) <= 30
    assert accounts.authenticate("alice", PASSWORD, ip=VICTIM).ok
    # One address feeds the account-wide counter only when its own block lapses.
    admitted = len([e for e in events(hub, "login_failed") if e.detail["reason"] != "throttled"])
    assert admitted < 40
    assert blocked_for(hub, f"acct-ip:{alice.id}|{ATTACKER}") > 0


def test_counters_restart_after_24_hours(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    key = f"acct-ip:{alice.id}|{ATTACKER}"
    for _ in range(4):
        accounts.authenticate("alice", "Wrong-Horse-42", ip=ATTACKER)
    clock.advance(hours=24)
    for _ in range(4):
        accounts.authenticate("alice", "Wrong-Horse-42", ip=ATTACKER)
    assert (failures(hub, key), blocked_for(hub, key)) == (4, 0)
    assert accounts.authenticate("alice", PASSWORD, ip=ATTACKER).ok


def test_concurrent_failures_are_all_counted(
    accounts: Accounts, alice: AccountView, hub: Any
) -> None:
    """8 threads × 2 failures from 8 addresses: the account-wide counter sees 16
    (no lost update), each address 2."""
    ips = [f"198.18.0.{i + 1}" for i in range(8)]

    def fail_twice(i: int) -> None:
        for _ in range(2):
            assert accounts.authenticate("alice", "Wrong-Horse-42", ip=ips[i]) == FAILED

    run_threads(8, fail_twice)
    assert failures(hub, f"acct:{alice.id}") == 16
    assert [failures(hub, f"acct-ip:{alice.id}|{ip}") for ip in ips] == [2] * 8
    assert len(events(hub, "login_failed")) == 16


def test_concurrent_failures_from_one_address_block_at_the_fifth(
    accounts: Accounts, alice: AccountView, hub: Any
) -> None:
    """8 simultaneous failures from one address: the block decision is taken under
    the row lock, so exactly 5 are counted and 3 refused."""
    run_threads(8, lambda i: accounts.authenticate("alice", "Wrong-Horse-42", ip=ATTACKER))
    assert failures(hub, f"acct-ip:{alice.id}|{ATTACKER}") == 5
    reasons = sorted(e.detail["reason"] for e in events(hub, "login_failed"))
    assert reasons == ["throttled"] * 3 + ["wrong_password"] * 5


# =========================================================================== TOTP


def enrol(accounts: Accounts, account_id: str, clock: Any) -> tuple[bytes, list[str]]:
    secret_b32, _uri = accounts.begin_totp_enrolment(account_id)
    seed = totp.b32decode(secret_b32)
    codes = accounts.confirm_totp(account_id, totp.totp(seed, clock.now))
    clock.advance(seconds=30)  # the confirmation code's step is spent
    return seed, codes


def test_totp_enrolment(accounts: Accounts, alice: AccountView, hub: Any, clock: Any) -> None:
    secret_b32, uri = accounts.begin_totp_enrolment(alice.id)
    seed = totp.b32decode(secret_b32)
    assert len(seed) == 20
    assert uri == totp.otpauth_uri(seed, "alice")
    assert not accounts.has_totp(alice.id)
    assert accounts.verify_second_factor(alice.id, totp.totp(seed, clock.now), ip=VICTIM) is False
    assert accounts.authenticate("alice", PASSWORD, ip=VICTIM).second_factor_required is False

    # Starting again replaces the pending seed.
    secret_b32, _ = accounts.begin_totp_enrolment(alice.id)
    with pytest.raises(AccountError) as info:
        accounts.confirm_totp(alice.id, totp.totp(seed, clock.now))
    assert info.value.code == "invalid_totp_code"
    seed = totp.b32decode(secret_b32)
    code = totp.totp(seed, clock.now)
    recovery = accounts.confirm_totp(alice.id, code)
    assert len(recovery) == 10 and len(set(recovery)) == 10
    assert all(len(c) == 11 and c[5] == "-" for c in recovery)
    assert accounts.has_totp(alice.id)
    with hub.db.session() as s:
        stored = s.get(Account, alice.id).recovery_codes  # type: ignore[union-attr]
    assert stored == [hashlib.sha256(c.replace("-", "").encode()).hexdigest() for c in recovery]

    # The confirmation code cannot be used again to sign in.
    assert accounts.verify_second_factor(alice.id, code, ip=VICTIM) is False
    with pytest.raises(AccountError) as info:
        accounts.begin_totp_enrolment(alice.id)
    assert info.value.code == "totp_already_enrolled"
    with pytest.raises(AccountError) as info:
        accounts.confirm_totp(alice.id, code)
    assert info.value.code == "totp_already_enrolled"

    result = accounts.authenticate("alice", PASSWORD, ip=VICTIM)
    assert result.ok and result.second_factor_required and result.account is not None
    assert result.account.has_totp
    kinds = [e.kind for e in events(hub)]
    assert "totp_enrolment_started" in kinds and "totp_enrolled" in kinds


def test_confirm_without_enrolment(accounts: Accounts, alice: AccountView) -> None:
    with pytest.raises(AccountError) as info:
        accounts.confirm_totp(alice.id, "123456")
    assert info.value.code == "no_pending_totp"
    with pytest.raises(AccountError) as info:
        accounts.begin_totp_enrolment("no-such-account")
    assert info.value.code == "unknown_account"


def test_totp_verify_and_replay(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    seed, _ = enrol(accounts, alice.id, clock)
    code = totp.totp(seed, clock.now)
    assert accounts.verify_second_factor(alice.id, code, ip=VICTIM) is True
    assert accounts.verify_second_factor(alice.id, code, ip=VICTIM) is False  # replay
    with hub.db.session() as s:
        assert s.get(Account, alice.id).totp_last_step == totp.time_step(clock.now)  # type: ignore[union-attr]
    # Still inside the window but older than the last accepted step: refused.
    previous = totp.hotp(seed, totp.time_step(clock.now) - 1)
    assert accounts.verify_second_factor(alice.id, previous, ip=VICTIM) is False
    clock.advance(seconds=30)
    assert accounts.verify_second_factor(alice.id, totp.totp(seed, clock.now), ip=VICTIM)
    for bad in ("", "12345", "1234567", "abcdef", "１２３４５６"):
        assert accounts.verify_second_factor(alice.id, bad, ip=VICTIM) is False
    reasons = [e.detail["reason"] for e in events(hub, "second_factor_failed")]
    assert reasons == ["replayed", "replayed"] + ["invalid_code"] * 5


def test_the_same_totp_code_twice_at_once(
    accounts: Accounts, alice: AccountView, clock: Any
) -> None:
    seed, _ = enrol(accounts, alice.id, clock)
    for _ in range(3):
        code = totp.totp(seed, clock.now)
        results = run_threads(
            4,
            lambda i, code=code: accounts.verify_second_factor(alice.id, code, ip=f"198.18.1.{i}"),
        )
        assert sorted(results) == [False, False, False, True]
        clock.advance(seconds=30)


def test_recovery_codes_are_single_use(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    _, codes = enrol(accounts, alice.id, clock)
    assert accounts.verify_second_factor(alice.id, codes[0], ip=VICTIM) is True
    assert accounts.verify_second_factor(alice.id, codes[0], ip=VICTIM) is False
    # Typed without the hyphen, in capitals, with spaces: still the same code.
    assert accounts.verify_second_factor(
        alice.id, f" {codes[1].upper().replace('-', '')} ", ip=VICTIM
    )
    for code in codes[2:]:
        assert accounts.verify_second_factor(alice.id, code, ip=VICTIM) is True
    # All ten used up: TOTP stays enrolled (the list keeps its spent slots).
    assert accounts.has_totp(alice.id)
    assert accounts.verify_second_factor(alice.id, codes[9], ip=VICTIM) is False
    with hub.db.session() as s:
        assert s.get(Account, alice.id).recovery_codes == [""] * 10  # type: ignore[union-attr]


def test_two_threads_racing_for_one_recovery_code(
    accounts: Accounts, alice: AccountView, clock: Any
) -> None:
    _, codes = enrol(accounts, alice.id, clock)
    for code in codes[:5]:
        results = run_threads(
            2,
            lambda i, code=code: accounts.verify_second_factor(alice.id, code, ip=f"198.18.2.{i}"),
        )
        assert sorted(results) == [False, True]


def test_second_factor_failures_share_the_password_throttle(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    seed, _ = enrol(accounts, alice.id, clock)
    key = f"acct-ip:{alice.id}|{ATTACKER}"
    # 4 wrong codes; a correct password does not clear the counters (or every
    # password would buy a fresh set of TOTP guesses) …
    for _ in range(4):
        assert not accounts.verify_second_factor(alice.id, "000000", ip=ATTACKER)
    result = accounts.authenticate("alice", PASSWORD, ip=ATTACKER)
    assert result.ok and result.second_factor_required
    assert failures(hub, key) == 4
    # … so the 5th wrong code blocks, and then even a right code fails.
    assert not accounts.verify_second_factor(alice.id, "000001", ip=ATTACKER)
    assert blocked_for(hub, key) == 1
    assert not accounts.verify_second_factor(alice.id, totp.totp(seed, clock.now), ip=ATTACKER)
    assert accounts.authenticate("alice", PASSWORD, ip=ATTACKER) == FAILED
    clock.advance(seconds=1)
    assert accounts.verify_second_factor(alice.id, totp.totp(seed, clock.now), ip=ATTACKER)
    assert failures(hub, key) == 0  # the full sign-in clears the counters


def test_totp_seed_is_encrypted_at_rest(
    accounts: Accounts, alice: AccountView, hub: Any, clock: Any
) -> None:
    bob = accounts.create_citizen(
        username="bob", password=PASSWORD, name="乙", id_number=citizen_id(2)
    )
    secret_b32, _ = accounts.begin_totp_enrolment(alice.id)
    seed = totp.b32decode(secret_b32)
    with hub.db.engine.connect() as conn:
        blob = conn.execute(
            select(Account.__table__.c.totp_secret).where(Account.__table__.c.id == alice.id)
        ).scalar_one()
    blob = bytes(blob)
    assert seed not in blob
    assert secret_b32.encode() not in blob and secret_b32.lower().encode() not in blob
    assert len(blob) > len(seed) + 60
    assert hub.master_key.unwrap(blob, f"idp-totp|{alice.id}".encode()) == seed
    with pytest.raises(MasterKeyError):  # bound to its account: no copying onto bob's row
        hub.master_key.unwrap(blob, f"idp-totp|{bob.id}".encode())


def test_events_newest_first_with_a_limit(
    accounts: Accounts, alice: AccountView, clock: Any
) -> None:
    for _ in range(3):
        clock.advance(seconds=5)
        accounts.authenticate("alice", PASSWORD, ip=VICTIM)
    page = accounts.events(alice.id, limit=2)
    assert len(page) == 2
    assert page[0].at > page[1].at
    assert page[0] == AuthEventView(at=clock.now, kind="login_succeeded", ip=VICTIM, client_id=None)
    assert accounts.events(alice.id)[-1].kind == "account_created"


# =========================================================================== on_success


def _mark(hub: Any, account_id: str, seen: list[str]) -> Callable[[AccountView], None]:
    """An on_success callback that writes through the hub's database (as the login
    view writes the hub session) and records that it ran."""

    def on_success(account: AccountView) -> None:
        assert account.id == account_id
        with hub.db.write() as s:
            s.add(AuthEvent(at=hub.clock(), kind="caller_wrote", account_id=account.id))
        seen.append(account.id)

    return on_success


def test_on_success_commits_with_the_sign_in_event(
    hub: Any, accounts: Accounts, alice: AccountView
) -> None:
    seen: list[str] = []
    result = accounts.authenticate(
        "alice", PASSWORD, ip=VICTIM, on_success=_mark(hub, alice.id, seen)
    )
    assert result.ok and seen == [alice.id]
    assert [e.kind for e in events(hub)][-2:] == ["login_succeeded", "caller_wrote"]


def test_on_success_on_the_counting_path_too(
    hub: Any, accounts: Accounts, alice: AccountView
) -> None:
    """After a failure the success goes through the throttle (counters to clear):
    the callback runs there as well, in the same transaction."""
    assert not accounts.authenticate("alice", "Wrong-Password-1", ip=VICTIM).ok
    assert failures(hub, f"acct:{alice.id}") == 1
    seen: list[str] = []
    assert accounts.authenticate(
        "alice", PASSWORD, ip=VICTIM, on_success=_mark(hub, alice.id, seen)
    ).ok
    assert seen == [alice.id]
    assert failures(hub, f"acct:{alice.id}") == 0
    assert [e.kind for e in events(hub)][-2:] == ["login_succeeded", "caller_wrote"]


def test_on_success_failing_rolls_back_the_sign_in_event(
    hub: Any, accounts: Accounts, alice: AccountView
) -> None:
    def broken(account: AccountView) -> None:
        with hub.db.write() as s:
            s.add(AuthEvent(at=hub.clock(), kind="caller_wrote", account_id=account.id))
        raise RuntimeError("session store down")

    before = len(events(hub))
    with pytest.raises(RuntimeError):
        accounts.authenticate("alice", PASSWORD, ip=VICTIM, on_success=broken)
    assert len(events(hub)) == before  # neither the caller's row nor login_succeeded


def test_on_success_not_called_on_failure_or_before_a_second_factor(
    hub: Any, accounts: Accounts, alice: AccountView, clock: Any
) -> None:
    seen: list[str] = []
    callback = _mark(hub, alice.id, seen)
    assert not accounts.authenticate("alice", "Wrong-Password-1", ip=VICTIM, on_success=callback).ok
    assert not accounts.authenticate("nobody", PASSWORD, ip=VICTIM, on_success=callback).ok
    enrol(accounts, alice.id, clock)
    result = accounts.authenticate("alice", PASSWORD, ip=VICTIM, on_success=callback)
    assert result.ok and result.second_factor_required
    assert seen == []
    assert "caller_wrote" not in [e.kind for e in events(hub)]
