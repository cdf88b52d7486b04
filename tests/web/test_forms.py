"""Forms: login (wrong password, lockout, forced password change, TOTP enrolment and code), logout, CSRF
refusals that write nothing, user administration with one-time secrets shown once, the audit page, and the
import workflow (errors with row and field → fix → approve → the figures change)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pyotp
import pytest

from tests.web.conftest import HAS_IMPORTS

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    match = CSRF.search(html)
    assert match, "no CSRF field in the form"
    return match.group(1)


def _counts(env) -> tuple[int, int]:
    from citycarbon.store import audit, users

    with env.db.session() as session:
        return len(users.list_users(session)), audit.count(session)


def _login_page(client) -> str:
    client.cookies.clear()
    return _csrf(client.get("/login").text)


def test_login_form_refuses_a_post_without_its_csrf_token(fresh_web_env):
    client = fresh_web_env.as_user(None)
    response = client.post("/login", data={"username": "analyst", "password": "x" * 12}, follow_redirects=False)
    assert response.status_code == 403 and "表单已失效" in response.text


def test_wrong_password_is_named_and_repeated_failures_lock(fresh_web_env):
    client = fresh_web_env.as_user(None)
    token = _login_page(client)
    for _ in range(5):
        response = client.post("/login", data={"username": "viewer", "password": "wrong-password-123",
                                               "csrf_token": token}, follow_redirects=False)
        assert response.status_code == 401
        assert "用户名或密码错误" in response.text
    right = client.post("/login", data={"username": "viewer", "password": fresh_web_env.passwords["viewer"],
                                        "csrf_token": token}, follow_redirects=False)
    assert right.status_code == 401 and "锁定" in right.text  # locked even with the right password


def test_first_login_forces_a_password_change_then_opens_the_cockpit(fresh_web_env):
    client = fresh_web_env.as_user(None)
    token = _login_page(client)
    response = client.post("/login", data={"username": "district-a", "password": fresh_web_env.passwords["district-a"],
                                           "csrf_token": token, "next": "/districts"}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/login/step"
    assert client.get("/", follow_redirects=False).headers["location"] == "/login/step"  # nothing else opens
    step = client.get("/login/step")
    assert "设置您自己的密码" in step.text and 'action="/logout"' in step.text
    token = _csrf(step.text)
    short = client.post("/login/password", data={"current": fresh_web_env.passwords["district-a"], "new": "short",
                                                 "confirm": "short", "csrf_token": token}, follow_redirects=False)
    assert short.status_code == 422 and "errors" in short.text
    new = "Zhongshan-district-2026!"
    done = client.post("/login/password", data={"current": fresh_web_env.passwords["district-a"], "new": new,
                                                "confirm": new, "csrf_token": token}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/"
    page = client.get("/districts")
    assert page.status_code == 200 and "中山区" in page.text and "西岗区" not in page.text


def test_admin_enrols_totp_and_later_logs_in_with_a_code(fresh_web_env):
    from citycarbon.store import users

    with fresh_web_env.db.session() as session:
        _, one_time = users.create_admin(session, username="chief", actor="test")
    client = fresh_web_env.as_user(None)
    token = _login_page(client)
    client.post("/login", data={"username": "chief", "password": one_time, "csrf_token": token})
    step = client.get("/login/step")
    client.post("/login/password", data={"current": one_time, "new": "Harbour-lights-2026", "confirm":
                                         "Harbour-lights-2026", "csrf_token": _csrf(step.text)})
    enrol = client.get("/login/step")
    assert "设置双因素登录" in enrol.text
    secret = re.search(r'id="totp-secret">([A-Z2-7]+)<', enrol.text).group(1)
    wrong = client.post("/login/totp", data={"code": "000000", "csrf_token": _csrf(enrol.text)},
                        follow_redirects=False)
    assert wrong.status_code == 422
    ok = client.post("/login/totp", data={"code": pyotp.TOTP(secret).now(), "csrf_token": _csrf(enrol.text)},
                     follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"] == "/"
    cockpit = client.get("/")
    assert cockpit.status_code == 200 and "/admin/users" in cockpit.text
    # log out (POST with the token), then log in again: the code is asked for
    client.post("/logout", data={"csrf_token": _csrf(cockpit.text)})
    assert client.get("/", follow_redirects=False).status_code == 303
    token = _login_page(client)
    ask = client.post("/login", data={"username": "chief", "password": "Harbour-lights-2026", "csrf_token": token})
    assert ask.status_code == 401 and 'id="totp"' in ask.text
    code = pyotp.TOTP(secret).at(datetime.now(UTC) + timedelta(seconds=30))  # the next step: not a replay
    back = client.post("/login", data={"username": "chief", "password": "Harbour-lights-2026", "totp": code,
                                       "csrf_token": token}, follow_redirects=False)
    assert back.status_code == 303
    assert client.get("/").status_code == 200


def test_user_form_without_csrf_token_writes_nothing(fresh_web_env):
    before = _counts(fresh_web_env)
    response = fresh_web_env.post("/admin/users", data={"username": "intruder", "role": "admin"}, csrf=False)
    assert response.status_code == 403
    wrong = fresh_web_env.post("/admin/users", data={"username": "intruder", "role": "admin",
                                                     "csrf_token": "forged"}, csrf=False)
    assert wrong.status_code == 403
    assert _counts(fresh_web_env) == before


def test_admin_creates_a_district_user_and_sees_the_one_time_password_once(fresh_web_env):
    response = fresh_web_env.post("/admin/users", data={"username": "jinzhou", "role": "district",
                                                        "regions": ["210213"], "display_name": "金州区发改局"})
    assert response.status_code == 200
    secret = re.search(r'<p class="secret">([^<]+)</p>', response.text).group(1)
    assert len(secret) >= 12
    again = fresh_web_env.get("/admin/users")
    assert "jinzhou" in again.text and secret not in again.text  # shown once


def test_bad_user_form_names_the_field_and_writes_nothing(fresh_web_env):
    before = _counts(fresh_web_env)
    response = fresh_web_env.post("/admin/users", data={"username": "nowhere", "role": "district"})
    assert response.status_code == 422
    assert "未保存任何内容" in response.text and "region" in response.text
    assert _counts(fresh_web_env) == before


def test_admin_issues_and_revokes_a_token(fresh_web_env):
    issued = fresh_web_env.post("/admin/users/analyst/tokens", data={"scope": "read", "name": "excel"})
    token = re.search(r'<p class="secret">(cc_[^<]+)</p>', issued.text).group(1)
    prefix = token.split("_")[1]
    revoked = fresh_web_env.post(f"/admin/tokens/{prefix}/revoke")
    assert revoked.status_code == 200 and "已撤销" in revoked.text


def test_admin_resets_a_password_disables_a_user_and_a_bad_token_form_writes_nothing(fresh_web_env):
    reset = fresh_web_env.post("/admin/users/analyst/reset-password")
    assert reset.status_code == 200
    secret = re.search(r'<p class="secret">([^<]+)</p>', reset.text).group(1)
    assert len(secret) >= 12
    disabled = fresh_web_env.post("/admin/users/analyst/disable", data={"disabled": "1"})
    assert disabled.status_code == 200
    before = _counts(fresh_web_env)
    bad = fresh_web_env.post("/admin/users/analyst/tokens", data={"scope": "read", "expires_days": "0"})
    assert bad.status_code == 422 and "expires_days" in bad.text
    assert fresh_web_env.post("/admin/users/nobody/disable").status_code == 422
    assert _counts(fresh_web_env) == before


def test_audit_page_filters_and_verifies_the_chain(fresh_web_env):
    page = fresh_web_env.get("/admin/audit?action=user.create")
    assert page.status_code == 200 and "user.create" in page.text and "user.totp_enable" not in page.text
    bad = fresh_web_env.get("/admin/audit?since=yesterday")
    assert bad.status_code == 422 and "YYYY-MM-DD" in bad.text
    verified = fresh_web_env.post("/admin/audit/verify")
    assert verified.status_code == 200 and "审计链完整" in verified.text


STATISTICS_2024 = """year,region,variable,value,unit,price_base_year,status,source
2024,210200,gdp,9516.9,10^8 CNY,,official,统计局
2024,210200,gdp,{gdp_2020},10^8 CNY,2020,official,统计局
2024,210200,gdp,7912,10^8 CNY,2015,official,统计局
2024,210200,gdp_primary,585.7,10^8 CNY,,official,统计局
2024,210200,{secondary},3349,10^8 CNY,,official,统计局
2024,210200,gdp_tertiary,5582.2,10^8 CNY,,official,统计局
2024,210200,population,756.2,10^4 person,,official,统计局
"""


def _energy_intensity(html: str) -> str:
    match = re.search(r"单位地区生产总值能耗</th><td class=\"num\">([^<]+)</td>", html)
    assert match, "energy intensity row missing"
    return match.group(1)


@pytest.mark.skipif(not HAS_IMPORTS, reason="citycarbon.store.imports (import batches) is not installed")
def test_import_errors_name_row_and_field_then_the_fix_changes_the_figures(fresh_web_env):
    from citycarbon.store import users

    env = fresh_web_env
    with env.db.session() as session:  # an analyst of its own: an earlier test of this module disables "analyst"
        users.create_user(session, username="statistician", role="analyst", actor="test")
    env.new_session("statistician")
    env.new_session("district-a")
    env.new_session("district-b")
    before = _energy_intensity(env.get("/accounting?year=2024").text)
    bad = STATISTICS_2024.format(gdp_2020="9100", secondary="gdp_secundary")
    response = env.as_user("statistician").post(
        "/imports", data={"csrf_token": env.csrf("statistician"), "kind": "statistics"},
        files={"file": ("stats-2024.csv", bad.encode(), "text/csv")}, follow_redirects=False)
    assert response.status_code == 303
    rejected = env.get(response.headers["location"], user="statistician")
    assert "文件未通过校验" in rejected.text
    row = re.search(r'<tr><td class="num">(\d+)</td><td>变量</td><td><code>gdp_secundary</code></td>', rejected.text)
    assert row and row.group(1) == "6"  # 5th data row = sheet row 6, field and value named
    assert _energy_intensity(env.get("/accounting?year=2024").text) == before  # nothing changed
    good = STATISTICS_2024.format(gdp_2020="9100", secondary="gdp_secondary")
    # the city's rows (210200) are not a district's to import: refused, nothing stored (issue 12)
    refused = env.as_user("district-a").post(
        "/imports", data={"csrf_token": env.csrf("district-a")},
        files={"file": ("stats-2024.csv", good.encode(), "text/csv")}, follow_redirects=False)
    assert refused.status_code == 422 and "210200" in refused.text
    response = env.as_user("statistician").post(
        "/imports", data={"csrf_token": env.csrf("statistician")},
        files={"file": ("stats-2024.csv", good.encode(), "text/csv")}, follow_redirects=False)
    batch = response.headers["location"]
    preview = env.get(batch, user="statistician")
    assert "批准后将发生的变化" in preview.text and 'id="approve-form"' not in preview.text  # analyst cannot approve
    assert env.post(batch + "/approve", user="statistician").status_code == 403
    assert env.get(batch, user="district-b").status_code == 404  # a district sees only its own uploads
    approved = env.post(batch + "/approve", data={"reason": "2024 统计公报"})
    assert approved.status_code == 303
    assert "已批准" in env.get(approved.headers["location"]).text
    after = _energy_intensity(env.get("/accounting?year=2024").text)
    assert after != before
    assert env.post(batch + "/approve").status_code == 409  # approving twice is refused, nothing written twice
