"""services/auth.py: the login both faces call — every login event audited, the session id rotated at every
privilege step, and a login budget shared by every worker process (database by default, Redis when configured)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher

from citycarbon.auth import passwords, totp
from citycarbon.auth.errors import AuthError
from citycarbon.auth.ratelimit import RateLimiter, UnknownUserLockout
from citycarbon.services import auth
from citycarbon.store import audit, totp_crypto
from citycarbon.store import users as store
from citycarbon.store.auth_models import User
from citycarbon.store.db import Database
from citycarbon.store.login_throttle import DatabaseThrottle, RedisThrottle

T0 = datetime(2026, 12, 7, 2, 0, 0, tzinfo=UTC)
GOOD = "蓝色海湾 tide-pool 2031"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def fast_hashing(monkeypatch):
    monkeypatch.setattr(passwords, "_HASHER", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))
    passwords._dummy_hash.cache_clear()
    yield
    passwords._dummy_hash.cache_clear()


def _user(db, name: str, role: str = "analyst", *, ready: bool = True) -> tuple[int, str]:
    """A user; ``ready``: its one-time password already replaced by GOOD."""
    with db.session() as session:
        user, one_time = store.create_user(session, username=name, role=role, actor="test")
        if ready:
            store.set_password(session, user, GOOD, actor="test")
        return user.id, one_time


def _actions(db, **filters) -> list[str]:
    with db.session() as session:
        return [row["action"] for row in audit.query(session, **filters)]


def _live(db, session_id: str, now=T0) -> bool:
    with db.session() as session:
        return store.load_session(session, session_id, now) is not None


# ---- audit -------------------------------------------------------------------------------------------------

def test_login_failure_lockout_and_logout_reach_the_audit_log(db, settings):
    user_id, _ = _user(db, "ana")
    for i in range(5):
        with pytest.raises(AuthError):
            auth.login(db, settings, "ana", "not-the-password", client="10.0.0.7", now=T0 + timedelta(seconds=i))
    with db.session() as session:
        failures = audit.query(session, action="auth.login_failed")
        lockouts = audit.query(session, action="user.lockout")
    assert [r["after"]["code"] for r in failures] == ["locked"] + ["bad_credentials"] * 4  # newest first
    assert {r["entity_id"] for r in failures} == {str(user_id)} and failures[0]["after"]["client"] == "10.0.0.7"
    assert len(lockouts) == 1 and "not-the-password" not in json.dumps(failures)
    later = T0 + timedelta(hours=1)
    ticket = auth.login(db, settings, "ana", GOOD, client="10.0.0.7", now=later)
    assert ticket.principal.username == "ana" and ticket.pending is None
    with db.session() as session:
        login = audit.query(session, action="auth.login")[0]
    assert (login["actor"], login["entity_id"]) == ("ana", str(user_id))
    assert auth.logout(db, ticket.session_id, now=later) is True
    assert not _live(db, ticket.session_id, later)
    assert _actions(db, action="auth.logout") == ["auth.logout"]
    assert auth.logout(db, ticket.session_id, now=later) is False  # a second logout records nothing
    assert _actions(db, action="auth.logout") == ["auth.logout"]


def test_unknown_usernames_are_audited_and_lock_without_naming_anyone(db, settings):
    for i in range(5):
        with pytest.raises(AuthError):
            auth.login(db, settings, "ghost", "whatever-password", now=T0 + timedelta(seconds=i))
    with db.session() as session:
        rows = audit.query(session, entity="login")
    assert [r["action"] for r in rows].count("auth.login_failed") == 5
    assert [r["action"] for r in rows].count("auth.lockout") == 1
    assert "ghost" not in json.dumps(rows)


def test_rate_limited_attempts_are_refused_but_not_audited(db, settings, monkeypatch):
    monkeypatch.setattr(store, "LOGIN_LIMITER", RateLimiter(capacity=2, per_seconds=3600.0))
    for _ in range(2):
        with pytest.raises(AuthError):
            auth.login(db, settings, "ghost", "whatever-password", now=T0)
    with pytest.raises(AuthError) as limited:
        auth.login(db, settings, "ghost", "whatever-password", now=T0)
    assert limited.value.code == "rate_limited" and limited.value.retry_after_s > 0
    assert _actions(db, action="auth.login_failed") == ["auth.login_failed"] * 2


# ---- session rotation --------------------------------------------------------------------------------------

def test_every_privilege_step_gives_the_session_a_new_id_and_revokes_the_old(db, settings):
    """An admin's first login: one-time password accepted (pending) → password changed (new pending id, TOTP
    owed) → TOTP confirmed (new full id). Every id seen before a step is dead after it."""
    _, one_time = _user(db, "root-admin", role="admin", ready=False)
    first = auth.login(db, settings, "root-admin", one_time, now=T0)
    assert (first.pending, first.principal) == (store.PENDING_PASSWORD_CHANGE, None)
    with pytest.raises(auth.WrongStep):
        auth.confirm_totp(db, settings, first.session_id, "123456", now=T0)
    second = auth.change_password(db, settings, first.session_id, one_time, GOOD, now=T0)
    assert second.session_id != first.session_id and second.csrf_token != first.csrf_token
    assert second.pending == store.PENDING_TOTP_ENROLLMENT
    assert not _live(db, first.session_id) and _live(db, second.session_id)
    enrolment = auth.start_totp_enrollment(db, settings, second.session_id, now=T0)
    again = auth.start_totp_enrollment(db, settings, second.session_id, reuse=True, now=T0)
    assert again.secret == enrolment.secret  # the page shown twice keeps the secret the user scanned
    third = auth.confirm_totp(db, settings, second.session_id, totp.code_at(enrolment.secret, T0), now=T0)
    assert third.pending is None and third.principal.is_admin
    assert not _live(db, second.session_id) and _live(db, third.session_id)
    with pytest.raises(auth.NoSession):
        auth.change_password(db, settings, second.session_id, GOOD, GOOD + "!", now=T0)
    assert _actions(db, action="user.change_password") == ["user.change_password"]
    assert sorted(_actions(db, action="user.totp_enroll") + _actions(db, action="user.totp_enable")) == [
        "user.totp_enable", "user.totp_enroll"]


def test_a_voluntary_password_change_rotates_the_session_and_ends_the_others(db, settings):
    _user(db, "ana")
    here = auth.login(db, settings, "ana", GOOD, now=T0)
    elsewhere = auth.login(db, settings, "ana", GOOD, now=T0)
    renewed = auth.change_password(db, settings, here.session_id, GOOD, GOOD + " v2", now=T0)
    assert renewed.principal.username == "ana" and renewed.pending is None
    assert _live(db, renewed.session_id)
    assert not _live(db, here.session_id) and not _live(db, elsewhere.session_id)


def test_a_wrong_current_password_counts_as_a_failure_and_keeps_the_session(db, settings):
    user_id, _ = _user(db, "ana")
    here = auth.login(db, settings, "ana", GOOD, now=T0)
    with pytest.raises(AuthError) as wrong:
        auth.change_password(db, settings, here.session_id, "not-the-password", GOOD + " v2", now=T0)
    assert wrong.value.message_code == "current_password_wrong"
    assert _live(db, here.session_id)
    with db.session() as session:
        assert session.get(User, user_id).failed_logins == 1


def test_a_plaintext_totp_secret_is_encrypted_at_the_next_login(db, settings):
    user_id, _ = _user(db, "ana")
    secret = totp.new_secret()
    with db.session() as session:
        user = session.get(User, user_id)
        user.totp_secret, user.totp_enabled = secret, True  # as an older release stored it
    ticket = auth.login(db, settings, "ana", GOOD, totp.code_at(secret, T0), now=T0)
    assert ticket.principal.username == "ana"
    with db.session() as session:
        stored = session.get(User, user_id).totp_secret
    assert totp_crypto.is_encrypted(stored) and totp_crypto.cipher_for(settings).decrypt(stored) == secret


# ---- one budget for every worker process -----------------------------------------------------------------------

_WORKER = """
import json, sys
from datetime import UTC, datetime
from argon2 import PasswordHasher
from citycarbon.auth import passwords
from citycarbon.auth.errors import AuthError
from citycarbon.services import auth
from citycarbon.settings import Settings
from citycarbon.store.db import Database

