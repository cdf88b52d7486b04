"""``citycarbon users …`` end to end on a fresh SQLite data directory (migrated on first use)."""

from __future__ import annotations

import json

import pytest
from argon2 import PasswordHasher
from typer.testing import CliRunner

from citycarbon.auth import passwords
from citycarbon.auth.errors import AuthError
from citycarbon.settings import Settings
from citycarbon.store import audit, users
from citycarbon.store.db import Database
from tests.db_fixtures import settings  # noqa: F401

try:
    from citycarbon.cli import app
except ModuleNotFoundError as exc:  # another command module of the shared CLI is not written yet
    if exc.name and exc.name.startswith("citycarbon.cli.") and exc.name != "citycarbon.cli.users":
        pytest.skip(f"citycarbon.cli cannot be assembled yet: {exc.name} is missing", allow_module_level=True)
    raise

from citycarbon.cli.users import cli_actor

runner = CliRunner()


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    users.LOGIN_LIMITER.reset()
    yield
    passwords._dummy_hash.cache_clear()


def invoke(*args: str):
    return runner.invoke(app, ["users", *args])


def _json(result) -> dict:
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_create_admin_prints_one_time_password_once_and_refuses_again(settings):  # noqa: F811
    first = _json(invoke("create-admin", "--format", "json"))
    assert first["username"] == "admin" and first["must_change_password"] is True
    assert "shown only this once" in first_stderr(invoke("create-admin", "--username", "ops", "--format", "json"))
    again = invoke("create-admin")
    assert again.exit_code == 2 and "--reset" in again.stderr
    reset = _json(invoke("create-admin", "--reset", "--format", "json"))
    assert reset["one_time_password"] != first["one_time_password"]
    database = Database(Settings.from_env())
    try:
        assert database.is_current()  # the CLI migrated the fresh database
        with database.session() as session:
            with pytest.raises(AuthError) as info:
                users.authenticate(session, "admin", reset["one_time_password"])
            assert info.value.code == "password_change_required"
            rows = audit.query(session)
            assert {r["actor"] for r in rows} == {cli_actor()}
            assert reset["one_time_password"] not in json.dumps(rows)
    finally:
        database.dispose()


def first_stderr(result) -> str:
    assert result.exit_code == 0, result.output
    return result.stderr


def test_add_list_token_revoke_disable(settings):  # noqa: F811
    added = _json(invoke("add", "--username", "Xigang", "--role", "district", "--region", "210203",
                         "--format", "json"))
    assert added["username"] == "xigang" and added["regions"] == ["210203"] and added["one_time_password"]
    bad = invoke("add", "--username", "nobody", "--role", "district", "--region", "210299")
    assert bad.exit_code == 2 and "210299" in bad.stderr and "regions" in bad.stderr
    listed = _json(invoke("list", "--format", "json"))["users"]
    assert [u["username"] for u in listed] == ["xigang"]
    assert "password" not in json.dumps(listed).replace("must_change_password", "")
    table = invoke("list")
    assert table.exit_code == 0 and "xigang" in table.stdout

    issued = _json(invoke("token", "--username", "xigang", "--scope", "read", "--name", "大屏",
                          "--expires-days", "30", "--format", "json"))
    assert issued["token"].startswith(f"cc_{issued['prefix']}_") and issued["expires_at"]
    database = Database(Settings.from_env())
    try:
        with database.session() as session:
            principal = users.principal_for_token(session, issued["token"])
            assert principal.regions == frozenset({"210203"}) and not principal.can_write
        listed_tokens = _json(invoke("tokens", "xigang", "--format", "json"))["tokens"]
        assert [t["prefix"] for t in listed_tokens] == [issued["prefix"]]
        assert issued["token"] not in json.dumps(listed_tokens)
        assert invoke("revoke-token", issued["prefix"]).exit_code == 0
        with database.session() as session:
            assert users.principal_for_token(session, issued["token"]) is None
        assert invoke("revoke-token", "00000000").exit_code == 2
        assert invoke("token", "--username", "xigang", "--scope", "admin").exit_code == 2

        assert _json(invoke("disable", "xigang", "--reason", "left", "--format", "json"))["disabled"] is True
        assert _json(invoke("enable", "xigang", "--format", "json"))["disabled"] is False
        assert invoke("disable", "ghost").exit_code == 2
        assert _json(invoke("unlock", "xigang", "--format", "json"))["locked_until"] is None
        reset = _json(invoke("reset-password", "xigang", "--format", "json"))
        with database.session() as session, pytest.raises(AuthError) as info:
            users.authenticate(session, "xigang", reset["one_time_password"])
        assert info.value.code == "password_change_required"
    finally:
        database.dispose()


