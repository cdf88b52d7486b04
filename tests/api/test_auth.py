"""Login over the API: pending steps (one-time password, admin TOTP enrolment), the session cookie's flags,
CSRF on cookie-authenticated writes (bearer calls need none), logout, lockout and rate limiting."""

from __future__ import annotations

from contextlib import contextmanager
from datetime import UTC, datetime

import pyotp
import pytest

API = "/api/v1"
NEW_PASSWORD = "a-Long-and-new-passphrase-42"


@contextmanager
def without_cookies(env):
    """Requests without the session cookie (bearer calls), restoring it afterwards."""
    saved = dict(env.client.cookies)
    env.client.cookies.clear()
    try:
        yield env.client
    finally:
        for name, value in saved.items():
            env.client.cookies.set(name, value)


def _login(env, username: str, password: str, code: str | None = None):
    body = {"username": username, "password": password}
    if code:
        body["totp_code"] = code
    return env.client.post(f"{API}/auth/login", json=body)


@pytest.fixture
def analyst_session(fresh_env):
    """The analyst logged in with a cookie after changing the one-time password (CSRF token returned)."""
    env = fresh_env
    first = _login(env, "analyst", env.passwords["analyst"])
    assert first.status_code == 200 and first.json()["data"]["pending"] == "password_change"
    csrf = first.json()["data"]["csrf_token"]
    assert env.client.get(f"{API}/auth/me").status_code == 401  # a pending session grants nothing
    changed = env.client.post(f"{API}/auth/password", headers={"X-CSRF-Token": csrf},
                              json={"old_password": env.passwords["analyst"], "new_password": NEW_PASSWORD})
    assert changed.status_code == 200, changed.text
    data = changed.json()["data"]
    assert data["pending"] is None and data["user"]["username"] == "analyst"
    return env, data["csrf_token"]


def test_cookie_flags_and_me(analyst_session):
    env, _ = analyst_session
    answer = _login(env, "analyst", NEW_PASSWORD)
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "path=/" in cookie
    assert "secure" not in cookie  # the test settings say cookie_secure=False (plain-HTTP loopback)
    me = env.client.get(f"{API}/auth/me").json()["data"]
    assert me["username"] == "analyst" and me["via"] == "session"


def test_csrf_required_for_cookie_writes_not_for_bearer(analyst_session):
    env, csrf = analyst_session
    without = env.client.post(f"{API}/jobs/recompute")
    assert without.status_code == 403 and without.json()["error"]["code"] == "csrf_failed"
    wrong = env.client.post(f"{API}/jobs/recompute", headers={"X-CSRF-Token": "x" * 43})
    assert wrong.status_code == 403
    right = env.client.post(f"{API}/jobs/recompute", headers={"X-CSRF-Token": csrf})
    assert right.status_code == 202
    with without_cookies(env) as client:
        assert client.post(f"{API}/jobs/recompute", headers=env.headers("analyst")).status_code == 202
    assert env.client.get(f"{API}/plan").status_code == 200  # reads need no CSRF token


def test_logout_ends_the_session(analyst_session):
    env, csrf = analyst_session
    assert env.client.post(f"{API}/auth/logout").status_code == 403  # CSRF on logout too
    assert env.client.post(f"{API}/auth/logout", headers={"X-CSRF-Token": csrf}).json()["data"]["logged_out"]
    assert env.client.get(f"{API}/auth/me").status_code == 401


def test_session_issues_tokens_but_a_token_cannot(analyst_session):
    env, csrf = analyst_session
    issued = env.client.post(f"{API}/tokens", headers={"X-CSRF-Token": csrf}, json={"scope": "read", "name": "cli"})
    assert issued.status_code == 201
    token = issued.json()["data"]["token"]
    assert token.startswith("cc_")
    with without_cookies(env) as client:
        by_token = client.post(f"{API}/tokens", headers={"Authorization": f"Bearer {token}"}, json={"scope": "read"})
    assert by_token.status_code == 403
    prefix = token.split("_")[1]
    assert env.client.delete(f"{API}/tokens/{prefix}", headers={"X-CSRF-Token": csrf}).status_code == 200
    with without_cookies(env) as client:
        assert client.get(f"{API}/auth/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    # another user's token is invisible: the analyst cannot revoke the viewer's
    viewer_prefix = env.tokens[("viewer", "read")].split("_")[1]
    assert env.client.delete(f"{API}/tokens/{viewer_prefix}", headers={"X-CSRF-Token": csrf}).status_code == 404


def test_admin_must_enrol_totp_then_logs_in_with_a_code(fresh_env):
    env = fresh_env
    first = _login(env, "admin", env.passwords["admin"])
    csrf = first.json()["data"]["csrf_token"]
    changed = env.client.post(f"{API}/auth/password", headers={"X-CSRF-Token": csrf},
                              json={"old_password": env.passwords["admin"], "new_password": NEW_PASSWORD})
    assert changed.json()["data"]["pending"] == "totp_enrollment"
    csrf = changed.json()["data"]["csrf_token"]
    enrolment = env.client.post(f"{API}/auth/totp/enroll", headers={"X-CSRF-Token": csrf}).json()["data"]
    code = pyotp.TOTP(enrolment["secret"]).at(datetime.now(UTC))
    confirmed = env.client.post(f"{API}/auth/totp/confirm", headers={"X-CSRF-Token": csrf}, json={"code": code})
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["data"]["user"]["role"] == "admin"
    assert env.client.get(f"{API}/audit").status_code == 200
    env.client.cookies.clear()
    needs_code = _login(env, "admin", NEW_PASSWORD)
    assert needs_code.status_code == 401 and needs_code.json()["error"]["code"] == "totp_required"


def test_lockout_after_failures_with_one_message(fresh_env):
    env = fresh_env
    answers = [_login(env, "viewer", "wrong-password-123") for _ in range(5)]
    assert all(a.status_code == 401 for a in answers)
    locked = _login(env, "viewer", env.passwords["viewer"])
    assert locked.status_code == 401 and locked.json()["error"]["code"] == "locked"
    unknown = _login(env, "nobody-here", "wrong-password-123")
    assert unknown.json()["error"]["message"] == locked.json()["error"]["message"]


def test_rate_limit_answers_429_with_retry_after(fresh_env, monkeypatch):
    from citycarbon.auth.ratelimit import RateLimiter
    from citycarbon.store import users

    env = fresh_env
    monkeypatch.setattr(users, "LOGIN_LIMITER", RateLimiter(capacity=3, per_seconds=3600.0))
    answers = [_login(env, "someone", "wrong-password-123") for _ in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert int(answers[-1].headers["retry-after"]) >= 1
    assert answers[-1].json()["error"]["code"] == "rate_limited"


def test_token_revoked_elsewhere_stops_working_within_the_cache_time(fresh_env):
    """A revocation through another process (here: the store directly, as the CLI does) takes effect within
    TOKEN_TTL; one through this app's API at once (test above)."""
    import time as clock

    from citycarbon.api.deps import TOKEN_TTL
    from citycarbon.store import users

    env = fresh_env
    token = env.tokens[("viewer", "read")]
    headers = {"Authorization": f"Bearer {token}"}
    assert env.client.get(f"{API}/auth/me", headers=headers).status_code == 200
    with env.db.session() as session:
        users.revoke_token(session, token.split("_")[1], actor="cli:test")
    clock.sleep(TOKEN_TTL + 0.05)
    assert env.client.get(f"{API}/auth/me", headers=headers).status_code == 401