passwords._HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
settings = Settings.from_env()
db = Database(settings)
codes = []
for _ in range(int(sys.argv[1])):
    try:
        auth.login(db, settings, "ghost", "whatever-password", client="203.0.113.9",
                   now=datetime(2026, 12, 7, 2, 0, 0, tzinfo=UTC))
        codes.append("ok")
    except AuthError as error:
        codes.append(error.code)
print(json.dumps(codes))
"""


def _worker(settings, attempts: int) -> list[str]:
    env = {**os.environ, "CITYCARBON_HOME": str(settings.home), "CITYCARBON_DATABASE_URL": settings.database_url,
           "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", _WORKER, str(attempts)], env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_two_worker_processes_share_one_login_budget(db, settings):
    """Ten attempts a minute per client and name, whichever process serves them: six in one process, then six
    in another — the second sees the first's four left and refuses the rest (in-memory counters would give each
    process its own ten)."""
    settings = replace(settings, database_url=str(db.engine.url.render_as_string(hide_password=False)))
    first = _worker(settings, 6)
    second = _worker(settings, 6)
    assert "rate_limited" not in first
    assert second.count("rate_limited") == 2 and second[-2:] == ["rate_limited", "rate_limited"]
    # and the unknown name locked after five failures counted across both processes
    assert first[-2:] == ["locked", "locked"] and second[0] == "locked"


def test_two_databases_objects_share_the_budget_in_the_database(db, settings):
    """Two apps over one database (two engines, as two workers hold): one bucket."""
    other = Database(replace(settings, database_url=db.engine.url.render_as_string(hide_password=False)))
    limiter = RateLimiter(capacity=3, per_seconds=3600.0)
    unknown = UnknownUserLockout(5, timedelta(minutes=15), timedelta(hours=24))
    try:
        seen = []
        for database in (db, other, db, other):
            with database.session() as session:
                seen.append(DatabaseThrottle(session, limiter, unknown).allow("10.0.0.1|ana", T0)[0])
        assert seen == [True, True, True, False]
    finally:
        other.dispose()


# ---- Redis --------------------------------------------------------------------------------------------------

def _redis_or_skip():
    redis = pytest.importorskip("redis", reason="the redis client is not installed (extra 'redis')")
    url = os.environ.get("CITYCARBON_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
    client = redis.Redis.from_url(url, socket_connect_timeout=1.0)
    try:
        client.ping()
    except redis.exceptions.ConnectionError as error:
        pytest.skip(f"Redis not reachable at {url}: {error}")
    return url


def test_redis_throttle_shares_one_budget_between_clients_and_locks_unknown_names():
    url = _redis_or_skip()
    prefix = f"citycarbon-test:{uuid.uuid4().hex}:"
    limiter = RateLimiter(capacity=3, per_seconds=3600.0)
    unknown = UnknownUserLockout(3, timedelta(minutes=15), timedelta(hours=24))
    one = RedisThrottle(url, limiter, unknown, prefix=prefix)  # two connections, as two worker processes hold
    two = RedisThrottle(url, limiter, unknown, prefix=prefix)
    try:
        seen = [throttle.allow("10.0.0.1|ana", T0) for throttle in (one, two, one, two)]
        assert [allowed for allowed, _ in seen] == [True, True, True, False]
        assert seen[-1][1] > 0
        assert one.allow("10.0.0.2|ana", T0)[0]  # another client has its own bucket
        assert [one.unknown_fail("ghost", T0), two.unknown_fail("ghost", T0), one.unknown_fail("ghost", T0)] == [
            False, False, True]
        assert two.unknown_locked("ghost", T0 + timedelta(minutes=14))
        assert not two.unknown_locked("ghost", T0 + timedelta(minutes=16))
    finally:
        for key in one.client.scan_iter(prefix + "*"):
            one.client.delete(key)


def test_login_uses_redis_when_configured(db, settings, monkeypatch):
    url = _redis_or_skip()
    monkeypatch.setattr(store, "LOGIN_LIMITER", RateLimiter(capacity=2, per_seconds=3600.0))
    configured = replace(settings, redis_url=url)
    client = f"198.51.100.{uuid.uuid4().int % 250}"
    codes = []
    for _ in range(3):
        try:
            auth.login(db, configured, f"ghost-{uuid.uuid4().hex[:6]}", "whatever-password", client=client, now=T0)
        except AuthError as error:
            codes.append(error.code)
    assert codes == ["bad_credentials"] * 3  # different names: different buckets
    name = f"ghost-{uuid.uuid4().hex[:6]}"
    for _ in range(2):
        with pytest.raises(AuthError):
            auth.login(db, configured, name, "whatever-password", client=client, now=T0)
    with pytest.raises(AuthError) as limited:
        auth.login(db, configured, name, "whatever-password", client=client, now=T0)
    assert limited.value.code == "rate_limited"
    with db.session() as session:  # counted in Redis, not in the database
        from citycarbon.store.auth_models import LoginThrottle

        assert session.query(LoginThrottle).count() == 0


def test_login_counts_in_the_database_while_redis_does_not_answer(db, settings, monkeypatch, caplog):
    pytest.importorskip("redis", reason="the redis client is not installed (extra 'redis')")
    from citycarbon.store.auth_models import LoginThrottle

    monkeypatch.setattr(store, "LOGIN_LIMITER", RateLimiter(capacity=2, per_seconds=3600.0))
    down = replace(settings, redis_url="redis://127.0.0.1:1/0")  # nothing listens on port 1
    codes = []
    for _ in range(3):
        with pytest.raises(AuthError) as refused:
            auth.login(db, down, "ghost", "whatever-password", client="192.0.2.1", now=T0)
        codes.append(refused.value.code)
    assert codes == ["bad_credentials", "bad_credentials", "rate_limited"]
    with db.session() as session:
        assert session.query(LoginThrottle).count() >= 1
    assert "Redis unavailable" in caplog.text