def test_refusals_name_the_field_in_the_terminals_language(settings, monkeypatch):  # noqa: F811
    from citycarbon.cli.users import cli_locale

    assert cli_locale({"LANG": "zh_CN.UTF-8"}) == "zh_CN" and cli_locale({"LANG": "C.UTF-8"}) == "en"
    assert cli_locale({"LC_ALL": "en_US.UTF-8", "LANG": "zh_CN.UTF-8"}) == "en"
    monkeypatch.delenv("LC_ALL", raising=False)
    monkeypatch.delenv("LC_MESSAGES", raising=False)
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    chinese = invoke("add", "--username", "plant", "--role", "enterprise", "--enterprise", "NO-SUCH")
    assert chinese.exit_code == 2
    assert "field 'enterprise_id'" in chinese.stderr and "在线监测名录中没有企业 'NO-SUCH'" in chinese.stderr
    monkeypatch.setenv("LANG", "en_GB.UTF-8")
    english = invoke("reset-password", "nobody")
    assert english.exit_code == 2 and "no user 'nobody'" in english.stderr


def test_rotate_totp_key_re_encrypts_every_secret(settings):  # noqa: F811
    from citycarbon.store import totp_crypto
    from citycarbon.store.auth_models import User

    _json(invoke("create-admin", "--format", "json"))
    database = Database(Settings.from_env())
    try:
        with database.session() as session:
            admin = users.get_user(session, "admin")
            secret = users.enroll_totp(session, admin).secret
        with database.session() as session:
            before = session.get(User, admin.id).totp_secret
        first_key = totp_crypto.load_keys(settings)[0]
        result = _json(invoke("rotate-totp-key", "--drop-old-keys", "--format", "json"))
        assert result["secrets"] == 1 and result["keys"] == 1 and result["key_file"].endswith("totp.key")
        new_key = totp_crypto.load_keys(settings)
        assert new_key != [first_key] and len(new_key) == 1
        with database.session() as session:
            after = session.get(User, admin.id).totp_secret
        assert after != before and totp_crypto.TotpCipher(new_key).decrypt(after) == secret
        with database.session() as session:
            assert audit.query(session, action="user.totp_rotate_key")[0]["actor"] == cli_actor()
    finally:
        database.dispose()


def test_add_user_with_an_e_mail_address_and_refuse_a_bad_one(settings):  # noqa: F811
    """The inbox's e-mail goes to the address given when the user is created (issue 14 item 8)."""
    created = _json(invoke("add", "--username", "zhang", "--role", "viewer", "--email", "zhang@example.gov.cn",
                           "--format", "json"))
    assert created["email"] == "zhang@example.gov.cn"
    bad = invoke("add", "--username", "li", "--role", "viewer", "--email", "not-an-address")
    assert bad.exit_code != 0 and "email" in bad.output + bad.stderr
    database = Database(Settings.from_env())
    try:
        with database.session() as session:
            assert users.get_user(session, "li") is None  # nothing stored
            assert users.get_user(session, "zhang").email == "zhang@example.gov.cn"
    finally:
        database.dispose()
