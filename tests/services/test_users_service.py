"""services/users.py: the one user and token service of every face — rules applied once, typed results, audit,
enterprise bindings checked against the monitoring registry, TOTP key rotation (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import stat

import pytest
from argon2 import PasswordHasher

from citycarbon.auth import passwords, totp
from citycarbon.auth.principal import Principal, Role
from citycarbon.errors import InputError
from citycarbon.services import users as service
from citycarbon.store import audit, totp_crypto
from citycarbon.store import users as store
from citycarbon.store.auth_models import User
from citycarbon.store.registry_models import RegistryEnterprise

CLI = service.cli_principal("cli:test")
GOOD = "蓝色海湾 tide-pool 2031"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


def _register_enterprise(db, enterprise_id: str = "E-PLANT-1") -> str:
    with db.session() as session:
        session.add(RegistryEnterprise(enterprise_id=enterprise_id, position=1, name="测试企业",
                                       uscc="91210200MA0QC2WX32", industry_code="3011", region="210211", tier=1))
    return enterprise_id


def _admin(db) -> Principal:
    created = service.create_user(db, CLI, username="office", role="admin")
    return Principal(created.user.id, "office", Role.admin, via="session")


def test_enterprise_user_is_bound_only_to_an_enterprise_of_the_registry(db):
    admin = _admin(db)
    with pytest.raises(InputError) as refused:
        service.create_user(db, admin, username="plant", role="enterprise", enterprise_id="NOT-THERE")
    problem = refused.value.first
    assert (problem.field, problem.code, problem.params) == ("enterprise_id", "enterprise_unknown",
                                                             {"enterprise": "'NOT-THERE'"})
    assert "NOT-THERE" in problem.message
    with db.session() as session:
        assert store.get_user(session, "plant") is None  # nothing written
    eid = _register_enterprise(db)
    created = service.create_user(db, admin, username="plant", role="enterprise", enterprise_id=eid)
    assert isinstance(created, service.UserWithSecret) and isinstance(created.user, service.UserInfo)
    assert created.user.enterprise_id == eid and len(created.one_time_password) >= 20
    # moving the binding to an enterprise that does not exist is refused the same way
    with pytest.raises(InputError) as moved:
        service.update_user(db, admin, "plant", {"enterprise_id": "GONE"})
    assert moved.value.first.field == "enterprise_id"
    assert service.get_user(db, admin, "plant").enterprise_id == eid


def test_district_user_is_bound_only_to_codes_of_the_region_codelist(db):
    admin = _admin(db)
    with pytest.raises(InputError) as refused:
        service.create_user(db, admin, username="xigang", role="district", regions=["210299"])
    assert refused.value.first.field == "regions" and refused.value.first.code == "region_unknown"
    assert service.create_user(db, admin, username="xigang", role="district", regions=["210202"]).user.regions == [
        "210202"]


@pytest.mark.parametrize("role", ["analyst", "district", "enterprise", "viewer"])
def test_only_administrators_manage_users(db, role):
    regions = ["210202"] if role == "district" else []
    enterprise = _register_enterprise(db) if role == "enterprise" else None
    created = service.create_user(db, CLI, username="someone", role=role, regions=regions, enterprise_id=enterprise)
    caller = Principal(created.user.id, "someone", Role(role), frozenset(regions), enterprise)
    for call in (lambda: service.create_user(db, caller, username="new-one", role="viewer"),
                 lambda: service.reset_password(db, caller, "someone"),
                 lambda: service.set_disabled(db, caller, "someone", True),
                 lambda: service.list_users(db, caller),
                 lambda: service.issue_token(db, caller, username="someone", scope="read")):
        with pytest.raises(service.Forbidden):
            call()
    read_only_admin = _admin(db).narrowed({"read"})
    assert [u.username for u in service.list_users(db, read_only_admin)] == ["office", "someone"]
    with pytest.raises(service.Forbidden):
        service.create_user(db, read_only_admin, username="new-one", role="viewer")


def test_tokens_are_minted_from_a_session_within_the_role_and_revoked_by_their_owner(db):
    admin = _admin(db)
    viewer_info = service.create_user(db, admin, username="reader", role="viewer").user
    viewer = Principal(viewer_info.id, "reader", Role.viewer, via="session")
    with pytest.raises(service.Forbidden) as write:
        service.issue_token(db, viewer, scope="write")
    assert write.value.code == "forbidden_write_token"
    issued = service.issue_token(db, viewer, scope="read", name="laptop", expires_days=30)
    assert issued.token.startswith("cc_") and issued.info.username == "reader" and issued.info.expires_at
    with pytest.raises(service.Forbidden) as by_token:
        service.issue_token(db, viewer.narrowed({"read"}), scope="read")
    assert by_token.value.code == "forbidden_token_by_token"
    with pytest.raises(InputError) as days:
        service.issue_token(db, viewer, scope="read", expires_days=0)
    assert days.value.first.field == "expires_days"
    # another non-admin cannot even learn that the token exists
    other_info = service.create_user(db, admin, username="other", role="viewer").user
    other = Principal(other_info.id, "other", Role.viewer, via="session")
    with pytest.raises(service.NotFound):
        service.revoke_token(db, other, issued.info.prefix)
    revoked = service.revoke_token(db, viewer, issued.info.prefix, reason="lost laptop")
    assert revoked.revoked_at is not None
    assert [t.prefix for t in service.list_tokens(db, viewer)] == [issued.info.prefix]
    with db.session() as session:
        actions = [(row["action"], row["actor"]) for row in audit.query(session, entity="api_token")]
    assert ("token.issue", "reader") in actions and ("token.revoke", "reader") in actions


def test_every_management_write_is_audited_with_the_caller(db):
    admin = _admin(db)
    service.create_user(db, admin, username="ana", role="analyst", reason="new hire")
    service.update_user(db, admin, "ana", {"display_name": "Ana"})
    service.reset_password(db, admin, "ana")
    service.unlock_user(db, admin, "ana")
    service.reset_totp(db, admin, "ana")
    service.set_disabled(db, admin, "ana", True, reason="left")
    with db.session() as session:
        rows = audit.query(session, entity="user")
        ana = store.get_user(session, "ana").id
    mine = [(r["action"], r["actor"]) for r in rows if r["entity_id"] == str(ana)]
    assert sorted(mine) == sorted([("user.create", "office"), ("user.update", "office"),
                                   ("user.reset_password", "office"), ("user.unlock", "office"),
                                   ("user.totp_reset", "office"), ("user.update", "office")])
    office = next(r for r in rows if r["action"] == "user.create" and r["after"]["username"] == "office")
    assert office["actor"] == "cli:test" and office["actor_id"] is None  # the CLI's own name, no user id


def test_unknown_user_is_not_found_naming_the_user(db):
    admin = _admin(db)
    with pytest.raises(service.NotFound) as missing:
        service.reset_password(db, admin, "nobody")
    assert missing.value.problem.field == "username" and "nobody" in missing.value.problem.message


def test_nothing_to_change_names_the_field(db):
    admin = _admin(db)
    service.create_user(db, admin, username="ana", role="analyst")
    with pytest.raises(InputError) as nothing:
        service.update_user(db, admin, "ana", {})
    assert nothing.value.first.code == "nothing_to_change"
    with pytest.raises(InputError) as unknown:
        service.update_user(db, admin, "ana", {"password_hash": "x"})
    assert unknown.value.first.field == "password_hash"


# ---- TOTP secrets at rest ------------------------------------------------------------------------------------

def test_totp_secret_is_stored_encrypted_with_a_key_file_made_0600(db, settings):
    admin = _admin(db)
    with db.session() as session:
        user = session.get(User, admin.user_id)
        enrolment = store.enroll_totp(session, user, cipher=totp_crypto.cipher_for(settings))
        stored = user.totp_secret
    assert stored.startswith(totp_crypto.FERNET_PREFIX) and enrolment.secret not in stored
    key_file = totp_crypto.key_file(settings)
    assert key_file.parent == settings.home
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert totp_crypto.cipher_for(settings).decrypt(stored) == enrolment.secret
    # another key cannot read it
    other = totp_crypto.TotpCipher([totp_crypto.Fernet.generate_key().decode()])
    with pytest.raises(totp_crypto.TotpKeyError):
        other.decrypt(stored)


def test_rotation_re_encrypts_every_secret_and_migrates_plaintext_ones(db, settings):
    admin = _admin(db)
    legacy_secret = totp.new_secret()
    with db.session() as session:
        enrolled = store.enroll_totp(session, session.get(User, admin.user_id),
                                     cipher=totp_crypto.cipher_for(settings)).secret
        legacy = store.create_user(session, username="legacy", role="analyst", actor="test")[0]
        legacy.totp_secret, legacy.totp_enabled = legacy_secret, True  # stored in the clear by an older release
        before = session.get(User, admin.user_id).totp_secret
    old_keys = totp_crypto.load_keys(settings)
    result = service.rotate_totp_key(db, settings, CLI, new_key=True)
    assert (result.secrets, result.keys) == (2, 2)
    new_keys = totp_crypto.load_keys(settings)
    assert new_keys[1:] == old_keys and new_keys[0] != old_keys[0]
    with db.session() as session:
        after = session.get(User, admin.user_id).totp_secret
        migrated = store.get_user(session, "legacy").totp_secret
        rows = audit.query(session, action="user.totp_rotate_key")
    assert after != before and migrated.startswith(totp_crypto.FERNET_PREFIX) and legacy_secret not in migrated
    assert rows[0]["after"] == {"secrets": 2} and rows[0]["actor"] == "cli:test"
    # once re-encrypted, the newest key alone reads every secret: the old one can go
    service.rotate_totp_key(db, settings, CLI, new_key=False, drop_old=True)
    only_new = totp_crypto.TotpCipher(new_keys[:1])
    assert totp_crypto.load_keys(settings) == new_keys[:1]
    assert only_new.decrypt(after) == enrolled and only_new.decrypt(migrated) == legacy_secret
    with pytest.raises(totp_crypto.TotpKeyError):
        totp_crypto.TotpCipher(old_keys).decrypt(after)


def test_keys_from_the_setting_take_precedence_and_rotation_refuses_to_write_them(db, settings):
    from dataclasses import replace

    key = totp_crypto.Fernet.generate_key().decode()
    configured = replace(settings, totp_keys=(key,))
    assert totp_crypto.load_keys(configured) == [key]
    assert not totp_crypto.key_file(configured).exists()
    with pytest.raises(totp_crypto.TotpKeyError, match="CITYCARBON_TOTP_KEYS"):
        service.rotate_totp_key(db, configured, CLI, new_key=True)
    assert service.rotate_totp_key(db, configured, CLI, new_key=False).key_file is None


def test_store_functions_without_a_cipher_use_the_key_of_their_database_not_of_the_environment(
        db, settings, tmp_path, monkeypatch):
    elsewhere = tmp_path / "another-home"
    monkeypatch.setenv("CITYCARBON_HOME", str(elsewhere))  # e.g. a test or a script with another environment
    admin = _admin(db)
    with db.session() as session:
        enrolment = store.enroll_totp(session, session.get(User, admin.user_id))
        stored = session.get(User, admin.user_id).totp_secret
    assert not (elsewhere / totp_crypto.KEY_FILE_NAME).exists()
    assert totp_crypto.cipher_for(db.settings).decrypt(stored) == enrolment.secret
