"""Security edges closed by issue 12: city-wide jobs only for the city office and analysts, HSTS only over HTTPS
(or behind the documented proxy), the API login audited and rotated like the web's (one service)."""

from __future__ import annotations

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from citycarbon.api.middleware import RequestMiddleware, is_https

API = "/api/v1"


# ---- city-wide jobs ------------------------------------------------------------------------------------------

def _jobs(env) -> int:
    from citycarbon.store.models import Job

    with env.db.session() as session:
        return session.query(Job).count()


@pytest.mark.parametrize("user", ["enterprise-x", "district-a"])
def test_enterprise_and_district_write_tokens_cannot_queue_city_wide_jobs(api_env, user):
    before = _jobs(api_env)
    answer = api_env.client.post(f"{API}/jobs/recompute", headers=api_env.headers(user, "write"))
    assert answer.status_code == 403
    error = answer.json()["error"]
    assert error["code"] == "forbidden" and "city-wide" in error["message"]
    assert user.split("-")[0] in error["message"]  # the reason names the caller's role
    assert _jobs(api_env) == before  # nothing was queued


@pytest.mark.parametrize("user", ["admin", "analyst"])
def test_city_office_and_analysts_queue_city_wide_jobs(api_env, user):
    before = _jobs(api_env)
    answer = api_env.client.post(f"{API}/jobs/recompute", headers=api_env.headers(user, "write"))
    assert answer.status_code == 202 and answer.json()["data"]["job_id"]
    assert _jobs(api_env) == before + 1
    assert api_env.client.post(f"{API}/jobs/recompute", headers=api_env.headers(user, "read")).status_code == 403


# ---- HSTS ---------------------------------------------------------------------------------------------------

def _tiny(*, hsts: bool, trust: bool) -> FastAPI:
    app = FastAPI()

    @app.get("/ping")
    def ping() -> dict:
        return {"ok": True}

    app.add_middleware(RequestMiddleware, max_body_bytes=1024, hsts=hsts, trust_proxy_headers=trust)
    return app


@pytest.mark.parametrize(("base", "forwarded", "trust", "sent"), [
    ("http://testserver", None, False, False),       # plain HTTP: never
    ("http://testserver", "https", False, False),     # a client's own header is not believed
    ("http://testserver", "https", True, True),       # behind the documented proxy that terminates TLS
    ("http://testserver", "http", True, False),
    ("http://testserver", "https, http", True, True),  # the proxy nearest the client comes first
    ("https://testserver", None, False, True),        # the connection itself is HTTPS
])
def test_hsts_only_over_https_or_behind_the_trusted_proxy(base, forwarded, trust, sent):
    with TestClient(_tiny(hsts=True, trust=trust), base_url=base) as client:
        headers = {"X-Forwarded-Proto": forwarded} if forwarded else {}
        answer = client.get("/ping", headers=headers)
    assert answer.status_code == 200 and answer.headers["x-content-type-options"] == "nosniff"
    assert ("strict-transport-security" in answer.headers) is sent
    if sent:
        assert answer.headers["strict-transport-security"].startswith("max-age=31536000")


def test_no_hsts_when_cookies_are_not_secure_even_over_https():
    with TestClient(_tiny(hsts=False, trust=True), base_url="https://testserver") as client:
        assert "strict-transport-security" not in client.get("/ping").headers


def test_is_https_reads_the_forwarded_header_only_when_trusted():
    scope = {"scheme": "http", "headers": [(b"x-forwarded-proto", b"HTTPS")]}
    assert is_https(scope, True) and not is_https(scope, False)
    assert is_https({"scheme": "https", "headers": []}, False)


def test_the_app_sends_no_hsts_over_plain_http(api_env):
    assert "strict-transport-security" not in api_env.client.get("/healthz").headers


