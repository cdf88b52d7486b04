"""The energy-project registry in the cockpit (issue 15 item 6).

``/energy-projects``                  the registry (filters: technology, group, stage, district), capacity by
                                      technology and stage, the 8 GW wind + solar progress bar with 序时进度, the
                                      pipeline chart by stage and expected year; for the office and districts the
                                      register form and the import (preview, then apply; the template is the API's
                                      workbook route, which takes the login session).
``/energy-projects/{energy_code}``    one project, its history and the stage form.

Every form is checked for the session's CSRF token; the service
(:mod:`citycarbon.services.projects.energy_projects`) applies the rules and audits; bad input re-shows the page
with the problems (file, sheet, row, column) in the page's language and writes nothing.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.writes import form_write, refused, upload_content

router = APIRouter(include_in_schema=False)
MAX_FILE_BYTES = 5_000_000
STAGE_NAMES = {"planned": ("规划", "Planned"), "approved": ("核准/备案", "Approved"),
               "construction": ("在建", "Under construction"), "grid_connected": ("已并网", "Grid-connected"),
               "retired": ("已退役", "Retired")}


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _refresh(request: Request) -> None:
    results = getattr(request.app.state, "results", None)
    if results is not None:
        results.refresh()  # the cockpit's wind + solar card sees the registry's new version at once


def _write_form(request: Request, session: Any, csrf_token: str, write: Callable[[Any], Any],
                page: Callable[..., Response]) -> Response:
    return form_write(request, session, csrf_token, write, page, after=_refresh)


def _may_edit(principal: Any) -> bool:
    """Whether to offer the register and import forms (the service decides each write)."""
    return bool(principal.can_write and principal.role in ("admin", "district"))


def _pipeline_chart(card: dict[str, Any], projects: list[Any], zh: bool) -> dict[str, Any]:
    """Wind + solar pipeline MW by expected year (planned_on), one stacked series per stage."""
    stages = ("approved", "construction", "planned")
    years = sorted({p.planned_on[:4] if p.planned_on else "—" for p in projects
                    if p.counts_wind_solar and p.stage in stages})
    series = []
    for stage in stages:
        data = [round(sum(p.capacity_mw for p in projects if p.counts_wind_solar and p.stage == stage
                          and (p.planned_on[:4] if p.planned_on else "—") == year), 1) for year in years]
        series.append({"name": STAGE_NAMES[stage][0 if zh else 1], "data": data})
    return {"type": "stacked", "categories": years, "series": series, "unit": "MW"}


def _by_technology(projects: list[Any], zh: bool) -> list[dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for p in projects:
        row = out.setdefault(p.technology, {"technology": p.technology,
                                            "name": p.technology_zh if zh else p.technology_en,
                                            **{s: 0.0 for s in STAGE_NAMES}, "count": 0})
        row[p.stage] += p.capacity_mw
        row["count"] += 1
    return sorted(out.values(), key=lambda r: r["technology"])


def _list_page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
               upload: dict[str, str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.projects import energy_projects as svc

    principal = session.principal
    city = _city(request)
    db = web_state(request).db()
    params = request.query_params
    filters = {k: (params.get(k) or None) for k in ("technology", "group", "stage", "district")}
    try:
        everything = svc.list_energy_projects(db, principal, city)
        shown = svc.list_energy_projects(db, principal, city, **filters)
        card = svc.wind_solar_status(db, principal, city)
    except Forbidden:
        return refused(request, session, "forbidden", 403)
    except InputError as error:
        problems = [*(problems or []), *error.problems]
        shown, card = [], svc.wind_solar_status(db, principal, city)
        everything = svc.list_energy_projects(db, principal, city)
        status_code = 422
    zh = locale_of(request).startswith("zh")
    return render(request, "energy_projects/list.html", {
        "projects": shown, "filters": filters, "card": card, "technologies": svc.technologies(),
        "stage_names": STAGE_NAMES, "by_technology": _by_technology(everything, zh),
        "pipeline_chart": _pipeline_chart(card, everything, zh), "result": result, "problems": problems or [],
        "upload": upload or {}, "may_edit": _may_edit(principal),
        "groups": sorted({t.group for t in svc.technologies().values()}),
    }, session=session, status_code=status_code)


@router.get("/energy-projects", response_class=HTMLResponse)
def list_page(request: Request, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _list_page(request, session)


@router.post("/energy-projects", response_class=HTMLResponse)
def register(request: Request, name: str = Form(""), technology: str = Form(""), region_code: str = Form(""),
             capacity_mw: str = Form(""), storage_mwh: str = Form(""), stage: str = Form("planned"),
             stage_on: str = Form(""), planned_on: str = Form(""), owner: str = Form(""), document: str = Form(""),
             source: str = Form(""), csrf_token: str = Form(""),
             session: Any = Depends(current_session)) -> Response:
    from citycarbon.projects.supply import STAGE_DATES
    from citycarbon.services.projects import energy_projects as svc

    values: dict[str, Any] = {"name": name, "technology": technology, "region_code": region_code,
                              "capacity_mw": capacity_mw, "storage_mwh": storage_mwh, "stage": stage or "planned",
                              "planned_on": planned_on, "owner": owner, "document": document, "source": source}
    if stage in STAGE_DATES:
        values[STAGE_DATES[stage]] = stage_on

    def write(db: Any) -> Any:
        return svc.register_energy_project(db, session.principal, _city(request), values)

    return _write_form(request, session, csrf_token, write, _list_page)


@router.post("/energy-projects/import", response_class=HTMLResponse)
async def import_projects(request: Request, file: UploadFile | None = File(None), content_b64: str = Form(""),
                          filename: str = Form(""), apply: str = Form(""), reason: str = Form(""),
                          csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import energy_projects as svc

    upload: dict[str, str] = {}
    problem: InputError | None = None
    content, name = b"", ""
    try:
        content, name = await upload_content(file, content_b64, filename, max_bytes=MAX_FILE_BYTES)
        upload = {"content_b64": base64.b64encode(content).decode("ascii"), "filename": name, "reason": reason}
    except InputError as error:
        problem = error

    def write(db: Any) -> Any:
        if problem is not None:
            raise problem
        return svc.import_energy_projects(db, session.principal, _city(request), content, name,
                                          apply=apply == "1", reason=reason)

    def shown(request: Request, session: Any, **kwargs: Any) -> Response:
        result = kwargs.get("result")
        keep = upload if result is not None and not result.applied else {}
        return _list_page(request, session, upload=keep, **kwargs)

    return await run_in_threadpool(_write_form, request, session, csrf_token, write, shown)


def _detail_page(code: str) -> Callable[..., Response]:
    def page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
             status_code: int = 200) -> Response:
        from citycarbon.services.projects import energy_projects as svc

        principal = session.principal
        try:
            project = svc.get_energy_project(web_state(request).db(), principal, _city(request), code)
        except Forbidden:
            return refused(request, session, "forbidden", 403)
        except NotFound:
            return refused(request, session, "not_found", 404)
        return render(request, "energy_projects/detail.html", {
            "p": project, "stage_names": STAGE_NAMES, "saved": result is not None, "problems": problems or [],
            "may_edit": principal.can_edit_energy_project(project.region_code),
            "is_office": principal.is_admin and principal.can_write,
        }, session=session, status_code=status_code)

    return page


@router.get("/energy-projects/{energy_code}", response_class=HTMLResponse)
def detail(request: Request, energy_code: str, session: Any = Depends(current_session)) -> Response:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return _detail_page(energy_code)(request, session)


@router.post("/energy-projects/{energy_code}/stage", response_class=HTMLResponse)
def stage(request: Request, energy_code: str, stage: str = Form(""), on: str = Form(""), version: str = Form(""),
          reason: str = Form(""), correction: str = Form(""), csrf_token: str = Form(""),
          session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.projects import energy_projects as svc

    def write(db: Any) -> Any:
        number = int(version) if version.strip().isdigit() else None
        return svc.move_stage(db, session.principal, _city(request), energy_code, stage, on=on or None,
                              version=number, reason=reason, correction=correction == "1")

    return _write_form(request, session, csrf_token, write, _detail_page(energy_code))
