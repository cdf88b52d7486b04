"""Request dependencies shared by the API routers and the web pages (:mod:`citycarbon.web` reuses them).

Public functions (documented contract; the web relies on them):

* :func:`get_settings`, :func:`get_database`, :func:`get_results`, :func:`get_jobs` — the app's singletons.
* :class:`TokenCache` — a bearer token's principal is reused for :data:`TOKEN_TTL` (1 s); writes through this
  process that end a credential (token revoked, user updated or disabled) clear it at once.
* :func:`current_principal` — the caller from ``Authorization: Bearer cc_…`` (A1b's token lookup) or from
  the session cookie :data:`SESSION_COOKIE`; ``None`` when anonymous. Cached on ``request.state``.
* :func:`get_principal` — the same, 401 when anonymous, and for cookie-authenticated unsafe methods the CSRF
  check (:data:`CSRF_HEADER` must equal the session's token; bearer calls need none). API routers use it;
  :func:`get_principal_async` is the same for ``async`` handlers (no thread hop for a cached token).
* :func:`require_write`, :func:`require_admin`, :func:`require_admin_write` — 403 unless the principal may.
* :func:`session_csrf_token` / :func:`verify_csrf` — for web forms that send the token as a hidden field.
* :func:`set_session_cookie` / :func:`clear_session_cookie` — the cookie's flags in one place (HttpOnly,
  SameSite=Strict, Secure per ``settings.cookie_secure``, path ``/``).
"""

from __future__ import annotations

import hmac
import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.responses import Response

from citycarbon.api.errors import ApiError, forbidden, unauthorized
from citycarbon.auth.principal import Principal
from citycarbon.auth.tokens import digest
from citycarbon.settings import Settings

if TYPE_CHECKING:
    from citycarbon.services.jobs import JobRunner
    from citycarbon.services.results import Results
    from citycarbon.store.db import Database

#: seconds a bearer token's principal is reused without asking the store again (revocation, disabling and
#: lockout through this process take effect at once: :meth:`TokenCache.clear`; elsewhere within this time)
TOKEN_TTL = 1.0
SESSION_COOKIE = "cc_session"
CSRF_HEADER = "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_database(request: Request) -> Database:
    return request.app.state.db


def get_results(request: Request) -> Results:
    return request.app.state.results


def get_jobs(request: Request) -> JobRunner:
    return request.app.state.jobs


def _now() -> datetime:
    return datetime.now(UTC)


class TokenCache:
    """Principals of recently seen bearer tokens, keyed by the token's SHA-256, for :data:`TOKEN_TTL` seconds.

    Under load the same few tokens (scripts, dashboards) call many times a second; asking the store once a
    second per token instead of on every request keeps the status endpoints in their latency budget."""

    def __init__(self, ttl: float = TOKEN_TTL, max_entries: int = 10_000):
        self.ttl = ttl
        self.max_entries = max_entries
        self._entries: dict[str, tuple[float, Principal]] = {}
        self._lock = threading.Lock()

    def get(self, key: str) -> Principal | None:
        entry = self._entries.get(key)
        if entry is None or time.monotonic() - entry[0] >= self.ttl:
            return None
        return entry[1]

    def put(self, key: str, principal: Principal) -> None:
        with self._lock:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (time.monotonic(), principal)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


def token_cache(request: Request) -> TokenCache:
    cache = getattr(request.app.state, "token_cache", None)
    if cache is None:
        cache = request.app.state.token_cache = TokenCache()
    return cache


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise unauthorized("malformed Authorization header: expected 'Bearer cc_…'")
    return value.strip()


def _lookup(request: Request) -> None:
    """Resolve the caller once per request into ``request.state``: ``principal``, ``session_id`` (cookie
    logins only), ``csrf_token`` and ``login_state`` (A1b's SessionState, also for pending logins)."""
    from citycarbon.services import auth

    state = request.state
    state.principal, state.session_id, state.csrf_token, state.login_state = None, None, None, None
    db = get_database(request)
    token = _bearer(request)
    if token is not None:
        cache = token_cache(request)
        key = digest(token)
        principal = cache.get(key)
        if principal is None:
            principal = auth.caller_for_token(db, token, now=_now())
            if principal is None:
                raise unauthorized("invalid, expired or revoked token")
            cache.put(key, principal)
        state.principal = principal
        return
    session_id = request.cookies.get(SESSION_COOKIE)
    if not session_id:
        return
    login = auth.session_state(db, session_id, now=_now())
    if login is None:
        return
    state.login_state = login
    state.session_id = session_id
    state.csrf_token = login.csrf_token
    state.principal = login.principal  # None while a login step (password change, TOTP enrolment) is pending


