"""The web's only door to the store: login sessions, imports, users and the audit log.

Everything here calls :mod:`citycarbon.store` (``users``, ``imports``, ``audit``, ``ledger``) inside one
database transaction per call (``Database.session()`` commits on success and rolls back on error, so a
refused form writes nothing). Page handlers never touch SQLAlchemy themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Request

from citycarbon.web.app import web_state
from citycarbon.web.security import SESSION_COOKIE


def now() -> datetime:
    return datetime.now(UTC)


def current_session(request: Request):
    """The caller's web session (:func:`citycarbon.services.auth.session_state`: principal, CSRF token, pending
    step), or ``None`` (no cookie, expired or revoked session). Cached on the request."""
    if hasattr(request.state, "web_session"):
        return request.state.web_session
    session_id = request.cookies.get(SESSION_COOKIE)
    state = None
    if session_id:
        from citycarbon.services import auth

        state = auth.session_state(web_state(request).db(), session_id, now=now())
    request.state.web_session = state
    return state


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def localized(message: str, locale: str) -> str:
    """The store's messages read "中文 / English": the half in the page's language."""
    if " / " not in message:
        return message
    zh, en = message.split(" / ", 1)
    return zh if locale.startswith("zh") else en