def test_trust_proxy_headers_setting_is_read_from_the_environment():
    from citycarbon.settings import Settings

    assert Settings.from_env({"CITYCARBON_HOME": "/tmp/x"}).trust_proxy_headers is False
    assert Settings.from_env({"CITYCARBON_HOME": "/tmp/x", "CITYCARBON_TRUST_PROXY_HEADERS": "1"}).trust_proxy_headers
    with pytest.raises(ValueError, match="CITYCARBON_TRUST_PROXY_HEADERS"):
        Settings.from_env({"CITYCARBON_TRUST_PROXY_HEADERS": "maybe"})


# ---- the API login goes through the same service as the web's --------------------------------------------------

def test_api_login_and_password_change_are_audited_and_rotate_the_session(fresh_env):
    from citycarbon.store import audit

    env = fresh_env
    env.client.cookies.clear()
    first = env.client.post(f"{API}/auth/login",
                            json={"username": "district-a", "password": env.passwords["district-a"]})
    assert first.status_code == 200 and first.json()["data"]["pending"] == "password_change"
    old_cookie, old_csrf = env.client.cookies.get("cc_session"), first.json()["data"]["csrf_token"]
    changed = env.client.post(f"{API}/auth/password", headers={"X-CSRF-Token": old_csrf},
                              json={"old_password": env.passwords["district-a"], "new_password": "海风 harbour-2031!"})
    assert changed.status_code == 200 and changed.json()["data"]["pending"] is None
    new_cookie = env.client.cookies.get("cc_session")
    assert new_cookie and new_cookie != old_cookie and changed.json()["data"]["csrf_token"] != old_csrf
    assert env.client.get(f"{API}/auth/me").json()["data"]["username"] == "district-a"
    env.client.cookies.clear()
    env.client.cookies.set("cc_session", old_cookie)
    assert env.client.get(f"{API}/auth/me").status_code == 401  # the id seen before the step is dead
    env.client.cookies.clear()
    wrong = env.client.post(f"{API}/auth/login", json={"username": "viewer", "password": "wrong-password-123"})
    assert wrong.status_code == 401
    with env.db.session() as session:
        actions = {row["action"] for row in audit.query(session, since=None)}
    assert {"auth.login", "auth.login_failed", "user.change_password"} <= actions


def test_a_user_bound_to_an_unknown_enterprise_is_refused_with_the_field_and_a_message_code(fresh_env):
    answer = fresh_env.client.post(f"{API}/users", headers=fresh_env.headers("admin"),
                                   json={"username": "plant-q", "role": "enterprise", "enterprise_id": "NOPE-1"})
    assert answer.status_code == 422
    problem = answer.json()["error"]["problems"][0]
    assert problem["field"] == "enterprise_id" and problem["message_code"] == "enterprise_unknown"
    assert "NOPE-1" in problem["message"]
    assert fresh_env.client.get(f"{API}/users/plant-q", headers=fresh_env.headers("admin")).status_code == 404


def test_admin_unlocks_and_resets_totp_through_the_api(fresh_env):
    from citycarbon.store import audit

    env = fresh_env
    env.client.cookies.clear()
    for _ in range(5):
        env.client.post(f"{API}/auth/login", json={"username": "viewer", "password": "wrong-password-123"})
    locked = env.client.get(f"{API}/users/viewer", headers=env.headers("admin")).json()["data"]
    assert locked["locked_until"] is not None
    refused = env.client.post(f"{API}/users/viewer/unlock", headers=env.headers("admin", "read"))
    assert refused.status_code == 403
    unlocked = env.client.post(f"{API}/users/viewer/unlock", headers=env.headers("admin"), json={"reason": "called"})
    assert unlocked.status_code == 200 and unlocked.json()["data"]["locked_until"] is None
    reset = env.client.post(f"{API}/users/viewer/reset-totp", headers=env.headers("admin"))
    assert reset.status_code == 200 and reset.json()["data"]["totp_enabled"] is False
    assert env.client.post(f"{API}/users/nobody/unlock", headers=env.headers("admin")).status_code == 404
    with env.db.session() as session:
        actions = [(r["action"], r["actor"], r["reason"]) for r in audit.query(session, entity="user")]
    assert ("user.unlock", "admin", "called") in actions and ("user.totp_reset", "admin", None) in actions
