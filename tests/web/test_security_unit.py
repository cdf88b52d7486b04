"""The web's own security helpers: redirect targets stay on this site, CSRF tokens bind to the session or to
the pre-login cookie, and the store's bilingual messages are split by language."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from citycarbon.settings import Settings
from citycarbon.web.backend import localized
from citycarbon.web.routes.auth import _safe_next
from citycarbon.web.security import PRELOGIN_COOKIE, CsrfError, check_csrf, csrf_token_for


@pytest.mark.parametrize("target,expected", [
    ("/accounting?year=2020", "/accounting?year=2020"), ("//evil.example/x", "/"), ("https://evil.example", "/"),
    ("/\\evil", "/"), ("", "/"), (None, "/")])
def test_login_redirects_only_to_this_site(target, expected):
    assert _safe_next(target) == expected


def test_csrf_token_binds_to_the_session_or_the_prelogin_cookie(tmp_path):
    settings = Settings.for_home(tmp_path)
    session = SimpleNamespace(csrf_token="session-token")
    anonymous = SimpleNamespace(cookies={PRELOGIN_COOKIE: "random-value"})
    check_csrf(settings, anonymous, session, "session-token")
    with pytest.raises(CsrfError):
        check_csrf(settings, anonymous, session, csrf_token_for(settings, "random-value"))
    check_csrf(settings, anonymous, None, csrf_token_for(settings, "random-value"))
    for forged in (None, "", csrf_token_for(settings, "another-value")):
        with pytest.raises(CsrfError):
            check_csrf(settings, anonymous, None, forged)
    with pytest.raises(CsrfError):
        check_csrf(settings, SimpleNamespace(cookies={}), None, csrf_token_for(settings, "random-value"))


def test_bilingual_store_messages_are_split_by_language():
    message = "用户名或密码错误 / wrong username or password"
    assert localized(message, "zh_CN") == "用户名或密码错误"
    assert localized(message, "en") == "wrong username or password"
    assert localized("plain", "en") == "plain"
