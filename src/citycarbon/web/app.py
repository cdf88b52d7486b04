"""Wiring of the web cockpit: Jinja2 environments per locale, static files, rendering, routers."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from citycarbon.auth.principal import Principal
from citycarbon.settings import Settings
from citycarbon.web.data import DataSource
from citycarbon.web.i18n import DEFAULT_LOCALE, LANG_COOKIE, LOCALES, Formatter, load_translations, negotiate
from citycarbon.web.security import CSRF_FIELD, PRELOGIN_COOKIE, cookie_options, csrf_token_for
from citycarbon.web.security import new_prelogin_value as _new_prelogin

WEB_DIR = Path(__file__).parent
TEMPLATES_DIR = WEB_DIR / "templates"
STATIC_DIR = WEB_DIR / "static"
log = logging.getLogger("citycarbon.web")


class CachedStaticFiles(StaticFiles):
    """Static files with a Cache-Control header; URLs carry ``?v=<content hash>`` so changes are refetched."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers["Cache-Control"] = "public, max-age=86400"
        return response

    async def get_response(self, path: str, scope: Scope) -> Response:
        return await super().get_response(path, scope)


@cache
def _asset_version(path: str) -> str:
    file = STATIC_DIR / path
    if not file.is_file():
        return "missing"
    return hashlib.sha256(file.read_bytes()).hexdigest()[:12]


def static_url(path: str) -> str:
    return f"/static/{path}?v={_asset_version(path)}"


