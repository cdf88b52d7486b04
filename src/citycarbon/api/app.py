"""The FastAPI application: ``create_app(settings)``.

* At start-up ``citycarbon.services.admin.ensure_ready(settings)`` migrates the database and seeds the reference
  city on first start; unfinished jobs of a previous process are marked failed (see :mod:`citycarbon.services.jobs`).
* Routers are discovered: every module in ``citycarbon/api/routers/`` exposing ``router: APIRouter`` is
  mounted under ``/api/v1`` (no list to edit). A module may also expose ``PERMISSIONS`` (see
  ``docs/api.md``): the permission-matrix test requires an entry for every route.
* ``/healthz``: database reachable, migrations current, ledger version (503 when not ready).
* ``/openapi.json`` is served; the interactive docs pages are disabled (FastAPI's default pages load
  Swagger/ReDoc from a CDN, and the product makes no outbound calls).
* Every response carries security headers (CSP ``default-src 'self'``, no inline script; nosniff, frame
  DENY, Referrer-Policy, Permissions-Policy; HSTS only on HTTPS requests); request bodies are limited
  (413); one JSON log line per request. CORS is closed unless ``CITYCARBON_CORS_ORIGINS`` lists origins.
* ``citycarbon.web.mount(app, settings)`` adds the cockpit when the web package is installed.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import pkgutil
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from citycarbon import __version__
from citycarbon.api import errors, openapi
from citycarbon.api.logging import configure as configure_logging
from citycarbon.api.middleware import RequestMiddleware
from citycarbon.services.jobs import JobRunner
from citycarbon.services.pathways import PathwayService
from citycarbon.services.results import Results
from citycarbon.settings import Settings

API_PREFIX = "/api/v1"
#: request-body limit (bytes) unless CITYCARBON_MAX_BODY_MB says otherwise; uploads are CSV/Excel tables
DEFAULT_MAX_BODY_MB = 20

log = logging.getLogger("citycarbon.api")


class Health(BaseModel):
    status: str
    database: str
    migration: str | None
    migration_head: str | None
    migration_current: bool
    ledger_version: int | None
    version: str


def router_modules() -> list[str]:
    """Names of the router modules in ``citycarbon.api.routers`` (alphabetical)."""
    from citycarbon.api import routers

    return sorted(info.name for info in pkgutil.iter_modules(routers.__path__) if not info.name.startswith("_"))


def discover_routers() -> list[tuple[str, APIRouter]]:
    found = []
    for name in router_modules():
        module = importlib.import_module(f"citycarbon.api.routers.{name}")
        router = getattr(module, "router", None)
        if isinstance(router, APIRouter):
            found.append((name, router))
    return found


def _env(settings: Settings, name: str) -> str | None:
    return settings.extra.get(name) or os.environ.get(name)


def max_body_bytes(settings: Settings) -> int:
    raw = _env(settings, "CITYCARBON_MAX_BODY_MB")
    megabytes = float(raw) if raw else DEFAULT_MAX_BODY_MB
    if megabytes <= 0:
        raise ValueError(f"CITYCARBON_MAX_BODY_MB={raw!r}: must be positive")
    return int(megabytes * 1024 * 1024)


def cors_origins(settings: Settings) -> list[str]:
    raw = _env(settings, "CITYCARBON_CORS_ORIGINS") or ""
    origins = [o.strip() for o in raw.split(",") if o.strip()]
    if "*" in origins:
        raise ValueError("CITYCARBON_CORS_ORIGINS must list origins; '*' is refused (credentials are used)")
    return origins


def _warm(results: Results) -> None:
    """Compute accounting and tracking of the current ledger version so the first visitor waits for nothing."""
    try:
        results.warm()
    except Exception:  # warming is an optimisation; the first request computes (and reports) instead
        log.exception("warming the results cache failed")


def create_app(settings: Settings | None = None, *, prepare: bool = True, web: bool = True,
               warm: bool = True) -> FastAPI:
    """The citycarbon web application for ``settings`` (default: from the environment).

    ``prepare=False`` skips migrate-and-seed at start-up (tests that prepared the database themselves);
    ``web=False`` serves the API only (API tests; a headless deployment); ``warm=False`` skips computing the
    everyday results in a background thread at start-up (tests)."""
    settings = settings or Settings.from_env()
    configure_logging()
    from citycarbon.store.db import Database

    db = Database(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if prepare:
            from citycarbon.services.admin import ensure_ready

            ensure_ready(settings).dispose()
        app.state.jobs.recover()
        warmer = None
        if warm:
            warmer = threading.Thread(target=_warm, args=(app.state.results,), name="citycarbon-warm", daemon=True)
            warmer.start()
        yield
        if warmer is not None:  # a daemon thread still inside native code (DuckDB, numpy) when the interpreter
            warmer.join()       # finalises aborts the process ("terminate called without an active exception")
        app.state.jobs.shutdown()
        db.dispose()

    app = FastAPI(title="citycarbon API", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  swagger_ui_oauth2_redirect_url=None, openapi_url="/openapi.json",
                  description="碳达峰碳中和工作方案 platform API. Envelope `{meta, data}`; errors "
                              "`{error: {code, message, problems}}`; see docs/api.md.")
    app.state.settings = settings
    app.state.db = db
    app.state.results = Results(db, settings.city)
    app.state.pathways = PathwayService(settings.city, loader=app.state.results.current_dataset)
    app.state.jobs = JobRunner(db)
    from citycarbon.services.monitoring import MonitoringService

    app.state.monitoring = MonitoringService(settings, db)  # monitoring's caches live with the app
    errors.install(app)

    for _name, router in discover_routers():
        app.include_router(router, prefix=API_PREFIX, responses=errors.ERROR_RESPONSES)
    openapi.install(app, API_PREFIX)  # the document's error answers, security and markers; 405 with Allow

    head: list[str | None] = []  # the shipped head revision, read once (parsing the scripts takes ~25 ms)

    @app.get("/healthz", response_model=Health, tags=["operations"],
             responses={503: {"model": Health, "description": "not ready"}})
    def healthz(request: Request) -> JSONResponse:
        """Database reachable, schema migrated to the newest revision, the ledger's version."""
        body = {"status": "ok", "database": "ok", "migration": None, "migration_head": None,
                "migration_current": False, "ledger_version": None, "version": __version__}
        try:
            body["migration"] = db.current_revision()
            if not head:
                head.append(db.head_revision())
            body["migration_head"] = head[0]
            body["migration_current"] = body["migration"] == body["migration_head"]
            if body["migration_current"]:
                body["ledger_version"] = request.app.state.results.refresh()
        except Exception as error:  # any failure means "not healthy"; the log names its class
            log.warning("health check failed: %s", error.__class__.__name__)
            body["database"] = "unreachable"
        if body["database"] != "ok" or not body["migration_current"]:
            body["status"] = "unavailable"
            return JSONResponse(body, status_code=503)
        return JSONResponse(body)

    origins = cors_origins(settings)
    if origins:
        from fastapi.middleware.cors import CORSMiddleware

        app.add_middleware(CORSMiddleware, allow_origins=origins, allow_credentials=True,
                           allow_methods=["GET", "POST", "PATCH", "DELETE"],
                           allow_headers=["Authorization", "Content-Type", "X-CSRF-Token"])
    app.add_middleware(RequestMiddleware, max_body_bytes=max_body_bytes(settings), hsts=settings.cookie_secure,
                       trust_proxy_headers=settings.trust_proxy_headers)

    if web and importlib.util.find_spec("citycarbon.web") is not None:
        pages = importlib.import_module("citycarbon.web")
        if hasattr(pages, "mount"):  # a namespace package (only static assets) has no pages to mount
            pages.mount(app, settings)
    return app
