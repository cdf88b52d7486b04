"""The organisation registry and the responsibility matrix in the cockpit (issue 14 items 1–2).

``/governance/orgs``                    the city's organisations (every role; a district user without the other
                                        districts); for the office: the import form (preview, then apply).
``/governance/orgs/{org_code}``         one organisation, its history (office and analysts), the measures it
                                        carries, and the office's edit form.
``/governance/matrix``                  the measures by task with their units named, filtered by task, unit or
                                        "no lead unit"; the office's import form; template and export downloads
                                        (the API's workbook routes, which take the login session).
``/governance/matrix/{measure_code}``   one measure with its history and the office's edit form.

Every form is checked for the session's CSRF token; the service (:mod:`citycarbon.services.governance.registry`)
applies the rules and audits; bad input re-shows the page with the problems in the page's language (file, row,
column) and writes nothing. A preview keeps the uploaded file in the confirm form (base64), so applying it sends
the very bytes that were previewed, validated again.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from citycarbon.errors import Forbidden, InputError, NotFound, Problem
from citycarbon.web.app import login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.writes import form_write, refused, upload_content

router = APIRouter(include_in_schema=False)


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _signed_in(request: Request, session: Any) -> Response | None:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return None


def _post(request: Request, session: Any, csrf_token: str, write: Callable[[Any], Any],
          page: Callable[..., Response]) -> Response:
    return form_write(request, session, csrf_token, write, page)


# ---- organisations -------------------------------------------------------------------------------------

def _orgs_page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
               upload: dict[str, str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.governance import registry

    principal = session.principal
    city = _city(request)
    try:
        orgs = registry.list_orgs(web_state(request).db(), principal, city, include_inactive=True)
    except Forbidden:
        return refused(request, session, "forbidden", 403)
    return render(request, "governance/orgs.html", {
        "orgs": orgs, "names": {o.code: o for o in orgs}, "result": result, "problems": problems or [],
        "upload": upload or {}, "can_manage": principal.can_manage_governance(city), "city": city,
    }, session=session, status_code=status_code)


@router.get("/governance/orgs", response_class=HTMLResponse)
def orgs_page(request: Request, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _orgs_page(request, session)


async def _upload_content(file: UploadFile | None, content_b64: str, filename: str) -> tuple[bytes, str]:
    """The file of the form: a new upload, or the previewed bytes the confirm form carries back."""
    from citycarbon.services.governance.registry import MAX_FILE_BYTES

    return await upload_content(file, content_b64, filename, max_bytes=MAX_FILE_BYTES)


def _import(page: Callable[..., Response], call: Callable[..., Any]) -> Callable[..., Any]:
    async def handler(request: Request, file: UploadFile | None = File(None), content_b64: str = Form(""),
                      filename: str = Form(""), apply: str = Form(""), reason: str = Form(""),
                      csrf_token: str = Form(""), session: Any = Depends(current_session)) -> Response:
        upload: dict[str, str] = {}
        problem: InputError | None = None
        content, name = b"", ""
        try:
            content, name = await _upload_content(file, content_b64, filename)
            upload = {"content_b64": base64.b64encode(content).decode("ascii"), "filename": name,
                      "reason": reason}
        except InputError as error:
            problem = error

        def write(db: Any) -> Any:
            if problem is not None:
                raise problem
            return call(db, session.principal, _city(request), content, name, apply=apply == "1", reason=reason)

        def shown(request: Request, session: Any, **kwargs: Any) -> Response:
            result = kwargs.get("result")
            keep = upload if result is not None and not result.applied else {}
            return page(request, session, upload=keep, **kwargs)

        return await run_in_threadpool(_post, request, session, csrf_token, write, shown)

    return handler


def _import_orgs(db: Any, principal: Any, city: str, content: bytes, name: str, **kwargs: Any) -> Any:
    from citycarbon.services.governance import registry

    return registry.import_orgs(db, principal, city, content, name, **kwargs)


router.add_api_route("/governance/orgs/import", _import(_orgs_page, _import_orgs), methods=["POST"],
                     response_class=HTMLResponse)


def _org_page(code: str) -> Callable[..., Response]:
    def page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
             form: dict[str, str] | None = None, status_code: int = 200) -> Response:
        from citycarbon.services.governance import registry

        principal = session.principal
        city = _city(request)
        db = web_state(request).db()
        try:
            detail = registry.get_org(db, principal, city, code)
            orgs = registry.list_orgs(db, principal, city)
        except Forbidden:
            return refused(request, session, "forbidden", 403)
        except NotFound:
            return refused(request, session, "not_found", 404)
        return render(request, "governance/org.html", {
            "detail": detail, "org": detail.org, "names": {o.code: o for o in orgs}, "saved": result is not None,
            "problems": problems or [], "kinds": _kinds(), "can_manage": principal.can_manage_governance(city),
        }, session=session, status_code=status_code)

    return page


def _kinds() -> list[str]:
    from citycarbon.governance.model import OrgKind

    return [kind.value for kind in OrgKind]


@router.get("/governance/orgs/{org_code}", response_class=HTMLResponse)
def org_page(request: Request, org_code: str, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _org_page(org_code)(request, session)


@router.post("/governance/orgs/{org_code}", response_class=HTMLResponse)
def edit_org(request: Request, org_code: str, name_zh: str = Form(""), name_en: str = Form(""),
             short_zh: str = Form(""), kind: str = Form(""), parent: str = Form(""), region_code: str = Form(""),
             active: str = Form("1"), reason: str = Form(""), csrf_token: str = Form(""),
             session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import registry

    changes = {"name_zh": name_zh, "name_en": name_en, "short_zh": short_zh, "kind": kind, "parent": parent,
               "region_code": region_code, "active": active != "0"}

    def write(db: Any) -> Any:
        return registry.edit_org(db, session.principal, _city(request), org_code, changes, reason=reason)

    return _post(request, session, csrf_token, write, _org_page(org_code))


# ---- the matrix ----------------------------------------------------------------------------------------

def _tasks(city: str) -> dict[int, Any]:
    from citycarbon.services.cities import plan_for

    try:
        return {task.number: task for task in plan_for(city).tasks}
    except Exception:  # a city without a loadable plan file shows task numbers only
        return {}


def _int(text: str | None) -> int | None:
    try:
        return int(text) if text else None
    except ValueError:
        return None


def _matrix_page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
                 upload: dict[str, str] | None = None, status_code: int = 200) -> Response:
    from citycarbon.services.governance import registry

    principal = session.principal
    city = _city(request)
    db = web_state(request).db()
    query = request.query_params
    task, org = _int(query.get("task")), (query.get("org") or None)
    unassigned = query.get("unassigned") == "1"
    try:
        measures = registry.list_measures(db, principal, city, task=task, org=org, unassigned=unassigned)
        orgs = registry.list_orgs(db, principal, city)
    except Forbidden:
        return refused(request, session, "forbidden", 403)
    by_task: dict[int, list[Any]] = {}
    for measure in measures:
        by_task.setdefault(measure.task, []).append(measure)
    return render(request, "governance/matrix.html", {
        "by_task": sorted(by_task.items()), "tasks": _tasks(city), "orgs": orgs, "names": {o.code: o for o in orgs},
        "filters": {"task": task, "org": org, "unassigned": unassigned}, "count": len(measures),
        "result": result, "problems": problems or [], "upload": upload or {},
        "can_manage": principal.can_manage_governance(city), "detail": principal.can_read_governance_detail(city),
    }, session=session, status_code=status_code)


@router.get("/governance/matrix", response_class=HTMLResponse)
def matrix_page(request: Request, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _matrix_page(request, session)


def _import_matrix(db: Any, principal: Any, city: str, content: bytes, name: str, **kwargs: Any) -> Any:
    from citycarbon.services.governance import registry

    return registry.import_matrix(db, principal, city, content, name, **kwargs)


router.add_api_route("/governance/matrix/import", _import(_matrix_page, _import_matrix), methods=["POST"],
                     response_class=HTMLResponse)


def _measure_page(code: str) -> Callable[..., Response]:
    def page(request: Request, session: Any, *, result: Any = None, problems: list[Problem] | None = None,
             status_code: int = 200) -> Response:
        from citycarbon.governance.model import TERRITORIAL_KINDS
        from citycarbon.services.governance import registry

        principal = session.principal
        city = _city(request)
        db = web_state(request).db()
        try:
            detail = registry.get_measure(db, principal, city, code)
            orgs = registry.list_orgs(db, principal, city)
        except Forbidden:
            return refused(request, session, "forbidden", 403)
        except NotFound:
            return refused(request, session, "not_found", 404)
        return render(request, "governance/measure.html", {
            "detail": detail, "m": detail.measure, "orgs": orgs, "names": {o.code: o for o in orgs},
            "territorial": [o for o in orgs if o.kind in {k.value for k in TERRITORIAL_KINDS}],
            "task": _tasks(city).get(detail.measure.task), "saved": result is not None, "problems": problems or [],
            "can_manage": principal.can_manage_governance(city),
        }, session=session, status_code=status_code)

    return page


@router.get("/governance/matrix/{measure_code}", response_class=HTMLResponse)
def measure_page(request: Request, measure_code: str, session: Any = Depends(current_session)) -> Response:
    return _signed_in(request, session) or _measure_page(measure_code)(request, session)


@router.post("/governance/matrix/{measure_code}", response_class=HTMLResponse)
def edit_measure(request: Request, measure_code: str, text_zh: str = Form(""), text_en: str = Form(""),
                 lead: str = Form(""), co_units: list[str] = Form(default_factory=list),
                 districts: list[str] = Form(default_factory=list), deadline: str = Form(""),
                 milestones: str = Form(""), ind_code: list[str] = Form(default_factory=list),
                 ind_name_zh: list[str] = Form(default_factory=list),
                 ind_name_en: list[str] = Form(default_factory=list), ind_unit: list[str] = Form(default_factory=list),
                 ind_target: list[str] = Form(default_factory=list), ind_year: list[str] = Form(default_factory=list),
                 ind_milestones: list[str] = Form(default_factory=list),
                 ind_status: list[str] = Form(default_factory=list), ind_source: list[str] = Form(default_factory=list),
                 reason: str = Form(""), csrf_token: str = Form(""),
                 session: Any = Depends(current_session)) -> Response:
    from citycarbon.services.governance import registry

    changes: dict[str, Any] = {"lead": lead, "co_units": co_units, "districts": districts, "deadline": deadline,
                               "milestones": ";".join(line for line in milestones.splitlines() if line.strip())}
    if text_zh:
        changes["text_zh"] = text_zh
    changes["text_en"] = text_en
    columns = (ind_code, ind_name_zh, ind_name_en, ind_unit, ind_target, ind_year, ind_milestones, ind_status,
               ind_source)
    width = max((len(c) for c in columns), default=0)
    rows = [[c[i] if i < len(c) else "" for c in columns] for i in range(width)]
    if rows:  # the form's indicator rows (a form without them leaves the indicators as they are)
        changes["indicators"] = [dict(zip(("code", "name_zh", "name_en", "unit", "target", "year", "milestones",
                                           "status", "source"), row, strict=True))
                                 for row in rows if any(value.strip() for value in row)]

    def write(db: Any) -> Any:
        return registry.edit_measure(db, session.principal, _city(request), measure_code, changes, reason=reason)

    return _post(request, session, csrf_token, write, _measure_page(measure_code))
