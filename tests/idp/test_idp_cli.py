"""``govtrust idp user add``: citizens and enterprise operators from the command
line; invalid identifiers exit with status 2 and a typed error."""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner

from govtrust.cli import cli
from govtrust.config import Config
from idp.accounts import Accounts

PASSWORD = "Correct-Horse-42"


def run(config: Config, *args: str, env: dict[str, str] | None = None, input: str | None = None):
    return CliRunner().invoke(
        cli, list(args), obj={"config": config}, env=env, input=input, catch_exceptions=False
    )


@pytest.fixture
def accounts(hub: Any) -> Accounts:
    return Accounts(hub.db, master_key=hub.master_key, clock=hub.clock)


def test_add_citizen(config: Config, accounts: Accounts) -> None:
    result = run(
        config,
        "idp", "user", "add",
        "--username", "Zhang.San",
        "--password", PASSWORD,
        "--name", "张三",
        "--id-number", "11010519491231002x",
        "--phone", "13800138000",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert set(out) == {"id", "username", "kind"}
    assert (out["username"], out["kind"]) == ("zhang.san", "citizen")
    view = accounts.get(out["id"])
    assert view is not None
    assert (view.name, view.id_number, view.phone) == ("张三", "11010519491231002X", "13800138000")
    assert accounts.authenticate("zhang.san", PASSWORD, ip="127.0.0.1").ok


def test_add_enterprise_with_password_from_the_environment(
    config: Config, accounts: Accounts
) -> None:
    result = run(
        config,
        "idp", "user", "add",
        "--username", "fz-ops",
        "--password-env", "GT_TEST_PW",
        "--name", "王经办",
        "--enterprise-name", "福州示例科技有限公司",
        "--uscc", "91350100M000100Y43",
        env={"GT_TEST_PW": PASSWORD},
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["kind"] == "enterprise"
    view = accounts.get(out["id"])
    assert view is not None and view.uscc == "91350100M000100Y43"
    assert view.enterprise_name == "福州示例科技有限公司"
    assert accounts.authenticate("fz-ops", PASSWORD, ip="127.0.0.1").ok


def test_password_prompt(config: Config, accounts: Accounts) -> None:
    result = run(
        config,
        "idp", "user", "add", "--username", "prompted", "--id-number", "11010519491231002X",
        input=f"{PASSWORD}\n{PASSWORD}\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    view = accounts.by_username("prompted")
    assert view is not None and view.name == "prompted"


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (["--id-number", "110105194912310021"], "invalid_id_number"),
        ([], "invalid_id_number"),
        (["--id-number", "11010519491231002X", "--phone", "12345"], "invalid_phone"),
        (["--enterprise-name", "某公司", "--uscc", "91350100M000100Y44"], "invalid_uscc"),
        (["--uscc", "91350100M000100Y43"], "usage"),
        (["--enterprise-name", "某公司"], "usage"),
        (["--id-number", "11010519491231002X", "--password-env", "GT_UNSET_VAR"], "usage"),
    ],
)
def test_bad_input_exits_2(config: Config, accounts: Accounts, args: list[str], code: str) -> None:
    base = ["idp", "user", "add", "--username", "someone"]
    if "--password-env" not in args:
        base += ["--password", PASSWORD]
    result = run(config, *base, *args)
    assert result.exit_code == 2
    assert f"govtrust: {code}:" in result.output
    assert accounts.by_username("someone") is None


def test_weak_password_and_duplicates_exit_2(config: Config, accounts: Accounts) -> None:
    args = ["idp", "user", "add", "--username", "dup", "--id-number", "11010519491231002X"]
    weak = run(config, *args, "--password", "password")
    assert weak.exit_code == 2 and "govtrust: weak_password:" in weak.output
    assert run(config, *args, "--password", PASSWORD).exit_code == 0
    again = run(config, *args, "--password", PASSWORD)
    assert again.exit_code == 2 and "govtrust: account_exists:" in again.output
    both = run(config, *args, "--password", PASSWORD, "--password-env", "GT_TEST_PW")
    assert both.exit_code == 2 and "govtrust: usage:" in both.output
    view = accounts.by_username("dup")
    assert view is not None and view.kind == "citizen"


def test_group_is_registered() -> None:
    result = CliRunner().invoke(cli, ["idp", "--help"], obj={"config": None})
    assert result.exit_code == 0 and "user" in result.output
