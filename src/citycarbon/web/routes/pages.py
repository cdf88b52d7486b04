"""Read-only cockpit pages: 驾驶舱, targets, accounting, districts, decomposition, sinks.

Every handler resolves the caller first (no session → the login page) and checks the page's permission with
:class:`Principal`; a district page of another district is answered like a missing one (404, no name).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from citycarbon.auth.principal import Principal
from citycarbon.errors import InputError, Problem
from citycarbon.services.energy_flow import METHODS
from citycarbon.web import views
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import Formatter

router = APIRouter(include_in_schema=False)
log = logging.getLogger("citycarbon.web")


def parse_year(value: str | None) -> int | None:
    """``?year=`` as an int; anything else is an :class:`InputError` (shown as the "no data" page)."""
    if value is None or value.strip() == "":
        return None
    text = value.strip()
    if not text.isdigit() or len(text) != 4:
        raise InputError(Problem("year must be a four-digit year", field="year", value=value))
    return int(text)


def visibility_key(principal: Principal) -> tuple:
    """What a view may differ by between callers: city-wide roles see all districts, district users theirs,
    everyone else the public aggregates. Views are cached per (data version, language, this key)."""
    if principal.city_wide:
        return ("all",)
    if principal.role == "district":
        return ("district", *sorted(principal.regions))
    return ("public",)


def caller(session) -> Principal | None:
    return getattr(session, "principal", None)


def _page(request: Request, session, template: str, build, *, allowed=lambda p: True, **kwargs) -> Response:
    principal = caller(session)
    if principal is None:
        pending = session is not None and getattr(session, "challenge", None) is not None
        return login_redirect(request, "/login/step" if pending else None)
    if not allowed(principal):
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    fmt = Formatter(locale_of(request))
    snapshot = web_state(request).source.snapshot()
    try:
        if "year" in kwargs:
            kwargs["year"] = parse_year(kwargs["year"])
        key = ("view", build.__name__, fmt.locale, visibility_key(principal), tuple(sorted(kwargs.items())))
        view = snapshot.source.memo(snapshot.version, key, lambda: build(snapshot, principal, fmt, **kwargs))
    except InputError as error:
        problem = error.problems[0] if getattr(error, "problems", None) else None
        return render(request, "error.html", {"error_kind": "no_data", "problem": problem,
                                              "years": list(snapshot.years())},
                      session=session, status_code=404)
    except Exception:  # a designed page instead of a bare 500; the log keeps the traceback
        log.exception("page %s failed", request.url.path)
        return render(request, "error.html", {"error_kind": "server", "now": datetime.now(UTC)}, session=session,
                      status_code=500)
    return render(request, template, {"view": view}, session=session)


@router.get("/", response_class=HTMLResponse)
def cockpit(request: Request, session=Depends(current_session)) -> Response:
    return _page(request, session, "cockpit.html", views.cockpit_view)


@router.get("/targets", response_class=HTMLResponse)
def targets(request: Request, session=Depends(current_session)) -> Response:
    return _page(request, session, "targets.html", views.targets_view)


@router.get("/accounting", response_class=HTMLResponse)
def accounting(request: Request, year: str | None = None, method: str | None = None,
               session=Depends(current_session)) -> Response:
    if method not in METHODS:  # the electricity method (发电煤耗法/当量值); anything else: the city's profile
        method = None
    return _page(request, session, "accounting.html", views.accounting_view, year=year, method=method)


@router.get("/districts", response_class=HTMLResponse)
def districts(request: Request, session=Depends(current_session)) -> Response:
    return _page(request, session, "districts.html", views.districts_view,
                 allowed=lambda p: p.city_wide or p.role == "district")


@router.get("/decomposition", response_class=HTMLResponse)
def decomposition(request: Request, measure: str = "co2", session=Depends(current_session)) -> Response:
    if measure not in ("co2", "energy"):
        measure = "co2"
    return _page(request, session, "decomposition.html", views.decomposition_view, measure=measure)


@router.get("/sinks", response_class=HTMLResponse)
def sinks(request: Request, year: str | None = None, session=Depends(current_session)) -> Response:
    return _page(request, session, "sinks.html", views.sinks_view, year=year)