def _environment(locale: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES_DIR),
        autoescape=jinja2.select_autoescape(("html", "xml")),
        extensions=["jinja2.ext.i18n"],
        undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True,
    )
    env.install_gettext_translations(load_translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.globals["static"] = static_url
    return env


@dataclass
class WebState:
    """Everything the page handlers share (kept on ``app.state.web``)."""

    settings: Settings
    source: DataSource
    envs: dict[str, jinja2.Environment] = field(default_factory=dict)
    city_names: dict[str, str] = field(default_factory=dict)
    #: feature page modules mounted from web/routes/ (their nav entries show only when mounted)
    features: set[str] = field(default_factory=set)
    _db: Any = None

    def db(self):
        """The store's :class:`~citycarbon.store.db.Database` (the API's one when it set ``app.state.db``)."""
        if self._db is None:
            from citycarbon.store.db import Database

            self._db = Database(self.settings)
        return self._db


def web_state(request: Request) -> WebState:
    return request.app.state.web


def locale_of(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.cookies.get(LANG_COOKIE))


def year_param(text: str | None, request: Request) -> int:
    """A page's ``?year=``: the value when it is a year 2000–2100, else the data's latest year (last calendar year
    behind a bare app without data)."""
    try:
        value = int(text or "")
    except ValueError:
        value = 0
    if 2000 <= value <= 2100:
        return value
    try:
        return int(web_state(request).source.snapshot().latest_year())
    except Exception:  # no data behind a bare app: last year
        from datetime import date

        return date.today().year - 1


def nav_permissions(principal: Principal | None) -> dict[str, bool]:
    """Which navigation entries the caller sees (the pages check again on every request)."""
    if principal is None:
        return {}
    return {
        "cockpit": True, "targets": True, "accounting": True, "decomposition": True, "sinks": True,
        "districts": principal.city_wide or principal.role == "district",
        "imports": principal.can_import_statistics(),
        "approve": principal.can_approve_import(),
        "users": principal.can_manage_users(),
        "audit": principal.can_read_audit(),
        # pathways: city-wide analysis (admin, analyst) and the public scenarios for viewers
        "pathways": principal.role in ("admin", "analyst", "viewer"),
        # monitoring: the office and analysts (all units), districts (their units), enterprises (their own)
        "monitoring": principal.role in ("admin", "analyst", "district", "enterprise"),
        # running the plan (issue 14): the office, analysts, viewers, and the units that file (departments, districts)
        "governance": principal.role in ("admin", "analyst", "viewer", "district", "department"),
        # the project gate (issue 15): every role (scoped in services.projects: enterprises their own projects,
        # districts their districts', viewers the pipeline's aggregate); the energy-project registry: all but
        # enterprise users
        "projects": True,
        "energy_projects": principal.can_read_energy_projects(),
        # assessment and the yearly reports (issue 16): every role but enterprise users (scoped in
        # services.assessment / services.reports: units their own drafts, viewers the published results)
        "assessment": principal.role != "enterprise",
        "reports": principal.role != "enterprise",
    }


#: nav entries that belong to a feature router module of web/routes/ (shown only when it is mounted)
FEATURE_PAGES = frozenset({"pathways", "monitoring", "governance", "projects", "energy_projects", "assessment",
                           "reports"})


def _nav(state: WebState, principal: Principal | None) -> dict[str, bool]:
    return {key: allowed and (key not in FEATURE_PAGES or key in state.features)
            for key, allowed in nav_permissions(principal).items()}


def render(request: Request, template: str, context: dict | None = None, *, session: Any = None,
           status_code: int = 200) -> HTMLResponse:
    """Render ``template`` in the caller's language with the common context (nav, CSRF token, formatter).

    ``session``: the caller's web session (``SessionState``); its CSRF token goes into every form. Without
    one (the login page) the token is bound to a pre-login cookie, set here when missing.
    """
    state = web_state(request)
    locale = locale_of(request)
    env = state.envs[locale]
    principal = getattr(session, "principal", None)
    set_prelogin = None
    if session is not None and getattr(session, "csrf_token", None):
        csrf = session.csrf_token
    else:
        binding = request.cookies.get(PRELOGIN_COOKIE)
        if binding is None:
            binding = set_prelogin = _new_prelogin()
        csrf = csrf_token_for(state.settings, binding)
    path = request.url.path
    other = "en" if locale == "zh_CN" else "zh_CN"
    can = _nav(state, principal)
    ctx = {
        "request_path": path, "locale": locale, "html_lang": "zh-CN" if locale == "zh_CN" else "en",
        "other_locale": other, "switch_url": f"{path}?lang={other}" + _keep_query(request),
        "principal": principal, "can": can, "fmt": Formatter(locale), "unread": _unread(state, principal, can),
        "csrf_field": CSRF_FIELD, "csrf_token": csrf,
        "city_name": _city_name(state, locale), "is_htmx": request.headers.get("HX-Request") == "true",
    }
    ctx.update(context or {})
    html = env.get_template(template).render(ctx)
    response = HTMLResponse(html, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if "lang" in request.query_params and request.query_params["lang"] in LOCALES:
        response.set_cookie(LANG_COOKIE, locale, max_age=365 * 24 * 3600, samesite="strict", path="/",
                            secure=state.settings.cookie_secure)
    if set_prelogin:
        response.set_cookie(PRELOGIN_COOKIE, set_prelogin, max_age=3600, **cookie_options(state.settings))
    return response


def _unread(state: WebState, principal: Principal | None, can: dict[str, bool]) -> int:
    """The caller's unread inbox messages (issue 14), for the nav's badge: 0 without the governance pages."""
    if principal is None or not can.get("governance") or state._db is None:  # no store behind a bare web app
        return 0
    from citycarbon.services.governance import inbox

    try:
        return inbox.unread_count(state._db, principal, str(state.source.city))
    except Exception:  # the badge never breaks a page (a store without the governance tables, a bare web app)
        return 0


def _keep_query(request: Request) -> str:
    kept = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
    return "".join(f"&{k}={v}" for k, v in kept)


def _city_name(state: WebState, locale: str) -> str:
    """The city's name in ``locale`` (from the plan; read once)."""
    if locale not in state.city_names:
        state.city_names[locale] = _read_city_name(state, locale)
    return state.city_names[locale]


def _read_city_name(state: WebState, locale: str) -> str:
    from citycarbon.plan import load_plan

    plan = load_plan(state.settings.city)
    if locale == DEFAULT_LOCALE:
        return plan.meta.city
    return getattr(plan.meta, "city_en", None) or state.settings.city.title()


def login_redirect(request: Request, target: str | None = None) -> Response:
    """Send the caller to the login page (or ``target``); an HTMX request gets an ``HX-Redirect``."""
    target = target or "/login?next=" + request.url.path
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=204, headers={"HX-Redirect": target})
    return RedirectResponse(target, status_code=303)


#: the error page's variant (``error.html``'s ``error_kind``) for an HTTP status
ERROR_KINDS = {403: "forbidden", 404: "not_found", 405: "not_found", 410: "not_found"}


def error_page(request: Request, status: int, *, problem: Any = None, request_id: str | None = None) -> Response:
    """The cockpit's error page for ``status`` in the caller's language (the application's error handlers call
    it for every path outside ``/api``): 403 "not for your role", 404 "not found", 5xx "server error" naming
    the request id (never a traceback), anything else (400, 409, 413, 422) "could not be done" with the
    problem in the page's language."""
    from datetime import UTC, datetime

    from citycarbon.web.backend import current_session, localized

    try:
        session = current_session(request)
    except Exception:  # the error may be the database itself: the page is shown without the user's menu
        log.warning("no session for the error page (request id %s)", request_id)
        session = None
    kind = "server" if status >= 500 else ERROR_KINDS.get(status, "bad_request")
    message = getattr(problem, "message", None)
    context = {"error_kind": kind, "now": datetime.now(UTC), "request_id": request_id,
               "problem_text": localized(message, locale_of(request)) if message and kind == "bad_request" else None}
    return render(request, "error.html", context, session=session, status_code=status)


def install(app: FastAPI, settings: Settings, *, source: DataSource | None = None) -> None:
    import importlib
    import pkgutil

    from citycarbon.web import routes
    from citycarbon.web.backend import LoginRequired

    @app.exception_handler(LoginRequired)
    async def _login_required(request: Request, exc: LoginRequired) -> Response:
        return login_redirect(request, exc.target)

    state = WebState(settings=settings, source=source or default_source(app, settings))
    state.envs = {locale: _environment(locale) for locale in LOCALES}
    if getattr(app.state, "db", None) is not None:
        state._db = app.state.db
    app.state.web = state
    app.state.error_page = error_page  # the application's error handlers render web paths' errors with it
    app.mount("/static", CachedStaticFiles(directory=STATIC_DIR), name="static")
    # the platform's routers first, then feature routers (pathways, monitoring, …) found in web/routes/
    core = ["auth", "pages", "imports", "admin"]
    found = sorted(info.name for info in pkgutil.iter_modules(routes.__path__) if info.name not in core)
    for name in core + found:
        module = importlib.import_module(f"citycarbon.web.routes.{name}")
        router = getattr(module, "router", None)
        if router is not None:
            app.include_router(router)
            state.features.add(name)


def default_source(app: FastAPI, settings: Settings) -> DataSource:
    """The ledger through the API's per-version results (``app.state.results``) when the app has them, else
    the shipped reference files of ``settings.city``."""
    return DataSource(city=settings.city, results=getattr(app.state, "results", None))
