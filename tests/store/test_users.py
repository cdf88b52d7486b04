"""Users, logins, lockout, TOTP, tokens and sessions against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from argon2 import PasswordHasher

from citycarbon.auth import passwords, totp
from citycarbon.auth.errors import BAD_CREDENTIALS_MESSAGE, AuthError, LoginChallenge
from citycarbon.auth.principal import Role
from citycarbon.errors import InputError
from citycarbon.store import audit, users
from citycarbon.store.auth_models import User

T0 = datetime(2026, 11, 27, 1, 0, 0, tzinfo=UTC)
GOOD = "蓝色海湾 tide-pool 2031"
ACTOR = "cli:test"


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    """Cheap argon2 parameters (the real ones cost ~0.2 s per hash on this machine); limiter state reset."""
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    users.LOGIN_LIMITER.reset()
    users.UNKNOWN_USERS.reset()
    yield
    passwords._dummy_hash.cache_clear()
    users.LOGIN_LIMITER.reset()
    users.UNKNOWN_USERS.reset()


def _user(db, username, role="analyst", **kwargs) -> tuple[int, str]:
    with db.session() as s:
        user, otp = users.create_user(s, username=username, role=role, actor=ACTOR, **kwargs)
        return user.id, otp


def _ready_user(db, username, role="analyst", password=GOOD, **kwargs) -> int:
    """A user who has replaced the one-time password."""
    user_id, otp = _user(db, username, role, **kwargs)
    with db.session() as s:
        users.change_password(s, s.get(User, user_id), otp, password, now=T0)
    return user_id


def _login(db, username, password, code=None, now=T0, client="10.0.0.1", **kwargs):
    with db.session() as s:
        return users.authenticate(s, username, password, code, now=now, client=client, **kwargs)


def _raises(code, fn, *args, **kwargs) -> AuthError:
    with pytest.raises(AuthError) as info:
        fn(*args, **kwargs)
    assert info.value.code == code, info.value
    return info.value


# ---- create and log in ------------------------------------------------------------------------------------

def test_create_user_then_first_login_forces_password_change(db):
    user_id, otp = _user(db, "Alice", display_name="分析员")
    error = _raises("password_change_required", _login, db, "alice", otp)
    assert error.challenge == LoginChallenge(user_id, "alice", users.PENDING_PASSWORD_CHANGE)
    with db.session() as s:
        sid, csrf = users.create_session(s, error.challenge, now=T0)
    with db.session() as s:
        assert users.principal_for_session(s, sid, T0) is None  # a pending session grants nothing
        state = users.load_session(s, sid, T0)
        assert state.challenge.kind == "password_change" and state.csrf_token == csrf
        assert users.complete_pending_session(s, sid, now=T0) is None  # not done yet
    with db.session() as s:
        user = s.get(User, user_id)
        with pytest.raises(passwords.PasswordPolicyError, match="at least 12"):
            users.change_password(s, user, otp, "short", now=T0, keep_session_id=sid)
        users.change_password(s, user, otp, GOOD, now=T0, keep_session_id=sid)
    with db.session() as s:
        new_sid, new_csrf = users.complete_pending_session(s, sid, now=T0)
    with db.session() as s:
        assert users.principal_for_session(s, sid, T0) is None  # the pending id is spent
        principal = users.principal_for_session(s, new_sid, T0)
        assert principal.username == "alice" and principal.role is Role.analyst and principal.can_write
        assert users.load_session(s, new_sid, T0).csrf_token == new_csrf != csrf
    assert _login(db, "ALICE", GOOD).username == "alice"  # usernames are case-insensitive


def test_usernames_are_unique_case_insensitively_and_validated(db):
    _user(db, "bob")
    with pytest.raises(InputError, match="already exists"), db.session() as s:
        users.create_user(s, username="BOB", role="viewer", actor=ACTOR)
    with pytest.raises(InputError, match="username"), db.session() as s:
        users.create_user(s, username="bob smith", role="viewer", actor=ACTOR)


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"role": "superuser"}, "unknown role"),
    ({"role": "district"}, "at least one region"),
    ({"role": "district", "regions": ["210299"]}, "unknown district or county code '210299'"),
    ({"role": "district", "regions": ["210200"]}, "unknown district or county code '210200'"),  # the city
    ({"role": "analyst", "regions": ["210202"]}, "only district users"),
    ({"role": "enterprise"}, "needs an enterprise id"),
    ({"role": "viewer", "enterprise_id": "91210200MA0QC2WX32"}, "only enterprise users"),
    ({"role": "enterprise", "enterprise_id": "ENT 1; DROP"}, "an enterprise id has at most 64 characters"),
])
def test_bad_user_input_is_refused_and_nothing_is_written(db, kwargs, message):
    with pytest.raises(InputError, match=message) as info, db.session() as s:
        users.create_user(s, username="carol", actor=ACTOR, **kwargs)
    assert info.value.first.field in {"role", "regions", "enterprise_id"}
    with db.session() as s:
        assert users.list_users(s) == []
        assert audit.count(s) == 0


def test_unknown_region_gets_a_suggestion(db):
    with pytest.raises(InputError) as info, db.session() as s:
        users.create_user(s, username="dave", role="district", regions=["210203", "210213x"], actor=ACTOR)
    assert info.value.first.suggestion == "210213"


def test_district_user_principal_is_bound_to_its_regions(db):
    _ready_user(db, "zhongshan", role="district", regions=["210202", "210203", "210202"])
    principal = _login(db, "zhongshan", GOOD)
    assert principal.regions == frozenset({"210202", "210203"})
    assert principal.can_read_region("210202") and principal.can_write_region("210203")
    assert not principal.can_read_region("210211") and not principal.can_write_region("210211")
    assert principal.visible_regions(["210202", "210211", "210213"]) == ["210202"]


def test_enterprise_user_principal_is_bound_to_its_enterprise(db):
    _ready_user(db, "plant-a", role="enterprise", enterprise_id="91210200MA0QC2WX32")
    principal = _login(db, "plant-a", GOOD)
    assert principal.enterprise_id == "91210200MA0QC2WX32"
    assert principal.can_write_enterprise("91210200MA0QC2WX32")
    assert not principal.can_read_enterprise("91210211MA0XK7L2PU")
    assert not principal.can_read_region("210202")


def test_login_upgrades_a_hash_made_with_old_parameters(db, monkeypatch):
    user_id = _ready_user(db, "erin")
    with db.session() as s:
        old_hash = s.get(User, user_id).password_hash
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=2, memory_cost=2048, parallelism=1))
    assert passwords.needs_rehash(old_hash)
    _login(db, "erin", GOOD)
    with db.session() as s:
        new_hash = s.get(User, user_id).password_hash
    assert new_hash != old_hash and not passwords.needs_rehash(new_hash)
    assert _login(db, "erin", GOOD).username == "erin"


# ---- lockout and rate limit -------------------------------------------------------------------------------

def test_five_wrong_passwords_lock_without_revealing_whether_the_user_exists(db):
    _ready_user(db, "frank")
    seen = {}
    for who in ("frank", "nobody"):
        errors = [_raises("locked" if i == 4 else "bad_credentials", _login, db, who, f"wrong-{i}-password",
                          now=T0 + timedelta(seconds=i)) for i in range(5)]
        seen[who] = [(e.code, e.message) for e in errors]
        # while locked, even the right password (or any password for an unknown name) is refused alike
        after = _raises("locked", _login, db, who, GOOD, now=T0 + timedelta(minutes=14))
        seen[who].append((after.code, after.message))
    assert seen["frank"] == seen["nobody"]
    assert {message for _, message in seen["frank"]} == {BAD_CREDENTIALS_MESSAGE}
    # the lock lasts 15 minutes, then the right password works again
    assert _login(db, "frank", GOOD, now=T0 + timedelta(minutes=15, seconds=5)).username == "frank"


def test_lockout_doubles_and_is_audited(db):
    user_id = _ready_user(db, "grace")
    start = T0
    for expected_minutes in (15, 30):
        users.LOGIN_LIMITER.reset()  # the per-client limiter runs on real time; this test on simulated time
        for i in range(5):
            with pytest.raises(AuthError):
                _login(db, "grace", "not-the-password", now=start + timedelta(seconds=i))
        with db.session() as s:
            user = s.get(User, user_id)
            assert user.locked_until == start + timedelta(seconds=4, minutes=expected_minutes)
            start = user.locked_until + timedelta(seconds=1)
    with db.session() as s:
        rows = audit.query(s, action="user.lockout")
        assert len(rows) == 2 and rows[0]["entity_id"] == str(user_id)
        assert rows[0]["actor"] == "system:login"
    # a success clears the count; an admin can unlock too
    _login(db, "grace", GOOD, now=start)
    with db.session() as s:
        user = s.get(User, user_id)
        assert (user.failed_logins, user.lockouts, user.locked_until) == (0, 0, None)


def test_failure_count_survives_the_callers_rollback(db):
    user_id = _ready_user(db, "heidi")
    for i in range(3):
        with pytest.raises(AuthError):
            _login(db, "heidi", "not-the-password", now=T0 + timedelta(seconds=i))
    with db.session() as s:
        assert s.get(User, user_id).failed_logins == 3


def test_rate_limit_per_client_and_username(db):
    _ready_user(db, "ivan")
    for _ in range(10):  # the shared limiter runs on the login's clock: ten attempts in the same second
        _login(db, "ivan", GOOD, now=T0, client="10.9.9.9")
    error = _raises("rate_limited", _login, db, "ivan", GOOD, client="10.9.9.9")
    assert error.retry_after_s > 0
    assert _login(db, "ivan", GOOD, client="10.9.9.8").username == "ivan"  # another client is not throttled


def test_disabled_user_cannot_log_in_and_loses_sessions(db):
    user_id = _ready_user(db, "judy")
    _ready_user(db, "boss", role="admin")
    principal = _login(db, "judy", GOOD)
    with db.session() as s:
        sid, _ = users.create_session(s, principal, now=T0)
        users.update_user(s, s.get(User, user_id), disabled=True, actor=ACTOR)
    _raises("disabled", _login, db, "judy", GOOD)
    _raises("bad_credentials", _login, db, "judy", "wrong password here")  # no hint without the password
    with db.session() as s:
        assert users.principal_for_session(s, sid, T0) is None


# ---- TOTP -------------------------------------------------------------------------------------------------

def test_admin_without_totp_must_enrol_then_logs_in_with_codes(db):
    user_id = _ready_user(db, "root-admin", role="admin")
    error = _raises("totp_enrollment_required", _login, db, "root-admin", GOOD)
    assert error.challenge.kind == users.PENDING_TOTP_ENROLLMENT
    assert _login(db, "root-admin", GOOD, require_admin_totp=False).is_admin  # settings.require_admin_totp=0
    with db.session() as s:
        sid, _ = users.create_session(s, error.challenge, now=T0)
        user = s.get(User, user_id)
        enrolment = users.enroll_totp(s, user)
        assert enrolment.uri.startswith("otpauth://totp/citycarbon:root-admin")
    with db.session() as s:
        user = s.get(User, user_id)
        with pytest.raises(AuthError) as info:
            users.confirm_totp(s, user, "000000" if totp.code_at(enrolment.secret, T0) != "000000" else "111111",
                               now=T0)
        assert info.value.code == "totp_invalid"
        users.confirm_totp(s, user, totp.code_at(enrolment.secret, T0), now=T0)
    with db.session() as s:
        assert users.principal_for_session(s, users.complete_pending_session(s, sid, now=T0)[0], T0).is_admin
    later = T0 + timedelta(minutes=5)
    _raises("totp_required", _login, db, "root-admin", GOOD, now=later)
    code = totp.code_at(enrolment.secret, later)
    assert _login(db, "root-admin", GOOD, code, now=later).is_admin
    _raises("totp_invalid", _login, db, "root-admin", GOOD, code, now=later + timedelta(seconds=10))  # replay
    with db.session() as s:
        with pytest.raises(InputError, match="already enabled"):
            users.enroll_totp(s, s.get(User, user_id))
        users.reset_totp(s, s.get(User, user_id), actor=ACTOR, reason="lost phone")
    _raises("totp_enrollment_required", _login, db, "root-admin", GOOD, now=later + timedelta(minutes=1))


# ---- tokens -----------------------------------------------------------------------------------------------

def test_token_scope_narrows_the_principal(db):
    user_id = _ready_user(db, "kate", role="district", regions=["210211"])
    with db.session() as s:
        user = s.get(User, user_id)
        read = users.issue_token(s, user, "read", "dashboard", actor=ACTOR, now=T0)
        write = users.issue_token(s, user, "write", "uploader", actor=ACTOR, now=T0)
    with db.session() as s:
        reader = users.principal_for_token(s, read, T0)
        writer = users.principal_for_token(s, write, T0)
    assert reader.via == writer.via == "token"
    assert reader.scopes == frozenset({"read"}) and not reader.can_write
    assert not reader.can_write_region("210211") and not reader.can_import_statistics()
    assert writer.scopes == frozenset({"read", "write"}) and writer.can_write_region("210211")
    assert reader.regions == writer.regions == frozenset({"210211"})


def test_revoked_expired_tampered_and_disabled_tokens_give_nothing(db):
    user_id = _ready_user(db, "leo")
    _ready_user(db, "boss", role="admin")
    with db.session() as s:
        user = s.get(User, user_id)
        revoked = users.issue_token(s, user, "write", actor=ACTOR, now=T0)
        expiring = users.issue_token(s, user, "read", actor=ACTOR, now=T0, expires_at=T0 + timedelta(days=1))
        live = users.issue_token(s, user, "read", actor=ACTOR, now=T0)
        with pytest.raises(InputError, match="future"):
            users.issue_token(s, user, "read", actor=ACTOR, now=T0, expires_at=T0 - timedelta(seconds=1))
        with pytest.raises(InputError, match="unknown scope"):
            users.issue_token(s, user, "admin", actor=ACTOR, now=T0)
    with db.session() as s:
        users.revoke_token(s, revoked.split("_")[1], actor=ACTOR, now=T0)
        users.revoke_token(s, revoked, actor=ACTOR, now=T0)  # idempotent, and the whole token works as name
        with pytest.raises(InputError, match="no token"):
            users.revoke_token(s, "deadbeef", actor=ACTOR)
    with db.session() as s:
        assert users.principal_for_token(s, revoked, T0) is None
        assert users.principal_for_token(s, expiring, T0 + timedelta(hours=23)) is not None
        assert users.principal_for_token(s, expiring, T0 + timedelta(days=1)) is None
        tampered = live[:-1] + ("A" if live[-1] != "A" else "B")
        assert users.principal_for_token(s, tampered, T0) is None
        assert users.principal_for_token(s, "Bearer " + live, T0) is None
        assert users.principal_for_token(s, live, T0 + timedelta(minutes=1)) is not None
        user = s.get(User, user_id)
        assert [t.last_used_at for t in users.list_tokens(s, user) if live.split("_")[1] == t.prefix] == [
            T0 + timedelta(minutes=1)]
        users.update_user(s, user, disabled=True, actor=ACTOR)
    with db.session() as s:
        assert users.principal_for_token(s, live, T0) is None


def test_viewer_cannot_hold_a_write_token(db):
    user_id = _ready_user(db, "mia", role="viewer")
    with pytest.raises(InputError, match="viewer"), db.session() as s:
        users.issue_token(s, s.get(User, user_id), "write", actor=ACTOR)


# ---- sessions ---------------------------------------------------------------------------------------------

def test_sessions_expire_when_idle_and_at_twelve_hours_and_on_logout(db):
    _ready_user(db, "nina")
    principal = _login(db, "nina", GOOD)
    with db.session() as s:
        idle_sid, _ = users.create_session(s, principal, now=T0, user_agent="pytest", client="10.0.0.1")
        busy_sid, _ = users.create_session(s, principal, now=T0)
        out_sid, _ = users.create_session(s, principal, now=T0)
    with db.session() as s:
        assert users.principal_for_session(s, idle_sid, T0 + timedelta(minutes=29)) is not None
        assert users.principal_for_session(s, idle_sid, T0 + timedelta(minutes=29 + 31)) is None
        moment = T0
        while moment < T0 + timedelta(hours=12) - timedelta(minutes=20):  # active every 20 minutes …
            moment += timedelta(minutes=20)
            assert users.principal_for_session(s, busy_sid, moment) is not None
        assert users.principal_for_session(s, busy_sid, T0 + timedelta(hours=12)) is None  # … until 12 h
        assert users.revoke_session(s, out_sid, T0) is True
        assert users.revoke_session(s, out_sid, T0) is False
        assert users.principal_for_session(s, out_sid, T0) is None
        assert users.principal_for_session(s, "not-a-session", T0) is None
        assert users.principal_for_session(s, None, T0) is None


def test_password_reset_ends_sessions_and_requires_a_change(db):
    user_id = _ready_user(db, "oscar")
    principal = _login(db, "oscar", GOOD)
    with db.session() as s:
        sid, _ = users.create_session(s, principal, now=T0)
        new_otp = users.reset_password(s, s.get(User, user_id), actor=ACTOR, now=T0, reason="forgotten")
    with db.session() as s:
        assert users.principal_for_session(s, sid, T0) is None
    _raises("bad_credentials", _login, db, "oscar", GOOD)
    _raises("password_change_required", _login, db, "oscar", new_otp)


# ---- admins -----------------------------------------------------------------------------------------------

def test_create_admin_refuses_an_existing_admin_unless_reset(db):
    with db.session() as s:
        admin, first = users.create_admin(s, actor=ACTOR)
        assert admin.role == "admin" and admin.must_change_password
    with pytest.raises(InputError, match="--reset"), db.session() as s:
        users.create_admin(s, actor=ACTOR)
    with db.session() as s:
        _, second = users.create_admin(s, actor=ACTOR, reset=True)
    assert second != first
    _raises("bad_credentials", _login, db, "admin", first)
    _raises("password_change_required", _login, db, "admin", second)


def test_last_admin_cannot_be_disabled_or_demoted(db):
    first = _ready_user(db, "admin1", role="admin")
    with db.session() as s:
        for change in ({"disabled": True}, {"role": "analyst"}):
            with pytest.raises(InputError, match="last enabled admin"):
                users.update_user(s, s.get(User, first), actor=ACTOR, **change)
    second = _ready_user(db, "admin2", role="admin")
    with db.session() as s:
        users.update_user(s, s.get(User, first), role="district", regions=["210212"], actor=ACTOR)
    with db.session() as s:
        assert s.get(User, first).regions == ("210212",)
        with pytest.raises(InputError, match="last enabled admin"):
            users.update_user(s, s.get(User, second), disabled=True, actor=ACTOR)


# ---- audit ------------------------------------------------------------------------------------------------

def test_every_write_is_audited_without_secrets(db):
    secrets_seen: list[str] = []
    user_id, otp = _user(db, "peggy", role="district", regions=["210213"])
    secrets_seen.append(otp)
    with db.session() as s:
        user = s.get(User, user_id)
        users.change_password(s, user, otp, GOOD, now=T0)
        enrolment = users.enroll_totp(s, user, actor=ACTOR)
        users.confirm_totp(s, user, totp.code_at(enrolment.secret, T0), now=T0)
        token = users.issue_token(s, user, "write", "meter upload", actor=ACTOR, now=T0)
        users.revoke_token(s, token.split("_")[1], actor=ACTOR, now=T0, reason="test")
        users.update_user(s, user, regions=["210213", "210214"], actor=ACTOR, reason="boundary change")
        reset = users.reset_password(s, user, actor=ACTOR, now=T0)
        users.set_password(s, user, GOOD + "!", actor=ACTOR, now=T0)
        users.unlock_user(s, user, actor=ACTOR)
        secrets_seen += [GOOD, GOOD + "!", enrolment.secret, token, token.split("_", 2)[2], reset,
                         user.password_hash, user.totp_secret]
    with db.session() as s:
        rows = list(reversed(audit.query(s, limit=1000)))
        assert audit.verify(s).ok
    actions = [row["action"] for row in rows]
    assert actions == ["user.create", "user.change_password", "user.totp_enroll", "user.totp_enable",
                       "token.issue", "token.revoke", "user.update", "user.reset_password", "user.set_password",
                       "user.unlock"]
    update = rows[actions.index("user.update")]
    assert update["before"]["regions"] == ["210213"] and update["after"]["regions"] == ["210213", "210214"]
    assert update["reason"] == "boundary change" and update["actor"] == ACTOR
    assert rows[actions.index("user.change_password")]["actor"] == "peggy"
    text = json.dumps(rows, ensure_ascii=False)
    for secret in secrets_seen:
        assert secret not in text
    assert "password_hash" not in text and "totp_secret" not in text and "token_hash" not in text


def test_a_login_lockout_does_not_stop_the_users_tokens(db):
    user_id = _ready_user(db, "gateway", role="enterprise", enterprise_id="ENT1")
    with db.session() as s:
        token = users.issue_token(s, s.get(User, user_id), "write", "meter gateway", actor=ACTOR, now=T0)
    for i in range(5):
        with pytest.raises(AuthError):
            _login(db, "gateway", "somebody guessing", now=T0 + timedelta(seconds=i))
    with db.session() as s:
        assert s.get(User, user_id).locked_until is not None
        principal = users.principal_for_token(s, token, T0 + timedelta(minutes=1))
    assert principal is not None and principal.can_write_enterprise("ENT1")


def test_first_admin_owes_a_password_change_then_totp_enrolment(db):
    """The real first start: create-admin → one-time password → new password → TOTP → a full session."""
    with db.session() as s:
        admin, one_time = users.create_admin(s, actor=ACTOR)
        admin_id = admin.id
    error = _raises("password_change_required", _login, db, "admin", one_time)
    with db.session() as s:
        sid, _ = users.create_session(s, error.challenge, now=T0)
        users.change_password(s, s.get(User, admin_id), one_time, GOOD, now=T0, keep_session_id=sid)
    with db.session() as s:
        assert users.complete_pending_session(s, sid, now=T0) is None  # TOTP still owed
        assert users.load_session(s, sid, T0).challenge.kind == users.PENDING_TOTP_ENROLLMENT
        assert users.principal_for_session(s, sid, T0) is None
        enrolment = users.enroll_totp(s, s.get(User, admin_id))
        users.confirm_totp(s, s.get(User, admin_id), totp.code_at(enrolment.secret, T0), now=T0)
    with db.session() as s:
        full_sid, _ = users.complete_pending_session(s, sid, now=T0)
        assert users.principal_for_session(s, full_sid, T0).can_manage_users()


def test_unknown_user_costs_one_password_verification_like_a_real_one(db, monkeypatch):
    _ready_user(db, "quinn")
    calls = []
    real = passwords.verify_password

    def counting(stored, password):
        calls.append(stored)
        return real(stored, password)

    monkeypatch.setattr(passwords, "verify_password", counting)
    _raises("bad_credentials", _login, db, "quinn", "wrong password here")
    _raises("bad_credentials", _login, db, "quinn-not-here", "wrong password here")
    assert len(calls) == 2 and all(c.startswith("$argon2id$") for c in calls)
    assert passwords.hasher().check_needs_rehash(calls[1]) is False  # the dummy costs what a real hash costs


def test_long_ended_sessions_are_deleted_at_the_next_login(db):
    from sqlalchemy import func, select

    from citycarbon.store.auth_models import LoginSession

    _ready_user(db, "rita")
    principal = _login(db, "rita", GOOD)
    with db.session() as s:
        logged_out, _ = users.create_session(s, principal, now=T0)
        users.revoke_session(s, logged_out, T0)
        users.create_session(s, principal, now=T0)  # left idle
        recent, _ = users.create_session(s, principal, now=T0 + timedelta(hours=20))
    with db.session() as s:
        users.create_session(s, principal, now=T0 + timedelta(days=1, hours=1))
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(LoginSession)) == 2
        assert users.principal_for_session(s, recent, T0 + timedelta(hours=20, minutes=5)) is not None


def test_last_use_touch_is_best_effort_when_sqlite_cannot_take_the_write_lock(sqlite_db):
    """A request that has read, then finds another writer committed meanwhile, gets SQLITE_BUSY at once when
    it tries to write; the token check must still answer (the last-use time is best effort)."""
    from sqlalchemy import select, text

    user_id = _ready_user(sqlite_db, "sam")
    with sqlite_db.session() as s:
        token = users.issue_token(s, s.get(User, user_id), "read", actor=ACTOR, now=T0)
    with sqlite_db.session() as s:
        s.execute(select(User.id)).all()  # this transaction now holds a read snapshot
        with sqlite_db.engine.begin() as other:  # another writer commits after the snapshot was taken
            other.execute(text("UPDATE users SET display_name = 'x' WHERE id = :id"), {"id": user_id})
        principal = users.principal_for_token(s, token, T0 + timedelta(minutes=5))
        assert principal is not None and principal.username == "sam"


def test_concurrent_logins_neither_fail_nor_lose_a_failure_count(db):
    """Several clients at once (threads, one session each): every failure is counted, none errors out."""
    from concurrent.futures import ThreadPoolExecutor

    user_id = _ready_user(db, "tina")
    attempts = 4

    def attempt(i: int) -> str:
        try:
            _login(db, "tina", f"wrong password {i}", now=T0 + timedelta(seconds=i), client=f"10.1.0.{i}")
        except AuthError as error:
            return error.code
        return "ok"

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        codes = list(pool.map(attempt, range(attempts)))
    assert codes == ["bad_credentials"] * attempts
    with db.session() as s:
        assert s.get(User, user_id).failed_logins == attempts
