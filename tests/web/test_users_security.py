"""The web's user pages and login over the shared services: the new-user form defaults to viewer, bindings are
checked against the registry and codelist, messages come from the catalogs (zh_CN and en), the TOTP page says
密钥, and the web login is audited and rotates the session id like the API's."""

from __future__ import annotations

import re

from citycarbon.auth.messages import MESSAGES
from citycarbon.web.i18n import load_catalog

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _csrf(html: str) -> str:
    return CSRF.search(html).group(1)


def test_new_user_form_defaults_to_the_least_privileged_role(web_env):
    page = web_env.get("/admin/users")
    assert page.status_code == 200
    select = re.search(r'<select id="role" name="role" required>(.*?)</select>', page.text, re.S).group(1)
    options = re.findall(r'<option value="(\w+)"( selected)?>', select)
    assert options[0] == ("viewer", " selected")
    assert [value for value, chosen in options if chosen] == ["viewer"]


def test_binding_to_an_enterprise_missing_from_the_registry_is_refused_naming_the_field(fresh_web_env):
    from citycarbon.store import users

    answer = fresh_web_env.post("/admin/users", data={"username": "plant-z", "role": "enterprise",
                                                       "enterprise_id": "NO-SUCH-PLANT"})
    assert answer.status_code == 422
    assert "enterprise_id: 在线监测名录中没有企业 &#39;NO-SUCH-PLANT&#39;" in answer.text
    with fresh_web_env.db.session() as session:
        assert users.get_user(session, "plant-z") is None
    english = fresh_web_env.post("/admin/users?lang=en", data={"username": "plant-z", "role": "district",
                                                                "regions": ["210299"]})
    assert english.status_code == 422 and "regions: unknown district or county code &#39;210299&#39;" in english.text


def test_login_refusal_is_translated_from_the_catalog(fresh_web_env):
    client = fresh_web_env.as_user(None)
    for lang, expected in (("zh_CN", "用户名或密码错误"), ("en", "wrong username or password")):
        client.cookies.clear()
        token = _csrf(client.get(f"/login?lang={lang}").text)
        answer = client.post(f"/login?lang={lang}", data={"username": "nobody-x", "password": "wrong-password-1",
                                                          "csrf_token": token}, follow_redirects=False)
        assert answer.status_code == 401 and expected in answer.text


def test_totp_page_labels_the_secret_key_in_chinese(fresh_web_env):
    from citycarbon.store import users

    with fresh_web_env.db.session() as session:
        _, one_time = users.create_admin(session, username="keeper", actor="test")
    client = fresh_web_env.as_user(None)
    token = _csrf(client.get("/login").text)
    first = client.post("/login", data={"username": "keeper", "password": one_time, "csrf_token": token},
                        follow_redirects=False)
    pending_cookie = client.cookies.get("cc_session")
    step = client.get("/login/step")
    changed = client.post("/login/password", data={"current": one_time, "new": "Harbour-lights-2026",
                                                   "confirm": "Harbour-lights-2026", "csrf_token": _csrf(step.text)},
                          follow_redirects=False)
    assert first.status_code == changed.status_code == 303 and changed.headers["location"] == "/login/step"
    rotated = client.cookies.get("cc_session")
    assert rotated and rotated != pending_cookie  # the password step gave the session a new id
    enrol = client.get("/login/step")
    assert "密钥：" in enrol.text or "密钥:" in enrol.text
    assert "鍵" not in enrol.text and ">键<" not in enrol.text and "键:" not in enrol.text
    # the id seen before the step opens nothing any more
    client.cookies.clear()
    client.cookies.set("cc_session", pending_cookie)
    assert client.get("/login/step", follow_redirects=False).headers["location"] == "/login"


def test_web_login_and_logout_are_audited(fresh_web_env):
    from citycarbon.store import audit

    client = fresh_web_env.as_user(None)
    token = _csrf(client.get("/login").text)
    client.post("/login", data={"username": "nobody-y", "password": "wrong-password-1", "csrf_token": token})
    with fresh_web_env.db.session() as session:
        failed = audit.query(session, action="auth.login_failed")
    assert failed and failed[0]["actor"] == "system:login"


def test_every_user_message_has_a_chinese_and_an_english_translation():
    zh, en = load_catalog("zh_CN"), load_catalog("en")
    for code, msgid in MESSAGES.items():
        chinese, english = zh.get(msgid), en.get(msgid)
        assert chinese is not None and english is not None, code
        assert chinese.string and re.search(r"[\u4e00-\u9fff]", chinese.string), code
        assert english.string == msgid, code
        assert sorted(re.findall(r"%\(\w+\)s", chinese.string)) == sorted(re.findall(r"%\(\w+\)s", msgid)), code
    assert zh.get("Secret key").string == "密钥"


def test_admin_unlocks_a_locked_user_and_resets_two_factor_login_from_the_users_page(fresh_web_env):
    from citycarbon.store import audit, users

    client = fresh_web_env.as_user(None)
    token = _csrf(client.get("/login").text)
    for _ in range(5):
        client.post("/login", data={"username": "analyst", "password": "wrong-password-123", "csrf_token": token})
    page = fresh_web_env.get("/admin/users")
    assert 'action="/admin/users/analyst/unlock"' in page.text and "解除锁定" in page.text
    done = fresh_web_env.post("/admin/users/analyst/unlock")
    assert done.status_code == 200 and 'action="/admin/users/analyst/unlock"' not in done.text
    with fresh_web_env.db.session() as session:
        assert users.get_user(session, "analyst").locked_until is None
        assert audit.query(session, action="user.unlock")[0]["actor"] == "admin"
    missing = fresh_web_env.post("/admin/users/nobody/reset-totp")
    assert missing.status_code == 422 and "没有用户" in missing.text
    refused = fresh_web_env.post("/admin/users/analyst/unlock", user="analyst")
    assert refused.status_code == 403  # a lockout stops logins, not the analyst's live session: still not an admin
