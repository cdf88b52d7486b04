"""The budget check of a project and the pipeline chart (issue 15 item 4 and the pipeline chart of item 7).

``/projects/pipeline``              pending and approved projects against the remaining room of a year (2025,
                                    2030): a stacked bar chart by district (approved, pending) beside the room,
                                    and the same figures as tables (by district, by industry division)
``/projects/{project_code}/budget`` a project's with/without table for the city and its district in 2025 and
                                    2030: dual-control total, intensity and its fall vs the target, CO2, CO2
                                    intensity, the warning levels

The module is named ``project_budget`` so that it is mounted before ``projects`` (modules are mounted in
alphabetical order): ``/projects/pipeline`` is matched here before a ``/projects/{code}`` page could take it.
The partial ``projects/_budget_summary.html`` renders the compact "effect on the 2025 energy-intensity target"
box from a context variable ``budget`` (what :func:`citycarbon.services.projects.budget.budget_check` returns);
the registry's project page includes it. Scope and refusals are the service's.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session

router = APIRouter(include_in_schema=False)
YEARS = (2025, 2030)


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _refused(request: Request, session: Any, kind: str, status: int) -> Response:
    return render(request, "error.html", {"error_kind": kind}, session=session, status_code=status)


def _year(request: Request) -> int:
    raw = request.query_params.get("year", "")
    return int(raw) if raw.isdigit() and int(raw) in YEARS else YEARS[0]


def pipeline_chart(found: dict[str, Any], zh: bool) -> dict[str, Any]:
    """The chart's data (drawn by static/js/project_pipeline.js): districts, approved and pending tce counted
    in the year (10⁴ tce) and the room before any project (None where the target is not set)."""
    rows = found["regions"]
    return {
        "categories": [r["name_zh"] if zh else r["name_en"] for r in rows],
        "approved": [round(r["approved_tce"] / 1e4, 4) for r in rows],
        "pending": [round(r["pending_tce"] / 1e4, 4) for r in rows],
        "room": [None if r["room"] is None or r["room"]["room"] is None else round(r["room"]["room"] / 1e4, 4)
                 for r in rows],
    }


@router.get("/projects/pipeline", response_class=HTMLResponse)
def pipeline_page(request: Request, session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import budget

    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    year = _year(request)
    try:
        found = budget.pipeline(web_state(request).db(), session.principal, _city(request), year=year)
    except Forbidden:
        return _refused(request, session, "forbidden", 403)
    except NotFound:
        return _refused(request, session, "not_found", 404)
    zh = locale_of(request).startswith("zh")
    return render(request, "projects/pipeline.html", {"pipeline": found, "year": year, "years": YEARS,
                                                       "chart": pipeline_chart(found, zh), "zh": zh},
                  session=session)


@router.get("/projects/{project_code}/budget", response_class=HTMLResponse)
def budget_page(request: Request, project_code: str, session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import budget

    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    try:
        found = budget.budget_check(web_state(request).db(), session.principal, _city(request), project_code)
    except Forbidden:
        return _refused(request, session, "forbidden", 403)
    except NotFound:
        return _refused(request, session, "not_found", 404)
    except InputError as error:
        return render(request, "error.html", {"error_kind": "bad_request",
                                              "problem_text": "; ".join(p.message_zh or p.message
                                                                        for p in error.problems)},
                      session=session, status_code=422)
    return render(request, "projects/budget.html", {"budget": found, "zh": locale_of(request).startswith("zh")},
                  session=session)