def current_principal(request: Request) -> Principal | None:
    """The authenticated caller or None (anonymous, or a session cookie that is unknown/expired/pending)."""
    if not getattr(request.state, "resolved", False):
        _lookup(request)
        request.state.resolved = True
    return request.state.principal


def login_state(request: Request) -> Any:
    """A1b's ``SessionState`` of the cookie's login session (pending logins included), or None."""
    current_principal(request)
    return request.state.login_state


def session_csrf_token(request: Request) -> str | None:
    """The CSRF token of the request's login session (None for bearer calls and anonymous requests)."""
    current_principal(request)
    return request.state.csrf_token


def verify_csrf(request: Request, presented: str | None) -> None:
    """403 unless ``presented`` equals the session's CSRF token (constant-time). No-op for bearer calls."""
    current_principal(request)
    if request.state.session_id is None:
        return
    expected = session_csrf_token(request)
    if not expected or not presented or not hmac.compare_digest(expected, presented):
        raise ApiError(403, f"missing or wrong CSRF token: send the {CSRF_HEADER} header from the login answer",
                       code="csrf_failed")


#: routes that name their city themselves (the services check the caller's city scope against it)
CITY_ROUTES = ("/api/v1/targets", "/api/v1/cities", "/api/v1/auth", "/api/v1/tokens")


def check_city_scope(request: Request, principal: Principal) -> None:
    """403 for a caller scoped to another city than the one this deployment's data routes serve
    (:func:`citycarbon.services.cities.require_city`); routes that take a city check it themselves."""
    if principal.city is None or request.url.path.startswith(CITY_ROUTES):
        return
    from citycarbon.errors import Forbidden
    from citycarbon.services.cities import require_city

    results = getattr(request.app.state, "results", None)
    city = getattr(results, "city", None) or request.app.state.settings.city
    try:
        require_city(principal, city)
    except Forbidden as error:
        raise ApiError(403, error.message, code="forbidden") from None


def get_principal(request: Request) -> Principal:
    """The caller (401 when anonymous); a cookie-authenticated unsafe request must carry the CSRF header."""
    principal = current_principal(request)
    if principal is None:
        raise unauthorized()
    check_city_scope(request, principal)
    if request.method not in SAFE_METHODS:
        verify_csrf(request, request.headers.get(CSRF_HEADER))
    return principal


async def get_principal_async(request: Request) -> Principal:
    """:func:`get_principal` without a thread hop when the bearer token's principal is cached (the hot path of
    the read endpoints under load); otherwise the store is asked in the thread pool."""
    if not getattr(request.state, "resolved", False):
        token = _bearer(request)
        cached = token_cache(request).get(digest(token)) if token is not None else None
        if cached is not None:
            state = request.state
            state.principal, state.session_id, state.csrf_token, state.login_state = cached, None, None, None
            state.resolved = True
    if getattr(request.state, "resolved", False) and request.method in SAFE_METHODS:
        principal = request.state.principal
        if principal is None:
            raise unauthorized()
        check_city_scope(request, principal)
        return principal
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(get_principal, request)


def require_write(principal: Principal = Depends(get_principal)) -> Principal:
    if not principal.can_write:
        raise forbidden("this role or token scope is read-only")
    return principal


def require_admin(principal: Principal = Depends(get_principal)) -> Principal:
    if not principal.is_admin:
        raise forbidden("administrators only")
    return principal


def require_admin_write(principal: Principal = Depends(get_principal)) -> Principal:
    if not (principal.is_admin and principal.can_write):
        raise forbidden("administrators with a write scope only")
    return principal


def set_session_cookie(response: Response, settings: Settings, session_id: str, max_age: int | None = None) -> None:
    response.set_cookie(SESSION_COOKIE, session_id, max_age=max_age, path="/", httponly=True, samesite="strict",
                        secure=settings.cookie_secure)


def clear_session_cookie(response: Response, settings: Settings) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/", httponly=True, samesite="strict", secure=settings.cookie_secure)


def client_address(request: Request) -> str:
    """The peer address (behind nginx: uvicorn's --proxy-headers / forwarded-allow-ips set it)."""
    return request.client.host if request.client else "unknown"


def principal_dict(principal: Principal) -> dict[str, Any]:
    return principal.to_dict()
