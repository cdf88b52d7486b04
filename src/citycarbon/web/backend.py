"""The web's session helpers: the caller's login session and principal for the cockpit's pages.

The pages reach the store only through the services (:mod:`citycarbon.services.auth` for the session here;
``imports``, ``users``, ``audit`` and the others in the routes), each call in one database transaction
(``Database.session()`` commits on success and rolls back on error, so a refused form writes nothing). Page
handlers never touch SQLAlchemy themselves.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Depends, Request

from citycarbon.auth.principal import Principal
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


class LoginRequired(Exception):
    """No logged-in principal: the application's handler sends the caller to ``target`` (the login page, or the
    second login step while a TOTP challenge is pending)."""

    def __init__(self, target: str | None = None):
        super().__init__(target or "login")
        self.target = target


def web_principal(request: Request, session=Depends(current_session)) -> Principal:
    """The logged-in caller of a cockpit page, as a dependency: no session (or a login still waiting for its
    second factor) raises :class:`LoginRequired`, which the application turns into the login redirect."""
    principal = getattr(session, "principal", None)
    if principal is None:
        pending = session is not None and getattr(session, "challenge", None) is not None
        raise LoginRequired("/login/step" if pending else None)
    return principal


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def localized(message: str, locale: str) -> str:
    """The store's messages read "中文 / English": the half in the page's language."""
    if " / " not in message:
        return message
    zh, en = message.split(" / ", 1)
    return zh if locale.startswith("zh") else en
