""""1+N" plans in the cockpit (issue 14 item 3): ``/governance/plans``.

``GET /governance/plans``                 the registered sector and district plans as a tree under the city
                                          plan, the consistency report (numbers and units), and for the office
                                          the upload form and the withdraw buttons.
``POST /governance/plans``                register (or replace) a plan from an uploaded YAML file (the office).
``GET /governance/plans/{plan_code}``     one plan: its targets, the measures it carries, its YAML.
``POST /governance/plans/{plan_code}/withdraw``  withdraw it (the office).

Every form is checked for the session's CSRF token; :mod:`citycarbon.services.governance.plans` applies the rules
and audits; bad input re-shows the page with the problems (422, file/line/field) and stores nothing.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool

from citycarbon.errors import Forbidden, InputError, NotFound
from citycarbon.web.app import locale_of, login_redirect, render, web_state
from citycarbon.web.backend import current_session
from citycarbon.web.i18n import translate_problem
from citycarbon.web.security import CsrfError, check_csrf

router = APIRouter(include_in_schema=False)
#: the largest file the form reads (the service refuses anything over its own limit, 1 MiB, with a problem)
READ_LIMIT = 2_000_000


def _city(request: Request) -> str:
    return str(web_state(request).source.city)


def _problems(error: InputError, locale: str) -> list[dict[str, str]]:
    """Each problem as (where: file and line, field, text in the page's language)."""
    zh = locale.startswith("zh")
    out = []
    for p in error.problems:
        where = [p.file] if p.file else []
        if p.row is not None:
            where.append(f"第 {p.row} 行" if zh else f"line {p.row}")
        out.append({"where": ("，" if zh else ", ").join(where), "field": p.field or "",
                    "text": p.message_zh if zh and p.message_zh else translate_problem(locale, p)})
    return out


def _tree(plans: list[Any], city: str) -> tuple[list[tuple[int, Any]], list[Any]]:
    """(depth, plan) in tree order under the city plan, and the plans whose parent is not registered."""
    children: dict[str, list[Any]] = {}
    for plan in plans:
        children.setdefault(plan.parent, []).append(plan)
    ordered: list[tuple[int, Any]] = []
    seen: set[str] = set()

    def walk(parent: str, depth: int) -> None:
        for plan in sorted(children.get(parent, []), key=lambda p: (p.kind, p.code)):
            if plan.code in seen:
                continue
            seen.add(plan.code)
            ordered.append((depth, plan))
            walk(plan.code, depth + 1)

    walk(city, 1)
    return ordered, [p for p in plans if p.code not in seen]


def _signed_in(request: Request, session: Any) -> Response | None:
    if getattr(session, "principal", None) is None:
        return login_redirect(request)
    return None


def _page(request: Request, session: Any, *, notice: str | None = None, errors: list[dict] | None = None,
          status_code: int = 200) -> Response:
    from citycarbon.services.cities import plan_for
    from citycarbon.services.governance import plans as service

    principal = session.principal
    city = _city(request)
    db = web_state(request).db()
    try:
        registered = service.list_plans(db, principal, city)
        report = service.check_plans(db, principal, city)
    except Forbidden:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    tree, orphans = _tree(registered, city)
    return render(request, "governance/plans.html", {
        "city_plan": plan_for(city, db).meta, "city_code": city, "tree": tree, "orphans": orphans,
        "report": report, "notice": notice, "errors": errors or [],
        "can_manage": principal.can_manage_governance(city),
    }, session=session, status_code=status_code)


@router.get("/governance/plans", response_class=HTMLResponse)
def plans_page(request: Request, session=Depends(current_session)) -> Response:
    return _signed_in(request, session) or _page(request, session)


@router.get("/governance/plans/{plan_code}", response_class=HTMLResponse)
def plan_page(request: Request, plan_code: str, session=Depends(current_session)) -> Response:
    from citycarbon.services.governance import plans as service

    refused = _signed_in(request, session)
    if refused:
        return refused
    city = _city(request)
    try:
        plan = service.get_plan(web_state(request).db(), session.principal, city, plan_code)
    except Forbidden:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    except NotFound:
        return render(request, "error.html", {"error_kind": "not_found"}, session=session, status_code=404)
    return render(request, "governance/plan.html", {"plan": plan, "city_code": city}, session=session)


def _write(request: Request, session: Any, csrf_token: str, write: Any, notice: str) -> Response:
    refused = _signed_in(request, session)
    if refused:
        return refused
    try:
        check_csrf(web_state(request).settings, request, session, csrf_token)
    except CsrfError:
        return render(request, "error.html", {"error_kind": "csrf"}, session=session, status_code=403)
    try:
        write(web_state(request).db())
    except Forbidden:
        return render(request, "error.html", {"error_kind": "forbidden"}, session=session, status_code=403)
    except NotFound:
        return render(request, "error.html", {"error_kind": "not_found"}, session=session, status_code=404)
    except InputError as error:
        return _page(request, session, errors=_problems(error, locale_of(request)), status_code=422)
    return _page(request, session, notice=notice)


@router.post("/governance/plans", response_class=HTMLResponse)
async def register_plan(request: Request, file: UploadFile | None = File(None), reason: str = Form(""),
                        csrf_token: str = Form(""), session=Depends(current_session)) -> Response:
    from citycarbon.services.governance import plans as service

    content = b""
    filename = "plan.yaml"
    if file is not None and file.filename:
        content = await file.read(READ_LIMIT + 1)
        filename = file.filename[:255]

    def write(db: Any) -> object:
        if not content:
            from citycarbon.errors import Problem

            if not session.principal.can_manage_governance(_city(request)):
                raise Forbidden("only the office registers plans")
            raise InputError(Problem("choose the plan file (YAML)", field="file",
                                     message_zh="请选择方案文件（YAML）"))
        return service.register_plan(db, session.principal, _city(request), content, filename=filename,
                                     reason=reason)

    return await run_in_threadpool(_write, request, session, csrf_token, write, "registered")


@router.post("/governance/plans/{plan_code}/withdraw", response_class=HTMLResponse)
def withdraw_plan(request: Request, plan_code: str, reason: str = Form(""), csrf_token: str = Form(""),
                  session=Depends(current_session)) -> Response:
    from citycarbon.services.governance import plans as service

    def write(db: Any) -> object:
        return service.withdraw_plan(db, session.principal, _city(request), plan_code, reason=reason)

    return _write(request, session, csrf_token, write, "withdrawn")
