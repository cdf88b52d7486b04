"""Who is asking and may they post: the session cookie → :class:`Principal`, and CSRF tokens for forms.

The login session itself lives in the store (:mod:`citycarbon.store.users`: ``create_session``,
``principal_for_session``, ``revoke_session``); the web only sets and reads the cookie. The cookie is
HttpOnly, SameSite=Strict and Secure unless ``settings.cookie_secure`` is off (plain-HTTP loopback only).

CSRF: every form carries a hidden ``csrf_token``: the login session's own token (kept by the store with the
session, the same one the API expects in ``X-CSRF-Token``). Before login (the login form itself) the token is
HMAC-SHA256(secret key, a random ``cc_prelogin`` cookie) instead (double-submit, so a foreign site cannot log
a victim into the attacker's account). A POST whose token does not match is refused with 403 and nothing is
written.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from citycarbon.settings import Settings

SESSION_COOKIE = "cc_session"
PRELOGIN_COOKIE = "cc_prelogin"
CSRF_FIELD = "csrf_token"


class CsrfError(Exception):
    """A form was posted without the right CSRF token."""


def _key(settings: Settings) -> bytes:
    return settings.secret_key()


def csrf_token_for(settings: Settings, binding: str) -> str:
    """The CSRF token bound to a session id (or a pre-login cookie value)."""
    return hmac.new(_key(settings), b"csrf:" + binding.encode(), hashlib.sha256).hexdigest()


def new_prelogin_value() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(settings: Settings, request: Request, session: object | None, submitted: str | None) -> None:
    """Raise :class:`CsrfError` unless ``submitted`` is the session's CSRF token (or, without a session, the
    pre-login token)."""
    expected = getattr(session, "csrf_token", None)
    if expected is None:
        binding = request.cookies.get(PRELOGIN_COOKIE)
        expected = csrf_token_for(settings, binding) if binding else None
    if not expected or not submitted or not hmac.compare_digest(str(expected), str(submitted)):
        raise CsrfError("CSRF token missing or wrong")


def cookie_options(settings: Settings) -> dict:
    return {"httponly": True, "samesite": "strict", "secure": settings.cookie_secure, "path": "/"}
